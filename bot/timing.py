"""How long named steps take (`embedding`, `retrieval`, `llm`), told to whoever listens.

The bot knows nothing of Prometheus: the web layer listens and exports the durations. With
no listener a timed step costs two clock reads.
"""

from __future__ import annotations

import functools
import time
from collections.abc import AsyncGenerator, Callable, Iterator
from contextlib import aclosing, contextmanager
from typing import ParamSpec, TypeVar

# name, seconds, whether the step raised
Listener = Callable[[str, float, bool], None]
_listeners: list[Listener] = []

P = ParamSpec("P")
T = TypeVar("T")


def listen(listener: Listener) -> None:
    """Be told of every timed step from now on (once, however often it is called)."""
    if listener not in _listeners:
        _listeners.append(listener)


@contextmanager
def timed(name: str) -> Iterator[None]:
    """Time a block — or, as `@timed(name)`, every call of a function."""
    started = time.perf_counter()
    failed = False
    try:
        yield
    except Exception:
        failed = True
        raise
    finally:
        if _listeners:
            took = time.perf_counter() - started
            for listener in list(_listeners):
                listener(name, took, failed)


def timed_stream(
    name: str,
) -> Callable[[Callable[P, AsyncGenerator[T, None]]], Callable[P, AsyncGenerator[T, None]]]:
    """`@timed_stream(name)` on an async generator: from its start to its last item (closing
    the wrapper closes the wrapped generator at once, so its clean-up runs)."""

    def wrap(make: Callable[P, AsyncGenerator[T, None]]) -> Callable[P, AsyncGenerator[T, None]]:
        @functools.wraps(make)
        async def run(*args: P.args, **kwargs: P.kwargs) -> AsyncGenerator[T, None]:
            with timed(name):
                async with aclosing(make(*args, **kwargs)) as items:
                    async for item in items:
                        yield item

        return run

    return wrap
