"""Every request gets an id, a JSON log line and its place in the metrics.

`X-Request-ID` is taken from the client when it is sane (1–64 of `A-Za-z0-9._-`), else a new
one is made; it is on `request.state.request_id`, on every log line written while the request
is served, and in the response's `X-Request-ID` — errors, 429 and 503 included.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web import metrics
from web.logs import RequestRecord, current_request, mask

access = logging.getLogger("web.access")

_SANE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
QUESTION_LOG_CHARS = 200  # of the masked question, on the request's log line
QUIET_ROUTES = frozenset({"/metrics"})  # scraped every few seconds: logged at DEBUG only


def request_id_of(scope: Scope) -> str:
    for key, value in scope.get("headers") or ():
        if key.lower() == b"x-request-id":
            given = value.decode("latin-1")
            if _SANE_ID.fullmatch(given):
                return given
            break
    return uuid.uuid4().hex


def route_of(scope: Scope) -> str:
    """The route template (`/api/admin/documents/{doc_id}`), never the raw path: a route is
    found even for requests refused before routing (413, 401 of an upload)."""
    route = scope.get("route")
    if route is None:
        router = getattr(scope.get("app"), "router", None)
        route = next(
            (r for r in _flat(getattr(router, "routes", ())) if r.matches(scope)[0] != Match.NONE),
            None,
        )
    return getattr(route, "path_format", None) or metrics.UNMATCHED


def _flat(routes: Iterable[Any]) -> Iterator[Any]:
    """The routes themselves, also inside included routers (FastAPI keeps those nested)."""
    for route in routes:
        inner = getattr(getattr(route, "original_router", None), "routes", None)
        if inner is None:
            yield route
        else:
            yield from _flat(inner)


def note_answer(question: str, answered: bool, mode: str) -> None:
    """An answer was given in this request: counted, and on its log line (question masked)."""
    record = current_request.get()
    if record is not None and record.llm_failed and mode == "extractive":
        mode = "fallback"
    metrics.count_answer(answered, mode)
    if record is not None:
        record.fields.update(
            answered=answered, mode=mode, question=mask(question)[:QUESTION_LOG_CHARS]
        )


class RequestObserver:
    """Outermost middleware: request id, the request's log line, request metrics."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        record = RequestRecord(request_id_of(scope))
        scope.setdefault("state", {})["request_id"] = record.request_id
        token = current_request.set(record)
        started = time.perf_counter()
        status = 0
        header = (b"x-request-id", record.request_id.encode())

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [h for h in message.get("headers") or () if h[0].lower() != header[0]]
                message = {**message, "headers": [*headers, header]}
                metrics.sample_admission(self._admission(scope))  # a stream holds a place now
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except asyncio.CancelledError:
            status = status or 499  # the client went away before an answer (nginx's 499)
            self._finish(scope, record, status, started)
            raise
        except Exception:
            if not status:  # the server's own 500 would not carry the id
                await _internal_error(send_with_id)
            self._finish(scope, record, status, started)
            # not reset: the error handler and the server log the traceback after us
            raise
        self._finish(scope, record, status, started)
        current_request.reset(token)

    @staticmethod
    def _admission(scope: Scope) -> Any:
        return getattr(getattr(scope.get("app"), "state", None), "admission", None)

    def _finish(self, scope: Scope, record: RequestRecord, status: int, started: float) -> None:
        took = time.perf_counter() - started
        route = route_of(scope)
        method = scope["method"]
        metrics.count_request(method, route, status, took)
        metrics.sample_admission(self._admission(scope))
        client = scope.get("client")
        fields = {
            "method": method,
            "route": route,
            "path": mask(scope["path"])[:200],
            "status": status,
            "latency_ms": round(took * 1000, 1),
            "client": client[0] if client else "",
            **record.fields,
        }
        access.log(
            logging.DEBUG if route in QUIET_ROUTES else logging.INFO,
            "%s %s %s %.1f ms",
            method,
            route,
            status,
            took * 1000,
            extra={"fields": fields, "request_id": record.request_id},
        )


async def _internal_error(send: Send) -> None:
    body = json.dumps(
        {
            "error": {
                "code": "internal_error",
                "message": "internal error",
                "message_zh": "服务内部错误，请稍后再试",
            }
        },
        ensure_ascii=False,
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
