"""Service guides and policy matching for clients (DESIGN.md "Service guides", "Policies")."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.concurrency import run_in_threadpool

from bot.errors import NotFoundError
from web.deps import AssistantDep
from web.schemas import ErrorResponse, MatchRequest, MatchResponse, ServiceList, ServicePublic

router = APIRouter(prefix="/api", tags=["services and policies"])
_ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorResponse} for code in (404, 422)}


@router.get("/services", response_model=ServiceList)
async def services(assistant: AssistantDep) -> dict[str, Any]:
    """Every service guide (kind: service) with its fields parsed from its headings."""
    guides = await run_in_threadpool(assistant.catalog.services)
    return {"services": [g.public() for g in guides]}


@router.get("/services/{doc_id:path}", response_model=ServicePublic, responses=_ERRORS)
async def service(
    doc_id: Annotated[str, Path(max_length=300)], assistant: AssistantDep
) -> dict[str, Any]:
    """One service guide."""
    guide = await run_in_threadpool(assistant.catalog.service, doc_id)
    if guide is None:
        raise NotFoundError(f"no service guide {doc_id!r}", message_zh=f"没有办事指南 {doc_id}")
    return guide.public()


@router.post("/policies/match", response_model=MatchResponse, responses=_ERRORS)
async def match(body: MatchRequest, assistant: AssistantDep) -> dict[str, Any]:
    """Every policy in force, eligible first: each condition met, unmet or unknown."""
    profile = body.profile.model_dump(exclude_none=True)
    return {"matches": await run_in_threadpool(assistant.catalog.match, profile)}
