"""Dependencies handed to routes (built once in the lifespan, never at import time)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from bot.assistant import Assistant


async def get_assistant(request: Request) -> Assistant:
    # async: a plain `def` dependency would cost every request a hop to the thread pool
    return request.app.state.assistant  # type: ignore[no-any-return]


AssistantDep = Annotated[Assistant, Depends(get_assistant)]
