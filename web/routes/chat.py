"""Chat: one answer as JSON, or the same answer streamed as Server-Sent Events."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from bot.assistant import Assistant, StreamEvent
from bot.errors import BotError, OverloadedError
from bot.models import Answer
from web.deps import AssistantDep
from web.observe import note_answer
from web.ratelimit import limit_chat
from web.schemas import (
    ChatRequest,
    ChatResponse,
    ErrorResponse,
    FeedbackRequest,
    FeedbackResponse,
    SourcePublic,
)

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api", tags=["chat"])


@router.post(
    "/chat",
    response_model=ChatResponse,
    response_model_exclude_unset=True,  # `service` / `matches` only in their modes
    responses={422: {"model": ErrorResponse}, 429: {"model": ErrorResponse}},
    dependencies=[Depends(limit_chat)],  # counted before admission and before any answer
)
async def chat(body: ChatRequest, assistant: AssistantDep, request: Request) -> ChatResponse:
    """Answer a question from the knowledge base, with cited sources (429 with Retry-After
    past the client's rate limit; 503 with Retry-After when more are being answered than the
    server computes at once, or while the records store cannot be written)."""
    return await answer_once(request, assistant, body.question, body.session_id, body.category)


async def answer_once(
    request: Request,
    assistant: Assistant,
    question: str,
    session_id: str | None,
    category: str | None,
    screen: Callable[[], Awaitable[str]] | None = None,
) -> ChatResponse:
    """One answer as JSON (the web chat and the WeChat mini-program). `screen` may refuse
    the question first (WeChat's content check): it returns the refusal's reason, or ''."""
    await _records_writable(assistant)
    async with request.app.state.admission.slot():
        if await request.is_disconnected():  # the client went away while it waited
            raise OverloadedError("client gone", retry_after=1)
        reason = await screen() if screen is not None else ""
        if reason:
            answer = await run_in_threadpool(
                assistant.refuse, question, session_id=session_id, reason=reason
            )
        else:
            answer = await run_in_threadpool(
                assistant.ask, question, session_id=session_id, category=category
            )
    note_answer(question, answer.answered, answer.mode)
    return ChatResponse(
        answer=answer.text,
        answered=answer.answered,
        sources=[SourcePublic(**s.public()) for s in answer.sources],  # type: ignore[arg-type]
        session_id=answer.session_id,
        contact=answer.contact,
        mode=answer.mode,
        **{
            k: v
            for k, v in (("service", answer.service), ("matches", answer.matches))
            if v is not None
        },
    )


@router.post(
    "/feedback",
    response_model=FeedbackResponse,
    status_code=201,
    responses={422: {"model": ErrorResponse}},
)
async def feedback(body: FeedbackRequest, assistant: AssistantDep) -> FeedbackResponse:
    """Record a thumbs up or down on an answer (staff review these)."""
    entry = await run_in_threadpool(
        assistant.feedback.add,
        body.question,
        body.answer,
        body.rating,
        body.session_id or "",
        body.comment,
    )
    return FeedbackResponse(id=entry)


async def _records_writable(assistant: Assistant) -> None:
    """503 at once while the records store is failing (probed when a probe is due): the
    answer could not be kept, and a half-kept one would be worse."""
    if not assistant.records_health.ok:
        await run_in_threadpool(assistant.records_health.require)


def _event(name: str, data: dict[str, object]) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


@router.post(
    "/chat/stream",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "Events `delta` {text} …, then `sources` {sources}, then `done` "
            "{answered, mode, session_id, answer, contact}; `reset` {} means: clear the text shown so "
            "far (the LLM failed mid-answer and the extractive answer follows).",
        },
        422: {"model": ErrorResponse},
        429: {"model": ErrorResponse},
    },
    dependencies=[Depends(limit_chat)],  # the same counter as /api/chat, before any header
)
async def chat_stream(
    body: ChatRequest, assistant: AssistantDep, request: Request
) -> StreamingResponse:
    """The same answer as `/api/chat`, streamed as Server-Sent Events (it holds one of the
    places for answers until the stream ends; none free: 503 before the stream starts; past
    the client's rate limit: 429, also before it starts)."""
    return await stream_answer(request, assistant, body.question, body.session_id, body.category)


async def stream_answer(
    request: Request,
    assistant: Assistant,
    question: str,
    session_id: str | None,
    category: str | None,
    screen: Callable[[], Awaitable[str]] | None = None,
) -> StreamingResponse:
    """One answer as Server-Sent Events (the web chat and the WeChat mini-program)."""
    await _records_writable(assistant)
    admission = request.app.state.admission
    slot = admission.slot()
    await slot.__aenter__()  # raises OverloadedError (503) before any header is sent

    async def events() -> AsyncIterator[str]:
        try:
            reason = await screen() if screen is not None else ""
            if reason:
                refused = await run_in_threadpool(
                    assistant.refuse, question, session_id=session_id, reason=reason
                )
                produced: AsyncIterator[StreamEvent] = _events_of(refused)
            else:
                produced = assistant.stream(question, session_id=session_id, category=category)
            async for event in produced:
                if event.name == "done":
                    note_answer(question, event.data["answered"], event.data["mode"])
                yield _event(event.name, event.data)
        except BotError as exc:  # headers are sent: report in-band, never a stack trace
            log.error("%s: %s", exc.code, exc.message)
            yield _event(
                "error", {"code": exc.code, "message": exc.message, "message_zh": exc.message_zh}
            )
        except Exception:
            log.exception("stream failed")
            yield _event(
                "error",
                {
                    "code": "internal_error",
                    "message": "internal error",
                    "message_zh": "服务内部错误，请稍后再试",
                },
            )

    return _HoldingResponse(
        slot,
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _events_of(answer: Answer) -> AsyncIterator[StreamEvent]:
    """A finished answer (a refusal) as the stream's events."""
    yield StreamEvent("delta", {"text": answer.text})
    yield StreamEvent("sources", {"sources": [s.public() for s in answer.sources]})
    yield Assistant._done(answer)


class _HoldingResponse(StreamingResponse):
    """A stream that gives its place for answers back when it ends — finished, failed, or
    cut off by a client that went away (even before its first event)."""

    def __init__(self, slot: Any, content: AsyncIterator[str], **kwargs: Any) -> None:
        super().__init__(self._held(content), **kwargs)
        self._slot = slot
        self._released = False

    async def _held(self, content: AsyncIterator[str]) -> AsyncIterator[str]:
        try:
            async for item in content:
                yield item
        finally:
            # after the last event, before the end of the body is sent: a client that asks
            # again as soon as its stream has ended finds the place free
            await self._release()

    async def _release(self) -> None:
        if not self._released:
            self._released = True
            await self._slot.__aexit__(None, None, None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self._release()  # cut off, or never started
