"""The WeChat and WeCom channels of one process, built at start-up from the settings."""

from __future__ import annotations

import logging
import os
import socket
import uuid

from bot.assistant import Assistant
from bot.config import Settings
from web.admission import Admission
from web.ratelimit import ChatRateLimit
from web.wechat.api import WechatApi, WecomApi
from web.wechat.conversation import Conversations
from web.wechat.crypto import MessageCrypto
from web.wechat.ledger import Ledger
from web.wechat.login import LoginTokens

log = logging.getLogger(__name__)
RATE_NAMESPACE = "jiangan-wechat"


class WechatChannel:
    """Mini-program log-in and chat, and the official account's callback (one AppID)."""

    def __init__(
        self,
        settings: Settings,
        assistant: Assistant,
        ledger: Ledger,
        admission: Admission | None = None,
    ) -> None:
        self.settings = settings
        self.appid = settings.wechat_appid
        self.api = WechatApi(
            assistant.index.database,
            settings.wechat_appid,
            settings.wechat_secret,
            settings.wechat_api_base,
        )
        self.logins = LoginTokens(
            assistant.sessions.derive_key("wechat-login"), settings.wechat_token_hours * 3600
        )
        self.rate_limit = ChatRateLimit(
            settings.wechat_rate_limits, settings.redis_url, namespace=RATE_NAMESPACE
        )
        self.crypto = (
            MessageCrypto(settings.wechat_token, settings.wechat_aes_key, settings.wechat_appid)
            if settings.wechat_aes_key and settings.wechat_token
            else None
        )
        self.conversations = Conversations(
            assistant,
            ledger,
            channel="wechat",
            account=settings.wechat_account,
            reply_s=settings.wechat_reply_seconds,
            push=self.api.send_text if settings.wechat_account == "service" else None,
            admission=admission,
        )

    async def start(self) -> None:
        await self.rate_limit.start()
        log.info(
            "WeChat: AppID %s, %s account, safe mode %s",
            self.appid,
            self.settings.wechat_account,
            "on" if self.crypto else "off",
        )

    async def aclose(self) -> None:
        await self.conversations.aclose()
        await self.rate_limit.aclose()
        await self.api.aclose()


class WecomChannel:
    """A WeCom app's callback; answers go out through `message/send`."""

    def __init__(
        self,
        settings: Settings,
        assistant: Assistant,
        ledger: Ledger,
        admission: Admission | None = None,
    ) -> None:
        self.settings = settings
        self.corpid = settings.wecom_corpid
        self.api = WecomApi(
            assistant.index.database,
            settings.wecom_corpid,
            settings.wecom_agentid,
            settings.wecom_secret,
            settings.wecom_api_base,
        )
        self.crypto = MessageCrypto(
            settings.wecom_token, settings.wecom_aes_key, settings.wecom_corpid
        )
        self.conversations = Conversations(
            assistant,
            ledger,
            channel="wecom",
            account="wecom",
            reply_s=settings.wechat_reply_seconds,
            push=self.api.send_text,
            admission=admission,
        )

    async def aclose(self) -> None:
        await self.conversations.aclose()
        await self.api.aclose()


def process_name() -> str:
    """Who computes a message, in the ledger: this host and process."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def build(
    settings: Settings, assistant: Assistant, admission: Admission | None = None
) -> tuple[WechatChannel | None, WecomChannel | None]:
    ledger = Ledger(assistant.index.database, process_name())
    wechat = (
        WechatChannel(settings, assistant, ledger, admission) if settings.wechat_appid else None
    )
    wecom = None
    if settings.wecom_corpid:
        if not settings.wecom_aes_key or not settings.wecom_token:
            log.error("WeCom off: BOT_WECOM_TOKEN and BOT_WECOM_AES_KEY are both required")
        else:
            wecom = WecomChannel(settings, assistant, ledger, admission)
    return wechat, wecom
