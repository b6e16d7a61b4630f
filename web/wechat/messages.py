"""WeChat callback XML in and passive replies out, safe against hostile XML.

A callback body is small, flat XML (`<xml><ToUserName>…</ToUserName>…</xml>`, text in CDATA
or plain). Anything that declares a DOCTYPE or an entity is refused before parsing (XXE,
billion laughs), entities are never resolved, the network is never used, and bodies over
`MAX_BYTES` are refused unread.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from lxml import etree

from bot.errors import InvalidInputError

MAX_BYTES = 64 * 1024
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST)", re.IGNORECASE)
# Characters XML 1.0 does not allow; WeChat's parser rejects a reply that holds one.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class MessageError(InvalidInputError):
    """A callback body that is not a well-formed, acceptable WeChat message."""

    code = "wechat_message"
    message_zh = "微信消息格式不正确"


@dataclass(frozen=True)
class Message:
    """One callback message or event; '' for elements it does not carry."""

    to_user: str = ""
    from_user: str = ""
    create_time: int = 0
    msg_type: str = ""
    content: str = ""
    msg_id: str = ""
    event: str = ""
    event_key: str = ""
    recognition: str = ""  # a voice message's speech-to-text, when the account enabled it
    media_id: str = ""
    agent_id: str = ""  # WeCom's application id
    encrypt: str = ""  # safe mode: the ciphertext to decrypt and parse again
    fields: dict[str, str] = field(default_factory=dict)  # every top-level child, by tag


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        dtd_validation=False,
        remove_pis=True,
    )


def parse(xml: str | bytes) -> Message:
    """The message in a callback body; MessageError for anything else."""
    size = len(xml) if isinstance(xml, bytes) else len(xml.encode("utf-8", "surrogatepass"))
    if size > MAX_BYTES:
        raise MessageError(f"the message is larger than {MAX_BYTES} bytes")
    try:  # WeChat sends UTF-8; decoding here keeps UTF-16 from slipping past the scan below
        text = xml.decode("utf-8-sig") if isinstance(xml, bytes) else xml
        data = _XML_DECLARATION.sub("", text, count=1).encode("utf-8")
    except UnicodeError as exc:
        raise MessageError("the message is not UTF-8 text") from exc
    if _DECLARATION.search(data):
        raise MessageError("the message declares a DOCTYPE or entities, which are refused")
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise MessageError("the message is not well-formed XML") from exc
    if root is None or root.tag != "xml":
        raise MessageError("the message's root element is not <xml>")
    if root.getroottree().docinfo.doctype:  # belt and braces: the scan above refuses these
        raise MessageError("the message declares a DOCTYPE, which is refused")
    fields: dict[str, str] = {}
    for child in root:
        if isinstance(child.tag, str) and child.tag not in fields:
            fields[child.tag] = (child.text or "").strip()
    raw_time = fields.get("CreateTime", "")
    if raw_time and not (raw_time.isascii() and raw_time.isdigit()):
        raise MessageError("CreateTime is not an integer")
    return Message(
        to_user=fields.get("ToUserName", ""),
        from_user=fields.get("FromUserName", ""),
        create_time=int(raw_time) if raw_time else 0,
        msg_type=fields.get("MsgType", ""),
        content=fields.get("Content", ""),
        msg_id=fields.get("MsgId", "") or fields.get("MsgID", ""),
        event=fields.get("Event", ""),
        event_key=fields.get("EventKey", ""),
        recognition=fields.get("Recognition", ""),
        media_id=fields.get("MediaId", ""),
        agent_id=fields.get("AgentID", "") or fields.get("AgentId", ""),
        encrypt=fields.get("Encrypt", ""),
        fields=fields,
    )


def cdata(text: str) -> str:
    """`text` as CDATA; a `]]>` inside is split across two sections, so it stays literal."""
    clean = _NOT_XML.sub("", text)
    return "<![CDATA[" + clean.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def text_reply(to_user: str, from_user: str, content: str, *, now: float | None = None) -> str:
    """The passive text reply (to_user: the user's openid; from_user: the account)."""
    created = int(time.time() if now is None else now)
    return (
        f"<xml><ToUserName>{cdata(to_user)}</ToUserName>"
        f"<FromUserName>{cdata(from_user)}</FromUserName>"
        f"<CreateTime>{created}</CreateTime>"
        f"<MsgType>{cdata('text')}</MsgType>"
        f"<Content>{cdata(content)}</Content></xml>"
    )


def message_key(channel: str, account: str, msg: Message) -> str:
    """The dedupe key of a delivery: WeChat retries a callback up to three times.

    Messages carry MsgId; events do not, and WeChat's advice is FromUserName + CreateTime
    (the event name is added so two events of one second stay apart).
    """
    if msg.msg_id:
        return f"{channel}:{account}:{msg.msg_id}"
    return f"{channel}:{account}:{msg.from_user}:{msg.create_time}:{msg.event}"
