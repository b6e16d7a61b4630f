"""Staff API: log-in and accounts (documents, FAQ and insight routes build on these)."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse

from bot.config import Settings
from web.deps import AssistantDep
from web.schemas import (
    ErrorResponse,
    LoginRequest,
    LoginResponse,
    StaffCreate,
    StaffPublic,
)
from web.security import COOKIE, Admin, Editor, StaffDep, token_of
from web.settings_zh import DESCRIPTIONS_ZH

router = APIRouter(prefix="/api/admin", tags=["admin"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse},
    403: {"model": ErrorResponse},
}


@router.post(
    "/login",
    response_model=LoginResponse,
    responses={401: {"model": ErrorResponse}, 429: {"model": ErrorResponse}},
)
async def login(
    body: LoginRequest, request: Request, response: Response, staff: StaffDep
) -> LoginResponse:
    """Exchange a username and password for a bearer token (also set as a session cookie)."""
    limiter = request.app.state.login_limiter
    client = request.client.host if request.client else "?"
    await limiter.attempt(client, body.username)
    token, user = await run_in_threadpool(staff.login, body.username, body.password)
    await limiter.succeeded(client, body.username)
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        max_age=int(staff.token_s),
        path="/",
    )
    return LoginResponse(token=token, username=user.username, role=user.role)


@router.post("/logout", status_code=204, responses=_ERRORS)
async def logout(request: Request, response: Response, user: Editor, staff: StaffDep) -> None:
    """End this log-in."""
    token = token_of(request)
    if token:
        staff.logout(token)
    response.delete_cookie(COOKIE, path="/")


@router.get("/me", response_model=StaffPublic, responses=_ERRORS)
async def me(user: Editor) -> StaffPublic:
    """Who is logged in."""
    return StaffPublic(username=user.username, role=user.role)


@router.get("/users", response_model=list[StaffPublic], responses=_ERRORS)
async def list_users(user: Admin, staff: StaffDep) -> list[StaffPublic]:
    """All staff accounts (admins only)."""
    return [StaffPublic(username=u.username, role=u.role) for u in staff.users()]


@router.post(
    "/users",
    response_model=StaffPublic,
    status_code=201,
    responses={**_ERRORS, 409: {"model": ErrorResponse}, 422: {"model": ErrorResponse}},
)
async def create_user(
    body: StaffCreate, request: Request, user: Admin, staff: StaffDep
) -> StaffPublic:
    """Create an editor or admin account (admins only)."""
    created = await run_in_threadpool(staff.create, body.username, body.password, body.role)
    request.app.state.audit.record(
        user.username, "create_user", created.username, detail=created.role
    )
    return StaffPublic(username=created.username, role=created.role)


@router.delete(
    "/users/{username}",
    responses={**_ERRORS, 404: {"model": ErrorResponse}, 409: {"model": ErrorResponse}},
)
async def delete_user(
    username: str, request: Request, user: Admin, staff: StaffDep
) -> dict[str, str]:
    """Remove an account and end its log-ins (admins only; not yourself, not the last admin)."""
    await run_in_threadpool(staff.delete, username, user.username)
    request.app.state.audit.record(user.username, "delete_user", username)
    return {"deleted": username}


_SECRETS = {
    "llm_api_key",
    "admin_password",
    "metrics_token",
    "chroma_headers",
    "wechat_secret",
    "wechat_token",
    "wechat_aes_key",
    "wecom_token",
    "wecom_aes_key",
    "wecom_secret",
}


@router.get("/settings", responses=_ERRORS)
async def settings_view(request: Request, user: Admin, assistant: AssistantDep) -> dict[str, Any]:
    """The running configuration (secrets masked) and the size of the knowledge base."""
    settings: Settings = request.app.state.settings
    rows = []
    for name, info in Settings.model_fields.items():
        value = getattr(settings, name)
        shown = "******" if name in _SECRETS and value else str(value)
        if isinstance(value, str):  # https://user:key@host/… → https://******@host/…
            shown = re.sub(r"(?<=://)[^/@\s]+@", "******@", shown)
        rows.append(
            {
                "name": f"BOT_{name.upper()}",
                "value": shown,
                "description": info.description or "",
                "description_zh": DESCRIPTIONS_ZH.get(name, ""),
            }
        )
    documents, chunks = assistant.stats

    def counts() -> dict[str, int]:
        return {
            "documents": documents,
            "chunks": chunks,
            "faq_entries": len(request.app.state.faq.entries()),
            "uploads": request.app.state.library.live_count(),
            "questions_30d": len(assistant.questions.since(30)),
        }

    return {"settings": rows, "stats": await run_in_threadpool(counts)}


@router.get("/audit", responses=_ERRORS)
async def audit_log(request: Request, user: Admin, format: str = "json") -> Any:
    """Every change: who, when, what (old → new version); `?format=csv` to export."""
    audit = request.app.state.audit
    if format == "csv":
        return PlainTextResponse(
            audit.csv(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
        )
    return audit.entries()
