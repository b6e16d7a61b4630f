"""Graceful shutdown: on SIGTERM the server drains before it stops.

While draining, requests already in progress — streams too — run to their end, every new
request (on a kept-alive connection or a new one) gets 503 `shutting_down` with Retry-After
and `Connection: close`, and `/healthz` answers 503 `draining` so a load balancer takes the
replica out. `web/__main__.py` stops the server once nothing is in progress or the grace
period (`BOT_SHUTDOWN_GRACE_S`) is over.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from bot.errors import ShuttingDownError
from web.errors import error_response

HEALTH_PATH = "/healthz"  # still answered while draining: it says so


class Drain:
    """Whether the server is draining, and how many requests are in progress."""

    def __init__(self) -> None:
        self.draining = False
        self.inflight = 0

    def begin(self) -> None:
        self.draining = True

    @property
    def idle(self) -> bool:
        return self.inflight == 0


class DrainGate:
    """ASGI middleware: counts requests in progress (a stream until its last event) and
    refuses new ones while draining."""

    def __init__(self, app: ASGIApp, drain: Drain) -> None:
        self.app = app
        self.drain = drain

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.drain.draining and scope["path"] != HEALTH_PATH:
            response = error_response(ShuttingDownError("the server is shutting down; retry"))
            response.headers["Connection"] = "close"  # reconnect, to another replica
            await response(scope, receive, send)
            return
        self.drain.inflight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.drain.inflight -= 1
