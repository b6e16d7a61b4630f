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
    """Liveness, the size of the live index, each engine and the knowledge-base version.

    503 when the records database cannot be written (`failing: ["records"]`: no answer can
    be kept) or the server is draining before it stops. A vector store that does not answer
    (`failing: ["vectors"]`) is `degraded` but 200: questions are answered from the loaded
    snapshot, only uploads and ingest wait for it."""
    documents, chunks = assistant.stats
    records_ok = assistant.records_health.check()
    vectors_ok = assistant.index.vectors.reachable()
    failing = [name for name, ok in (("records", records_ok), ("vectors", vectors_ok)) if not ok]
    draining = request.app.state.drain.draining
    status = "draining" if draining else "degraded" if failing else "ok"
    if draining or not records_ok:
        response.status_code = 503
    return HealthResponse(
        status=status,
        documents=documents,
        chunks=chunks,
        database="ok" if records_ok else "failing",
        vectors="ok" if vectors_ok else "failing",
        kb_version=assistant.retriever.kb_version,
        failing=failing or None,
    )
