"""Staff authentication for the admin API and pages: bearer tokens or a session cookie."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from typing import Annotated

from fastapi import Depends, Request
from starlette.requests import HTTPConnection

from bot.errors import AuthError, ForbiddenError, RateLimitedError
from bot.staff import StaffStore, StaffUser

COOKIE = "jiangan_admin"


class LoginLimiter:
    """At most `attempts` failed log-ins per (client, username) and per client in `window_s`."""

    def __init__(self, attempts: int = 5, window_s: float = 300.0, per_client: int = 20) -> None:
        self.attempts, self.window_s, self.per_client = attempts, window_s, per_client
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._failures[key]  # created on first use; emptied ones are dropped on success
        while q and q[0] < now - self.window_s:
            q.popleft()
        return q

    def attempt(self, client: str, username: str) -> None:
        """Count a log-in attempt, or refuse it when too many failed recently.

        Counted before the (slow) password check, so parallel guesses cannot all slip in.
        """
        now = time.monotonic()
        pair_key = f"{client}|{username.lower()}"
        with self._lock:
            pair = self._recent(pair_key, now)
            everyone = self._recent(client, now)
            if len(pair) >= self.attempts or len(everyone) >= self.per_client:
                oldest = min(pair[0] if pair else now, everyone[0] if everyone else now)
                raise RateLimitedError(
                    "too many failed log-ins; try again later",
                    retry_after=max(1, int(oldest + self.window_s - now) + 1),
                    message_zh="登录失败次数过多，请稍后再试",
                )
            pair.append(now)
            everyone.append(now)

    def succeeded(self, client: str, username: str) -> None:
        """A correct password: this attempt and the user's earlier failures no longer count."""
        with self._lock:
            self._failures.pop(f"{client}|{username.lower()}", None)
            everyone = self._failures.get(client)
            if everyone:
                everyone.pop()
            for key in [k for k, q in self._failures.items() if not q]:
                del self._failures[key]


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
