from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from web.deps import AssistantDep
from web.schemas import ChatRequest, ChatResponse, ErrorResponse, SourcePublic

router = APIRouter(prefix="/api", tags=["chat"])


@router.post("/chat", response_model=ChatResponse, responses={422: {"model": ErrorResponse}})
async def chat(body: ChatRequest, assistant: AssistantDep) -> ChatResponse:
    """Answer a question from the knowledge base, with cited sources."""
    answer = await run_in_threadpool(
        assistant.ask, body.question, session_id=body.session_id, category=body.category
    )
    return ChatResponse(
        answer=answer.text,
        answered=answer.answered,
        sources=[SourcePublic(**s.public()) for s in answer.sources],  # type: ignore[arg-type]
        session_id=answer.session_id,
    )
