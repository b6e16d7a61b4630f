"""江岸企服助手: retrieval and answering, usable in-process (`from bot import Assistant`)."""

from bot.assistant import Assistant
from bot.config import Settings
from bot.models import Answer, Source

__all__ = ["Answer", "Assistant", "Settings", "Source"]
