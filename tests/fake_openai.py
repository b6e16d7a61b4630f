"""A small real HTTP server on 127.0.0.1 that speaks OpenAI's chat-completions protocol.

Tests script its behaviour (`mode`, `reply`) and read what it saw (`requests`,
`disconnects`, `finished_streams`). It is not a mock of our code: the bot reaches it through
the openai SDK over TCP exactly as it would reach DeepSeek or a vLLM server.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = Callable[[dict[str, Any]], str]


class FakeOpenAI:
    """Modes: ok · slow (sleeps `delay` first) · errorNNN (that HTTP status) · empty (no choices) · blank (empty
    content) · cut (streams half the reply, then drops the connection)."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.reply: Reply = lambda request: "根据资料，可以办理[1]。"
        self.delay = 3.0
        self.chunk_delay = 0.0
        self.chunk_chars = 4
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.disconnects = 0
        self.finished_streams = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def chat_requests(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r.get("_path", "").endswith("/chat/completions")]

    def start(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                body["_path"] = self.path
                fake.requests.append(body)
                fake.headers.append({k.lower(): v for k, v in self.headers.items()})
                if fake.mode == "slow":
                    time.sleep(fake.delay)
                if fake.mode.startswith("error"):  # error500, error401, error429 …
                    status = int(fake.mode.removeprefix("error"))
                    self._json(status, {"error": {"message": "refused by fake", "type": "fake"}})
                    return
                text = fake.reply(body)
                if body.get("stream"):
                    self._stream(body, text)
                    return
                choices = (
                    [] if fake.mode == "empty" else [_choice(text if fake.mode != "blank" else "")]
                )
                self._json(200, _completion(body, choices))

            def _json(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, request: dict[str, Any], text: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                if fake.mode == "blank" or fake.mode == "empty":
                    text = ""
                step = max(1, fake.chunk_chars)
                pieces = [text[i : i + step] for i in range(0, len(text), step)]
                if fake.mode == "cut":
                    pieces = pieces[: max(1, len(pieces) // 2)]
                try:
                    for piece in pieces:
                        self._send_chunk(request, {"content": piece}, None)
                        if fake.chunk_delay:
                            time.sleep(fake.chunk_delay)
                    if fake.mode == "cut":
                        self.wfile.write(b"data: {broken")  # and the connection drops
                        self.wfile.flush()
                        self.close_connection = True
                        return
                    self._send_chunk(request, {}, "stop")
                    self.wfile.write(b"data: [DONE]\n\n")
                    self.wfile.flush()
                    fake.finished_streams += 1
                except (BrokenPipeError, ConnectionResetError):
                    fake.disconnects += 1

            def _send_chunk(
                self, request: dict[str, Any], delta: dict[str, str], finish: str | None
            ) -> None:
                chunk = {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion.chunk",
                    "created": int(time.time()),
                    "model": request.get("model", ""),
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                }
                self.wfile.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode())
                self.wfile.flush()

        return Handler


def _choice(text: str) -> dict[str, Any]:
    return {
        "index": 0,
        "message": {"role": "assistant", "content": text},
        "finish_reason": "stop",
    }


def _completion(request: dict[str, Any], choices: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", ""),
        "choices": choices,
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


@contextmanager
def running() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI().start()
    try:
        yield fake
    finally:
        fake.stop()
