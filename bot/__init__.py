"""江岸企服助手: retrieval and answering, usable in-process (`from bot import Assistant`)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.assistant import Assistant
    from bot.config import Settings
    from bot.models import Answer, Source

__all__ = ["Answer", "Assistant", "Settings", "Source"]
# Imported when first asked for: a child process that needs only `bot.errors` (a file
# converter, ingest/isolate.py) then starts in a fraction of a second, not in five.
_HOME = {
    "Assistant": "bot.assistant",
    "Settings": "bot.config",
    "Answer": "bot.models",
    "Source": "bot.models",
}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(importlib.import_module(_HOME[name]), name)
    raise AttributeError(f"module 'bot' has no attribute {name!r}")
