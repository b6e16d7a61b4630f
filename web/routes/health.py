from __future__ import annotations

from fastapi import APIRouter, Response

from web.deps import AssistantDep
from web.schemas import HealthResponse

router = APIRouter(tags=["health"])


@router.get(
    "/healthz",
    response_model=HealthResponse,
    response_model_exclude_none=True,
    responses={503: {"model": HealthResponse, "description": "degraded"}},
)
def healthz(assistant: AssistantDep, response: Response) -> HealthResponse:
    """Liveness and the size of the live index; 503 when the records store cannot be written
    (`failing: ["records"]`)."""
    documents, chunks = assistant.stats
    failing = [] if assistant.records_health.check() else ["records"]
    status = "degraded" if failing else "ok"
    if status != "ok":
        response.status_code = 503
    return HealthResponse(
        status=status, documents=documents, chunks=chunks, failing=failing or None
    )
