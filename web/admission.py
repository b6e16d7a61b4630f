"""Bounded work: at most `max_inflight` answers computed at once, a short queue, then 503.

A request past the queue is refused at once (503, Retry-After) instead of waiting in an
unbounded line that makes every client slow; a waiting request whose client went away gives
its place up without being computed. Per process (shared limits come with the scale-out).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator

from starlette.types import ASGIApp, Receive, Scope, Send

from bot.errors import OverloadedError
from web.errors import error_response

log = logging.getLogger(__name__)
# the routes whose requests take a place (their 503 is decided here before the body is read)
ANSWER_ROUTES = frozenset(
    {"/api/chat", "/api/chat/stream", "/api/wechat/chat", "/api/wechat/chat/stream"}
)
WARN_EVERY_S = 10.0  # refusals are logged as one line per this many seconds, with their count


class Admission:
    def __init__(self, max_inflight: int = 0, max_queue: int = -1, wait_ms: int = 500) -> None:
        # one per core: more threads only contend for the GIL and starve the event loop that
        # must answer the 503s (2 cores, 50 clients: 503 p95 2.3 s with 4 places, 0.17 s with 2)
        self.max_inflight = max_inflight or (os.cpu_count() or 1)
        # four waiting per place: on 2 cores 10 clients are all served (84 answers/s, p95
        # 180 ms); a waiter gets its turn within ~4 answers' time, well inside wait_ms
        self.max_queue = 4 * self.max_inflight if max_queue < 0 else max_queue
        self.wait_s = wait_ms / 1000
        self.inflight = 0
        self.waiting = 0
        self.rejected = 0
        self._free = asyncio.Condition()
        self._warned = -WARN_EVERY_S

    @property
    def full(self) -> bool:
        """No free place and no room to wait for one: a new request would be refused."""
        return self.inflight >= self.max_inflight and (
            self.waiting >= self.max_queue or self.wait_s <= 0
        )

    def refuse(self) -> OverloadedError:
        """Count a refusal; the error to answer it with. Under overload there are hundreds a
        second, each already in the request log: one warning line per `WARN_EVERY_S` says so."""
        self.rejected += 1
        now = time.monotonic()
        if now - self._warned >= WARN_EVERY_S:
            log.warning(
                "overloaded: %d request(s) refused so far (%d being answered, %d waiting)",
                self.rejected,
                self.inflight,
                self.waiting,
            )
            self._warned = now
        return OverloadedError(
            f"too many questions at once ({self.inflight} being answered); retry shortly",
            retry_after=1,
        )

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one of the places for the duration of an answer (or raise OverloadedError)."""
        async with self._free:
            if self.full:
                raise self.refuse()
            if self.inflight >= self.max_inflight:
                self.waiting += 1
                try:
                    await asyncio.wait_for(
                        self._free.wait_for(lambda: self.inflight < self.max_inflight),
                        self.wait_s,
                    )
                except TimeoutError:
                    raise self.refuse() from None
                finally:
                    self.waiting -= 1
            self.inflight += 1
        try:
            yield
        finally:
            async with self._free:
                self.inflight -= 1
                self._free.notify()


class AdmissionGate:
    """ASGI middleware: a question that arrives while every place is taken and the queue is
    full is refused here — 503 with Retry-After before its body is read, parsed or rate
    counted — so that refusing stays cheap when there are many (the event loop that sends the
    refusals is the one that serves everybody)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in ANSWER_ROUTES:
            admission: Admission | None = getattr(scope["app"].state, "admission", None)
            if admission is not None and admission.full and scope["method"] == "POST":
                await error_response(admission.refuse())(scope, receive, send)
                return
        await self.app(scope, receive, send)
