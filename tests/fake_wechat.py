"""A small real HTTP server on 127.0.0.1 that speaks WeChat's and WeCom's server APIs.

`sns/jscode2session`, `cgi-bin/stable_token`, `cgi-bin/message/custom/send`,
`wxa/msg_sec_check` (WeChat) and `cgi-bin/gettoken`, `cgi-bin/message/send` (WeCom), with the
JSON bodies and error codes WeChat documents. Tests script it (`login_error`, `send_errors`,
`risky_words`, `token_delay`, `expire_token`) and read what it saw (`calls`, `sent`). The
assistant reaches it over TCP through `BOT_WECHAT_API_BASE` / `BOT_WECOM_API_BASE`, as it
would reach api.weixin.qq.com.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

APPID = "wx0123456789abcdef"
SECRET = "s" * 32
CORPID = "ww0123456789abcdef"
CORP_SECRET = "c" * 32


class FakeWechat:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: list[tuple[str, dict[str, Any]]] = []  # (path, query + body)
        self.sent: list[dict[str, Any]] = []  # custom/send and WeCom message/send bodies
        self.login_error: int | None = None  # errcode jscode2session answers with
        self.login_hang = 0.0  # seconds jscode2session waits before answering
        self.send_errors: list[int] = []  # errcodes the next sends answer with, in order
        self.risky_words: tuple[str, ...] = ("违规内容",)
        self.token_delay = 0.0  # stable_token / gettoken take this long (a race to see)
        self.token_lifetime = 7200
        self.valid_tokens: set[str] = set()
        self.current: dict[str, str] = {}  # the valid token per account ("mp", "wecom")
        self.used_codes: set[str] = set()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeWechat:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def count(self, path: str) -> int:
        with self.lock:
            return sum(1 for p, _ in self.calls if p == path)

    def expire_token(self, account: str = "mp") -> None:
        """The current token stops being valid (as when another system forced a refresh)."""
        with self.lock:
            self.valid_tokens.discard(self.current.pop(account, ""))

    # --- the protocol ----------------------------------------------------------------------
    def _token(self, account: str, force: bool) -> dict[str, Any]:
        time.sleep(self.token_delay)
        with self.lock:
            token = self.current.get(account)
            if token is None or force:  # stable_token: the valid one again unless forced
                self.valid_tokens.discard(token or "")
                token = f"{account}-{secrets.token_hex(8)}"
                self.current[account] = token
                self.valid_tokens.add(token)
        return {"access_token": token, "expires_in": self.token_lifetime}

    def _authorised(self, query: dict[str, str]) -> dict[str, Any] | None:
        with self.lock:
            if query.get("access_token") not in self.valid_tokens:
                return {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"}
        return None

    def answer(self, path: str, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.calls.append((path, {**query, **body}))
        if path == "/sns/jscode2session":
            time.sleep(self.login_hang)
            if self.login_error is not None:
                return {"errcode": self.login_error, "errmsg": "scripted error"}
            if query.get("appid") != APPID or query.get("secret") != SECRET:
                return {"errcode": 40013, "errmsg": "invalid appid"}
            code = query.get("js_code", "")
            with self.lock:
                if code in self.used_codes:
                    return {"errcode": 40029, "errmsg": "invalid code"}
                self.used_codes.add(code)
            return {
                "openid": "o-" + code.split("-")[0],  # code "alice-1" → user "o-alice"
                "session_key": "SESSIONKEY-" + secrets.token_hex(8),
                "unionid": "u-" + code.split("-")[0],
            }
        if path == "/cgi-bin/stable_token":
            if body.get("appid") != APPID or body.get("secret") != SECRET:
                return {"errcode": 40125, "errmsg": "invalid appsecret"}
            return self._token("mp", bool(body.get("force_refresh")))
        if path == "/cgi-bin/gettoken":
            if query.get("corpid") != CORPID or query.get("corpsecret") != CORP_SECRET:
                return {"errcode": 40013, "errmsg": "invalid corpid"}
            return self._token("wecom", False)
        refused = self._authorised(query)
        if refused:
            return refused
        if path in ("/cgi-bin/message/custom/send", "/cgi-bin/message/send"):
            with self.lock:
                if self.send_errors:
                    return {"errcode": self.send_errors.pop(0), "errmsg": "scripted error"}
                self.sent.append(body)
            return {"errcode": 0, "errmsg": "ok"}
        if path == "/wxa/msg_sec_check":
            risky = any(w in str(body.get("content", "")) for w in self.risky_words)
            ok = body.get("version") == 2 and body.get("scene") in (1, 2, 3, 4)
            if not ok or not body.get("openid"):
                return {"errcode": 47001, "errmsg": "data format error"}
            return {
                "errcode": 0,
                "errmsg": "ok",
                "result": {
                    "suggest": "risky" if risky else "pass",
                    "label": 20001 if risky else 100,
                },
            }
        return {"errcode": 404, "errmsg": "no such API in the fake"}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _reply(self) -> None:
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else {}
                except ValueError:
                    body = {}
                data = json.dumps(fake.answer(url.path, query, body), ensure_ascii=False).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (
                    BrokenPipeError,
                    ConnectionResetError,
                ):  # the client gave up (a timeout test)
                    pass

            do_GET = _reply
            do_POST = _reply

        return Handler


@contextmanager
def running() -> Iterator[FakeWechat]:
    fake = FakeWechat().start()
    try:
        yield fake
    finally:
        fake.stop()
