"""Staff authentication for the admin API and pages: bearer tokens or a session cookie."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.requests import HTTPConnection

from bot.errors import AuthError, ForbiddenError
from bot.staff import StaffStore, StaffUser

COOKIE = "jiangan_admin"


def token_of(request: HTTPConnection) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.cookies.get(COOKIE) or None


def _staff_store(request: Request) -> StaffStore:
    return request.app.state.staff  # type: ignore[no-any-return]


async def get_staff_store(request: Request) -> StaffStore:
    # async: a plain `def` dependency would cost every request a hop to the thread pool
    return _staff_store(request)


_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def same_origin(request: HTTPConnection) -> bool:
    """Whether a browser request comes from this server's own pages: `Sec-Fetch-Site:
    same-origin`, else an `Origin` (or, without one, a `Referer`) equal to the server's
    origin. SameSite=Strict cookies still go with requests from sibling origins of the
    same site (a page on another subdomain), so the cookie alone proves nothing."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site == "same-origin"
    own = f"{request.url.scheme}://{request.url.netloc}"
    origin = request.headers.get("origin")
    if origin is not None:
        return origin == own
    referer = request.headers.get("referer", "")
    return referer == own or referer.startswith(own + "/")


def current_staff(request: Request) -> StaffUser:
    token = token_of(request)
    user = _staff_store(request).user_for(token) if token else None
    if user is None:
        raise AuthError("log in first (Authorization: Bearer <token>)", message_zh="请先登录")
    by_cookie = not request.headers.get("authorization", "").lower().startswith("bearer ")
    if by_cookie and request.method not in _SAFE_METHODS and not same_origin(request):
        raise ForbiddenError(
            "a change signed in by cookie must come from this server's own pages",
            message_zh="请求来源不符：请在本站管理页面中操作",
        )
    return user


def require(role: str):  # type: ignore[no-untyped-def]
    """A dependency that lets through staff with `role` (or a stronger one)."""

    def check(user: Annotated[StaffUser, Depends(current_staff)]) -> StaffUser:
        if not user.may(role):
            raise ForbiddenError(
                f"this needs the {role} role", message_zh=f"此操作需要 {role} 角色"
            )
        return user

    return check


StaffDep = Annotated[StaffStore, Depends(get_staff_store)]
Editor = Annotated[StaffUser, Depends(require("editor"))]
Admin = Annotated[StaffUser, Depends(require("admin"))]
