"""Dependencies handed to routes (built once in the lifespan, never at import time)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from bot.assistant import Assistant


def get_assistant(request: Request) -> Assistant:
    return request.app.state.assistant  # type: ignore[no-any-return]


AssistantDep = Annotated[Assistant, Depends(get_assistant)]
