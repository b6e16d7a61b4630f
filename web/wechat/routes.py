"""WeChat routes: the mini-program's log-in and chat, the official account's callback
(`/api/wechat/mp`) and the WeCom app's callback (`/api/wecom`)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from bot.errors import BotError, ForbiddenError, InvalidInputError, NotFoundError
from web.deps import AssistantDep
from web.ratelimit import limit_chat
from web.routes.chat import answer_once, stream_answer
from web.schemas import ChatRequest, ChatResponse, ErrorResponse
from web.security import token_of
from web.wechat.api import WechatError
from web.wechat.channel import WechatChannel, WecomChannel
from web.wechat.conversation import FAILED, Reply
from web.wechat.crypto import CryptoError, MessageCrypto, SignatureError, check_signature
from web.wechat.messages import Message, MessageError, message_key, parse, text_reply

log = logging.getLogger(__name__)
router = APIRouter(tags=["wechat"])
_CODE = re.compile(r"^[A-Za-z0-9_\-]{1,128}$")
MAX_BODY = 64 * 1024  # a WeChat message is a few hundred bytes


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    code: str = Field(..., max_length=256, description="The code from `wx.login()`.")


class LoginResponse(BaseModel):
    token: str = Field(description="Send as `Authorization: Bearer <token>`.")
    expires_in: int = Field(description="Seconds the token is valid.")


def _wechat(request: Request) -> WechatChannel:
    channel: WechatChannel | None = getattr(request.app.state, "wechat", None)
    if channel is None:
        raise NotFoundError(
            "WeChat is not configured (BOT_WECHAT_APPID)", message_zh="未启用微信接入"
        )
    return channel


def _official(request: Request) -> WechatChannel:
    channel = _wechat(request)
    if not channel.settings.wechat_token:  # an empty token would let anyone sign
        raise NotFoundError(
            "the official account is not configured (BOT_WECHAT_TOKEN)",
            message_zh="未配置公众号服务器令牌",
        )
    return channel


def _wecom(request: Request) -> WecomChannel:
    channel: WecomChannel | None = getattr(request.app.state, "wecom", None)
    if channel is None:
        raise NotFoundError(
            "WeCom is not configured (BOT_WECOM_CORPID)", message_zh="未启用企业微信接入"
        )
    return channel


Wechat = Annotated[WechatChannel, Depends(_wechat)]
Official = Annotated[WechatChannel, Depends(_official)]
Wecom = Annotated[WecomChannel, Depends(_wecom)]


# --- the mini-program -----------------------------------------------------------------------
@router.post(
    "/api/wechat/login",
    response_model=LoginResponse,
    dependencies=[Depends(limit_chat)],  # each log-in is a call to WeChat with our secret
    responses={
        400: {"model": ErrorResponse},
        403: {"model": ErrorResponse},
        429: {"model": ErrorResponse},
        503: {"model": ErrorResponse},
    },
)
async def login(body: LoginRequest, wechat: Wechat) -> LoginResponse:
    """Exchange a `wx.login` code for our own token bound to the user's openid. WeChat's
    answers map to 400 (40029: invalid or used code), 429 (45011: too frequent), 403
    (40226: high-risk user) and 503 (-1 busy, or no answer)."""
    code = body.code.strip()
    if not _CODE.match(code):
        raise InvalidInputError(
            "code must be the 1–128 character code from wx.login()",
            message_zh="code 应为 wx.login() 返回的登录凭证",
        )
    user = await wechat.api.code_to_session(code)
    token, expires_in = wechat.logins.issue(user.openid)
    log.info("mini-program log-in")  # never the code, the openid or the session_key
    return LoginResponse(token=token, expires_in=expires_in)


async def _user(request: Request, wechat: Wechat) -> str:
    """The openid of the Bearer token, counted against the user's rate limit."""
    openid = wechat.logins.openid(token_of(request))
    request.state.openid = openid
    if wechat.rate_limit.enabled:
        digest = hashlib.sha256(openid.encode()).hexdigest()[:32]
        await wechat.rate_limit.check(f"openid:{digest}")
    return openid


User = Annotated[str, Depends(_user)]


def _screen(wechat: WechatChannel, openid: str, question: str):  # type: ignore[no-untyped-def]
    """WeChat's content check, when on: the refusal's reason, or ''."""
    if not wechat.settings.wechat_msg_sec_check:
        return None

    async def check() -> str:
        try:
            suggest = await wechat.api.msg_sec_check(openid, question)
        except WechatError as exc:  # the local list still applies: answer, and say so
            log.warning("msg_sec_check unavailable, question not checked by WeChat: %s", exc)
            return ""
        return f"msg_sec_check:{suggest}" if suggest == "risky" else ""

    return check


@router.post(
    "/api/wechat/chat",
    response_model=ChatResponse,
    response_model_exclude_unset=True,
    responses={401: {"model": ErrorResponse}, 429: {"model": ErrorResponse}},
)
async def wechat_chat(
    body: ChatRequest,
    request: Request,
    assistant: AssistantDep,
    wechat: Wechat,
    openid: User,
) -> ChatResponse:
    """`/api/chat` for a signed-in mini-program user: the conversation is the user's own
    (a new log-in continues it; a `session_id` in the body is ignored)."""
    question = body.question
    return await answer_once(
        request,
        assistant,
        question,
        assistant.sessions.id_for(f"wechat:{openid}"),
        body.category,
        _screen(wechat, openid, question),
    )


@router.post(
    "/api/wechat/chat/stream",
    response_class=StreamingResponse,
    responses={401: {"model": ErrorResponse}, 429: {"model": ErrorResponse}},
)
async def wechat_chat_stream(
    body: ChatRequest,
    request: Request,
    assistant: AssistantDep,
    wechat: Wechat,
    openid: User,
) -> StreamingResponse:
    """`/api/chat/stream` for a signed-in mini-program user (`wx.request` with
    `enableChunked: true`; see the README for reassembling the chunks)."""
    question = body.question
    return await stream_answer(
        request,
        assistant,
        question,
        assistant.sessions.id_for(f"wechat:{openid}"),
        body.category,
        _screen(wechat, openid, question),
    )


# --- the official account ---------------------------------------------------------------------
def _forbidden(exc: SignatureError) -> ForbiddenError:
    return ForbiddenError(
        f"signature check failed: {exc.reason}", message_zh="签名校验失败，请求被拒绝"
    )


def _check(
    token: str, signature: str, timestamp: str, nonce: str, encrypted: str | None = None
) -> None:
    try:
        check_signature(token, signature, timestamp, nonce, encrypted=encrypted)
    except SignatureError as exc:
        raise _forbidden(exc) from None


Q = Annotated[str, Query(max_length=512)]


@router.get("/api/wechat/mp", response_class=PlainTextResponse)
async def mp_verify(
    wechat: Official, signature: Q = "", timestamp: Q = "", nonce: Q = "", echostr: Q = ""
) -> PlainTextResponse:
    """The server-address handshake: `echostr` back when the signature holds (else 403)."""
    _check(wechat.settings.wechat_token, signature, timestamp, nonce)
    return PlainTextResponse(echostr)


async def _body(request: Request) -> bytes:
    body = await request.body()
    if len(body) > MAX_BODY:
        raise InvalidInputError("message too large", message_zh="消息过大")
    return body


def _open(body: bytes, crypto: MessageCrypto | None, token: str, q: dict[str, str]) -> Message:
    """The message of a callback, decrypted when it came encrypted (its msg_signature checked)."""
    try:
        envelope = parse(body)
        if crypto is None:
            return envelope
        if not envelope.encrypt:
            raise MessageError("expected an Encrypt element")
        _check(token, q["msg_signature"], q["timestamp"], q["nonce"], encrypted=envelope.encrypt)
        return parse(crypto.decrypt(envelope.encrypt))
    except (MessageError, CryptoError) as exc:
        raise InvalidInputError(f"unreadable message: {exc}", message_zh="无法解析的消息") from None


@router.post("/api/wechat/mp")
async def mp_message(
    request: Request,
    wechat: Official,
    signature: Q = "",
    timestamp: Q = "",
    nonce: Q = "",
    encrypt_type: Q = "",
    msg_signature: Q = "",
) -> Response:
    """A message or event from the official account: a passive XML reply (encrypted in safe
    mode), `success`, or nothing until WeChat retries (see web/wechat/conversation.py)."""
    started = time.monotonic()
    settings = wechat.settings
    _check(settings.wechat_token, signature, timestamp, nonce)
    safe = encrypt_type.lower() == "aes"
    if safe and wechat.crypto is None:
        raise InvalidInputError(
            "safe mode message but BOT_WECHAT_AES_KEY is not set",
            message_zh="收到安全模式消息，但未配置 EncodingAESKey",
        )
    if wechat.crypto is not None and not safe:
        # with a key set WeChat sends every message encrypted (safe or compatible mode); a
        # plaintext body is not covered by the URL's signature, so it is not believed
        raise _forbidden(SignatureError("plaintext message while safe mode is configured"))
    crypto = wechat.crypto if safe else None
    q = {"msg_signature": msg_signature, "timestamp": timestamp, "nonce": nonce}
    msg = _open(await _body(request), crypto, settings.wechat_token, q)
    # the key names the sender too: a MsgId seen from another user is another message
    key = message_key("wechat", f"{wechat.appid}:{msg.from_user}", msg)
    try:
        reply = await wechat.conversations.reply(msg, key, started)
    except BotError as exc:  # the records database failing: a text, not WeChat's error page
        log.warning("official account message not handled: %s", exc.message)
        reply = Reply(FAILED.format(hotline=settings.hotline))
    if reply.hold_until > 0:
        await _hold(request, reply.hold_until)
        return PlainTextResponse("")
    if not reply.text:
        return PlainTextResponse("success")
    xml = text_reply(msg.from_user, msg.to_user, reply.text)
    if crypto is not None:
        xml = crypto.reply(xml)
    return Response(xml, media_type="application/xml")


async def _hold(request: Request, until: float) -> None:
    """Say nothing until WeChat has given up on this try (it then tries again)."""
    while time.monotonic() < until:
        if await request.is_disconnected():
            return
        await asyncio.sleep(min(0.2, max(until - time.monotonic(), 0)))


# --- WeCom ----------------------------------------------------------------------------------
@router.get("/api/wecom", response_class=PlainTextResponse)
async def wecom_verify(
    wecom: Wecom, msg_signature: Q = "", timestamp: Q = "", nonce: Q = "", echostr: Q = ""
) -> PlainTextResponse:
    """The URL check: the decrypted `echostr` when the signature holds."""
    settings = wecom.settings
    _check(settings.wecom_token, msg_signature, timestamp, nonce, encrypted=echostr)
    try:
        return PlainTextResponse(wecom.crypto.decrypt(echostr))
    except CryptoError as exc:
        raise InvalidInputError(f"echostr: {exc}", message_zh="echostr 无法解密") from None


@router.post("/api/wecom")
async def wecom_message(
    request: Request, wecom: Wecom, msg_signature: Q = "", timestamp: Q = "", nonce: Q = ""
) -> Response:
    """A message from a WeCom member: answered at once (empty), the answer sent afterwards."""
    settings = wecom.settings
    q = {"msg_signature": msg_signature, "timestamp": timestamp, "nonce": nonce}
    msg = _open(await _body(request), wecom.crypto, settings.wecom_token, q)
    await wecom.conversations.receive(
        msg, message_key("wecom", f"{wecom.corpid}:{msg.from_user}", msg)
    )
    return PlainTextResponse("")
