from __future__ import annotations

from fastapi import APIRouter

from web.deps import AssistantDep
from web.schemas import HealthResponse

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=HealthResponse)
def healthz(assistant: AssistantDep) -> HealthResponse:
    """Liveness and the size of the live index."""
    documents, chunks = assistant.stats
    return HealthResponse(status="ok", documents=documents, chunks=chunks)
