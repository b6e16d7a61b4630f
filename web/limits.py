"""Refuse oversized request bodies before anything reads them (and before authentication)."""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

UPLOAD_PREFIX = "/api/admin/documents"


class BodyLimit:
    """413 for bodies over the limit, 411 for uploads that do not say their length.

    The limit holds however the body is framed: a declared `Content-Length` over it is
    refused before reading, and the bytes actually received are counted too (a
    `Transfer-Encoding: chunked` body says no length), stopping the request at the limit.
    """

    def __init__(self, app: ASGIApp, limit: int, upload_limit: int) -> None:
        self.app, self.limit, self.upload_limit = app, limit, upload_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("POST", "PUT", "PATCH"):
            upload = scope["path"].startswith(UPLOAD_PREFIX)
            limit = self.upload_limit if upload else self.limit
            headers = dict(scope.get("headers") or [])
            length = headers.get(b"content-length")
            if length is None and upload:
                await _refuse(
                    send,
                    411,
                    "length_required",
                    "uploads must send Content-Length",
                    "上传请求缺少 Content-Length",
                )
                return
            if length is not None and (not length.isdigit() or int(length) > limit):
                await _too_large(send, limit)
                return
            if upload and not _signed_in(scope):
                # an anonymous upload is refused before a byte of it is read or spooled
                await _refuse(
                    send,
                    401,
                    "unauthorized",
                    "log in first (Authorization: Bearer <token>)",
                    "请先登录",
                )
                return
            await self._counted(scope, receive, send, limit)
            return
        await self.app(scope, receive, send)

    async def _counted(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """Count the bytes as they arrive; past the limit the body ends there for the app
        (nothing more is read) and whatever it answers is replaced by the 413."""
        received = 0
        over = False
        replaced = False
        started = False  # the app answered before the body ran over: its answer stands

        async def counting_receive() -> Message:
            nonlocal received, over
            if over:
                return {"type": "http.request", "body": b"", "more_body": False}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    over = True
                    return {"type": "http.request", "body": b"", "more_body": False}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal replaced, started
            if over and not started:
                if not replaced and message["type"] == "http.response.start":
                    replaced = True
                    await _too_large(send, limit)
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, counting_receive, guarded_send)
        if over and not replaced and not started:
            await _too_large(send, limit)


def _signed_in(scope: Scope) -> bool:
    """Whether the request carries a valid staff token (header or cookie)."""
    from starlette.requests import HTTPConnection

    from web.security import token_of

    staff = getattr(getattr(scope.get("app"), "state", None), "staff", None)
    if staff is None:
        return True  # not this app's wiring: leave it to the route
    token = token_of(HTTPConnection(scope))
    return bool(token) and staff.user_for(token) is not None


class NoSniff:
    """`X-Content-Type-Options: nosniff` on every response (a JSON body is never run as a
    script or rendered as a page by a browser that guesses types)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                if not any(k.lower() == b"x-content-type-options" for k, _ in headers):
                    headers.append((b"x-content-type-options", b"nosniff"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_header)


async def _too_large(send: Send, limit: int) -> None:
    await _refuse(
        send,
        413,
        "too_large",
        f"request body larger than {limit // (1024 * 1024) or 1} MB",
        "请求内容过大",
    )


async def _refuse(send: Send, status: int, code: str, message: str, message_zh: str) -> None:
    body: dict[str, Any] = {"error": {"code": code, "message": message, "message_zh": message_zh}}
    data = json.dumps(body, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})
