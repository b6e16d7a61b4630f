"""The mini-program's log-in token: our own, signed, expiring, bound to the openid.

`POST /api/wechat/login` exchanges a `wx.login` code for the openid at WeChat and returns
`v1.<payload>.<signature>`: the payload is base64url JSON `{"o": openid, "e": expiry}`, the
signature HMAC-SHA256 under a key derived from the records database's session secret — so
every replica issues and accepts the same tokens, and a token survives a restart. WeChat's
`session_key` is not in it and is not kept anywhere.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

from bot.errors import AuthError

PREFIX = "v1"


class TokenError(AuthError):
    code = "wechat_token_invalid"
    message_zh = "登录已失效，请重新登录"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class LoginTokens:
    def __init__(self, key: bytes, lifetime_s: float) -> None:
        self._key = key
        self.lifetime_s = lifetime_s

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._key, f"{PREFIX}.{payload}".encode(), hashlib.sha256).digest())

    def issue(self, openid: str, now: float | None = None) -> tuple[str, int]:
        """A token for `openid` and its lifetime in seconds."""
        now = time.time() if now is None else now
        body = json.dumps({"o": openid, "e": int(now + self.lifetime_s)}, separators=(",", ":"))
        payload = _b64(body.encode())
        return f"{PREFIX}.{payload}.{self._sign(payload)}", int(self.lifetime_s)

    def openid(self, token: str | None, now: float | None = None) -> str:
        """The openid a valid token is bound to; TokenError (401) when missing, altered,
        signed by another deployment or expired."""
        if not token:
            raise TokenError(
                "missing Authorization: Bearer <token> (from POST /api/wechat/login)",
                message_zh="缺少登录令牌，请先调用 /api/wechat/login 登录",
            )
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != PREFIX or len(token) > 1024 or not token.isascii():
            raise TokenError("malformed token")
        payload, signature = parts[1], parts[2]
        if not hmac.compare_digest(signature, self._sign(payload)):
            raise TokenError("token signature does not match")
        try:
            data = json.loads(_unb64(payload))
            openid, expiry = str(data["o"]), float(data["e"])
        except (ValueError, KeyError, TypeError):
            raise TokenError("malformed token") from None
        if expiry < (time.time() if now is None else now):
            raise TokenError("token expired: log in again", message_zh="登录已过期，请重新登录")
        return openid
