"""WeChat's and WeCom's server APIs, over httpx, with one access token per account shared by
every replica.

Why not the PyPI `wechatpy` (1.8.18, 2021): it is synchronous (every call would hold a worker
thread), has neither `cgi-bin/stable_token` nor `wxa/msg_sec_check` version 2, and keeps its
access token per process — two replicas calling the old `cgi-bin/token` invalidate each
other's token. The handful of calls we need fit in this module.

The access token (`AccessTokens`) lives in the records database (`wechat_tokens`) with its
expiry. A replica that finds it missing or within `REFRESH_MARGIN_S` of expiry takes the
database lock `wechat-token:NAME` (`Database.exclusive`: a PostgreSQL advisory lock, or a file
lock beside SQLite), reads again — another replica may have refreshed it meanwhile — and only
then fetches. `stable_token` in its normal mode returns the token that is still valid rather
than a new one, so even a fetch from elsewhere (a second system on the same AppID) does not
invalidate ours. A call answered 40001 / 42001 / 40014 (token invalid or expired) refreshes
once — `force_refresh` only when WeChat still hands back the token it just refused — and is
retried once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio
import httpx
from sqlalchemy import select

from bot.errors import BotError
from bot.records import Database, upsert
from bot.records.models import wechat_tokens

log = logging.getLogger(__name__)

TIMEOUT_S = 5.0  # WeChat answers in well under a second; past this it is "busy"
REFRESH_MARGIN_S = 300.0  # refresh a token this long before it expires
TOKEN_INVALID = frozenset({40001, 40014, 42001})  # invalid, invalid, expired access token


class WechatError(BotError):
    """WeChat or WeCom answered with an error code (`errcode`), or did not answer."""

    code = "wechat_error"
    message_zh = "微信服务返回错误，请稍后再试"
    http_status = 502

    def __init__(self, errcode: int, errmsg: str = "", *, message_zh: str | None = None) -> None:
        super().__init__(f"WeChat error {errcode}: {errmsg}".strip(), message_zh=message_zh)
        self.errcode = errcode
        self.errmsg = errmsg


class WechatUnavailableError(WechatError):
    """WeChat is busy (-1) or did not answer in time: try again shortly (HTTP 503)."""

    code = "wechat_unavailable"
    message_zh = "微信服务繁忙，请稍后再试"
    http_status = 503
    retry_after = 2


class WechatCodeError(WechatError):
    """40029: the `wx.login` code is invalid or was used already (HTTP 400)."""

    code = "wechat_code_invalid"
    message_zh = "登录凭证无效或已使用，请重新调用 wx.login 获取"
    http_status = 400


class WechatTooFrequentError(WechatError):
    """45011: this user logs in too often (HTTP 429)."""

    code = "wechat_too_frequent"
    message_zh = "登录过于频繁，请稍后再试"
    http_status = 429
    retry_after = 60


class WechatRiskyUserError(WechatError):
    """40226: WeChat flags the user as high-risk (HTTP 403)."""

    code = "wechat_risky_user"
    message_zh = "该微信账号存在安全风险，暂时无法使用本服务"
    http_status = 403


_LOGIN_ERRORS: dict[int, type[WechatError]] = {
    40029: WechatCodeError,
    40163: WechatCodeError,  # "code been used"
    45011: WechatTooFrequentError,
    40226: WechatRiskyUserError,
    -1: WechatUnavailableError,
}


def _raise_for(data: dict[str, Any], kinds: dict[int, type[WechatError]] | None = None) -> None:
    errcode = data.get("errcode") or 0
    try:
        errcode = int(errcode)
    except (TypeError, ValueError):
        errcode = -2
    if errcode == 0:
        return
    errmsg = str(data.get("errmsg", ""))[:200]
    kind = (kinds or {}).get(errcode) or (WechatUnavailableError if errcode == -1 else WechatError)
    raise kind(errcode, errmsg)


@dataclass(frozen=True)
class Login:
    openid: str
    unionid: str = ""


class AccessTokens:
    """One access token per account for every replica (see the module's docstring)."""

    def __init__(
        self,
        database: Database,
        name: str,
        fetch: Callable[[bool], tuple[str, float]],
        *,
        margin_s: float = REFRESH_MARGIN_S,
    ) -> None:
        """`fetch(force)` asks WeChat for a token (blocking; run in a worker thread) and
        returns it with its lifetime in seconds."""
        self.database = database
        self.name = name
        self._fetch = fetch
        self.margin_s = margin_s
        self.fetches = 0  # by this process: what the tests and the logs count
        self._cached: tuple[str, float] = ("", 0.0)
        self._lock = asyncio.Lock()  # this process's callers queue before the database lock

    async def get(self) -> str:
        token, expires_at = self._cached
        if token and expires_at - self.margin_s > time.time():
            return token
        async with self._lock:
            return await anyio.to_thread.run_sync(self._get_or_refresh, "")

    async def refresh(self, refused: str) -> str:
        """A fresh token after WeChat refused `refused` (40001/42001): one fetch for every
        caller and replica that saw the same refusal."""
        async with self._lock:
            return await anyio.to_thread.run_sync(self._get_or_refresh, refused)

    def _read(self) -> tuple[str, float]:
        with self.database.read() as conn:
            row = conn.execute(
                select(wechat_tokens.c.token, wechat_tokens.c.expires_at).where(
                    wechat_tokens.c.name == self.name
                )
            ).first()
        return (str(row[0]), float(row[1])) if row else ("", 0.0)

    def _usable(self, token: str, expires_at: float, refused: str) -> bool:
        return bool(token) and token != refused and expires_at - self.margin_s > time.time()

    def _get_or_refresh(self, refused: str) -> str:
        token, expires_at = self._read()
        if self._usable(token, expires_at, refused):
            self._cached = (token, expires_at)
            return token
        with self.database.exclusive(f"wechat-token:{self.name}"):
            token, expires_at = self._read()  # another replica may have fetched meanwhile
            if self._usable(token, expires_at, refused):
                self._cached = (token, expires_at)
                return token
            now = time.time()
            new, lifetime = self._fetch(False)
            self.fetches += 1
            if refused and new == refused:  # WeChat still holds the refused one valid: force
                new, lifetime = self._fetch(True)
                self.fetches += 1
            expires_at = now + lifetime
            with self.database.transaction() as conn:
                upsert(
                    conn,
                    wechat_tokens,
                    {"name": self.name, "token": new, "expires_at": expires_at, "fetched_at": now},
                    ["name"],
                )
            log.info("access token for %s fetched, valid %d s", self.name, lifetime)
            self._cached = (new, expires_at)
            return new


class _Api:
    """Shared by the WeChat and WeCom clients: JSON calls with the access token."""

    tokens: AccessTokens

    def __init__(self, base: str, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.base = base.rstrip("/")
        self.http = httpx.AsyncClient(base_url=self.base, timeout=TIMEOUT_S, transport=transport)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def _request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = await self.http.request(method, path, **kwargs)
            data = response.json()
        except (httpx.HTTPError, ValueError, RuntimeError) as exc:  # RuntimeError: closed client
            raise WechatUnavailableError(-1, f"no usable answer ({type(exc).__name__})") from None
        if not isinstance(data, dict):
            raise WechatUnavailableError(-1, "not a JSON object")
        return data

    async def call(
        self, path: str, body: dict[str, Any], kinds: dict[int, type[WechatError]] | None = None
    ) -> dict[str, Any]:
        """POST `body` with the access token; one refresh and retry when it was refused."""
        token = await self.tokens.get()
        data = await self._request("POST", path, params={"access_token": token}, json=body)
        if _errcode(data) in TOKEN_INVALID:
            log.warning("%s refused the access token (%s): refreshing", path, _errcode(data))
            token = await self.tokens.refresh(token)
            data = await self._request("POST", path, params={"access_token": token}, json=body)
        _raise_for(data, kinds)
        return data

    def _blocking_json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """For the token fetch, which runs in a worker thread under the database lock."""
        try:
            with httpx.Client(base_url=self.base, timeout=TIMEOUT_S) as http:
                data = http.request(method, path, **kwargs).json()
        except (httpx.HTTPError, ValueError) as exc:
            raise WechatUnavailableError(-1, f"no usable answer ({type(exc).__name__})") from None
        if not isinstance(data, dict):
            raise WechatUnavailableError(-1, "not a JSON object")
        _raise_for(data)
        return data


def _errcode(data: dict[str, Any]) -> int:
    try:
        return int(data.get("errcode") or 0)
    except (TypeError, ValueError):
        return -2


class WechatApi(_Api):
    """The official account's and mini-program's server API (`api.weixin.qq.com`)."""

    def __init__(
        self,
        database: Database,
        appid: str,
        secret: str,
        base: str = "https://api.weixin.qq.com",
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(base, transport)
        self.appid = appid
        self._secret = secret
        self.tokens = AccessTokens(database, f"mp:{appid}", self._stable_token)

    def _stable_token(self, force: bool) -> tuple[str, float]:
        data = self._blocking_json(
            "POST",
            "/cgi-bin/stable_token",
            json={
                "grant_type": "client_credential",
                "appid": self.appid,
                "secret": self._secret,
                "force_refresh": force,
            },
        )
        token = str(data.get("access_token") or "")
        if not token:
            raise WechatUnavailableError(-1, "stable_token gave no access_token")
        return token, float(data.get("expires_in") or 7200)

    async def code_to_session(self, code: str) -> Login:
        """`sns/jscode2session`: the user behind a `wx.login` code. The `session_key` WeChat
        returns with it is dropped here: never returned, logged or stored."""
        data = await self._request(
            "GET",
            "/sns/jscode2session",
            params={
                "appid": self.appid,
                "secret": self._secret,
                "js_code": code,
                "grant_type": "authorization_code",
            },
        )
        data.pop("session_key", None)
        _raise_for(data, _LOGIN_ERRORS)
        openid = str(data.get("openid") or "")
        if not openid:
            raise WechatUnavailableError(-1, "jscode2session gave no openid")
        return Login(openid, str(data.get("unionid") or ""))

    async def send_text(self, openid: str, content: str) -> None:
        """A customer-service message (`message/custom/send`; service accounts, within 48 h
        of the user's last message). 45015 (past 48 h), 45047 (past the per-message quota)
        and 48001 (not authorised) raise WechatError; the caller logs and stops."""
        await self.call(
            "/cgi-bin/message/custom/send",
            {"touser": openid, "msgtype": "text", "text": {"content": content}},
        )

    async def msg_sec_check(self, openid: str, content: str) -> str:
        """`wxa/msg_sec_check` version 2, scene 2 (comments/questions): `pass`, `review` or
        `risky`."""
        data = await self.call(
            "/wxa/msg_sec_check",
            {"content": content, "version": 2, "scene": 2, "openid": openid},
        )
        result = data.get("result") or {}
        return str(result.get("suggest") or "pass") if isinstance(result, dict) else "pass"


class WecomApi(_Api):
    """A WeCom (企业微信) app's server API (`qyapi.weixin.qq.com`)."""

    def __init__(
        self,
        database: Database,
        corpid: str,
        agentid: str,
        secret: str,
        base: str = "https://qyapi.weixin.qq.com",
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(base, transport)
        self.corpid = corpid
        self.agentid = agentid
        self._secret = secret
        self.tokens = AccessTokens(database, f"wecom:{corpid}:{agentid}", self._gettoken)

    def _gettoken(self, force: bool) -> tuple[str, float]:
        # WeCom's gettoken returns the valid token again until it expires (no force mode)
        data = self._blocking_json(
            "GET", "/cgi-bin/gettoken", params={"corpid": self.corpid, "corpsecret": self._secret}
        )
        token = str(data.get("access_token") or "")
        if not token:
            raise WechatUnavailableError(-1, "gettoken gave no access_token")
        return token, float(data.get("expires_in") or 7200)

    async def send_text(self, userid: str, content: str) -> None:
        await self.call(
            "/cgi-bin/message/send",
            {
                "touser": userid,
                "msgtype": "text",
                "agentid": int(self.agentid) if self.agentid.isdigit() else self.agentid,
                "text": {"content": content},
            },
        )
