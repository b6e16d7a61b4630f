from __future__ import annotations

from fastapi import APIRouter, Request, Response

from web.deps import AssistantDep
from web.schemas import HealthResponse

router = APIRouter(tags=["health"])


@router.get(
    "/healthz",
    response_model=HealthResponse,
    response_model_exclude_none=True,
    responses={503: {"model": HealthResponse, "description": "degraded or draining"}},
)
def healthz(assistant: AssistantDep, request: Request, response: Response) -> HealthResponse:
    """Liveness and the size of the live index; 503 when the records store cannot be written
    (`failing: ["records"]`) or the server is draining before it stops."""
    documents, chunks = assistant.stats
    failing = [] if assistant.records_health.check() else ["records"]
    draining = request.app.state.drain.draining
    status = "draining" if draining else "degraded" if failing else "ok"
    if status != "ok":
        response.status_code = 503
    return HealthResponse(
        status=status, documents=documents, chunks=chunks, failing=failing or None
    )
