"""Structured logs: one JSON object a line, the request's id on every line written inside it,
and personal data (mobile numbers, 身份证 numbers, e-mail addresses) masked on the way out.

Masking is for logs only: the staff's question log (access-controlled) keeps questions as
asked, so that staff can call back a citizen who left a number.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass
class RequestRecord:
    """What one request's log line and metrics say about it, filled in as it is served."""

    request_id: str
    fields: dict[str, Any] = field(default_factory=dict)  # added to the request's log line
    llm_failed: bool = False  # an LLM call failed while it was served (extractive fallback)


# The request being served (threads that answer it inherit it: Starlette copies the context).
current_request: ContextVar[RequestRecord | None] = ContextVar("current_request", default=None)

# 身份证: 17 digits and a digit or X (18), or the old 15 digits; not inside a longer number.
_ID_CARD = re.compile(r"(?<!\d)(?:\d{17}[\dXx]|\d{15})(?!\d)")
# mainland mobile numbers: 1[3-9]x xxxx xxxx, spaces or dashes between the groups, +86 / 86
_MOBILE = re.compile(r"(?<![\d+])(?:\+?86[ -]?)?(1[3-9]\d)[ -]?(\d{4})[ -]?(\d{4})(?!\d)")
_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")


_CREDENTIAL = re.compile(
    r"\b(secret|corpsecret|access_token|js_code|session_key|appsecret)=[^&\s\"']+", re.I
)


def mask(text: str) -> str:
    """`13812345678` → `138****5678`, `11010519491231002X` → `1101**********002X`,
    `alice@example.com` → `a***@example.com`; WeChat credentials in a URL (`secret=`,
    `access_token=` …) → `secret=***`."""
    text = _CREDENTIAL.sub(lambda m: f"{m[1]}=***", text)
    text = _ID_CARD.sub(lambda m: m[0][:4] + "*" * (len(m[0]) - 8) + m[0][-4:], text)
    text = _MOBILE.sub(lambda m: f"{m[1]}****{m[3]}", text)
    return _EMAIL.sub(lambda m: f"{m[1]}***@{m[2]}", text)


def _request_fields(record: logging.LogRecord) -> None:
    if not hasattr(record, "request_id"):
        current = current_request.get()
        record.request_id = current.request_id if current else ""


class JsonFormatter(logging.Formatter):
    """`{"time", "level", "logger", "message", "request_id"?, …fields, "exc"?}`, one line."""

    def format(self, record: logging.LogRecord) -> str:
        _request_fields(record)
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": mask(record.getMessage()),
        }
        if record.request_id:  # type: ignore[attr-defined]
            line["request_id"] = record.request_id  # type: ignore[attr-defined]
        line.update(getattr(record, "fields", None) or {})
        if record.exc_info:
            line["exc"] = mask(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """The same, for a person at a terminal: `time LEVEL logger [request id] message k=v …`."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(request_tag)s%(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        rid = record.request_id  # type: ignore[attr-defined]
        record.request_tag = f"[{rid}] " if rid else ""
        fields = getattr(record, "fields", None) or {}
        line = super().formatMessage(record)
        return " ".join([line, *(f"{k}={v}" for k, v in fields.items())])

    def format(self, record: logging.LogRecord) -> str:
        _request_fields(record)
        return mask(super().format(record))


def configure_logging(fmt: str = "json", level: str = "INFO") -> None:
    """Every log line of the process through one handler on stderr, uvicorn's included (its
    access log is off: the request line is ours)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # httpx logs every request's URL at INFO: WeChat's carry the AppSecret and access tokens
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
