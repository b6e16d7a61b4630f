"""Staff FAQ editing: question/answer pairs with alternative phrasings, answered first."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool

from ingest.faqbook import FaqBook, FaqFields
from web.schemas import ErrorResponse, FaqEntry, FaqIn, FaqUpdate
from web.security import Editor

router = APIRouter(prefix="/api/admin/faq", tags=["admin"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (401, 403, 404, 409, 422)
}


def _book(request: Request) -> FaqBook:
    return request.app.state.faq  # type: ignore[no-any-return]


EntryId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The entry's id.")]


def _fields(body: FaqIn) -> FaqFields:
    return FaqFields(
        question=body.question,
        answer=body.answer,
        alternatives=list(body.alternatives),
        category=body.category,
        department=body.department,
        contact=body.contact,
        url=body.url,
    )


@router.get("", response_model=list[FaqEntry], responses=_ERRORS)
async def list_faq(request: Request, user: Editor) -> list[dict[str, object]]:
    """Every staff-written FAQ entry."""
    return await run_in_threadpool(_book(request).entries)


@router.post("", status_code=201, response_model=FaqEntry, responses=_ERRORS)
async def create_faq(body: FaqIn, request: Request, user: Editor) -> dict[str, object]:
    """Add an entry; a question that closely matches it is answered from it from now on."""
    return await run_in_threadpool(_book(request).create, _fields(body), user.username)


@router.put("/{entry_id}", response_model=FaqEntry, responses=_ERRORS)
async def update_faq(
    entry_id: EntryId, body: FaqUpdate, request: Request, user: Editor
) -> dict[str, object]:
    """Change an entry; 409 if someone changed it since `base_version`."""
    return await run_in_threadpool(
        _book(request).update, entry_id, _fields(body), body.base_version, user.username
    )


@router.delete("/{entry_id}", responses=_ERRORS)
async def delete_faq(entry_id: EntryId, request: Request, user: Editor) -> dict[str, int]:
    """Remove an entry from the knowledge base."""
    await run_in_threadpool(_book(request).delete, entry_id, user.username)
    return {"deleted": entry_id}
