"""Staff: the sensitive-word list checked on every question and answer (admins only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from web.deps import AssistantDep
from web.schemas import ErrorResponse, SensitiveWordsOut, SensitiveWordsUpdate
from web.security import Admin

router = APIRouter(prefix="/api/admin/sensitive-words", tags=["admin"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (401, 403, 409, 422)
}


@router.get("", response_model=SensitiveWordsOut, responses=_ERRORS)
async def get_words(user: Admin, assistant: AssistantDep) -> dict[str, object]:
    """The list in force: staff's saved list, or the shipped defaults (`default`)."""
    return assistant.sensitive_words.list.public()


@router.put("", response_model=SensitiveWordsOut, responses=_ERRORS)
async def put_words(
    body: SensitiveWordsUpdate, user: Admin, assistant: AssistantDep
) -> dict[str, object]:
    """Replace the whole list (audited); in force at once here, within seconds elsewhere."""
    saved = await run_in_threadpool(
        assistant.sensitive_words.save, body.words, user.username, body.base_version
    )
    return saved.public()


@router.delete("", response_model=SensitiveWordsOut, responses=_ERRORS)
async def restore_defaults(user: Admin, assistant: AssistantDep) -> dict[str, object]:
    """Back to the shipped defaults (audited)."""
    restored = await run_in_threadpool(assistant.sensitive_words.restore_defaults, user.username)
    return restored.public()
