"""An OpenAI-compatible chat model (DeepSeek, Qwen gateways, vLLM, Ollama …), sync and streaming.

Vendor errors are translated into `GenerationError` here, so the rest of the bot only has to
decide what to do when the model is unavailable: answer extractively.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import anyio
import httpx
import openai

from bot.config import Settings
from bot.errors import GenerationError
from bot.timing import timed, timed_stream

Message = dict[str, str]


def _failure(exc: Exception) -> GenerationError:
    if isinstance(exc, openai.APITimeoutError | httpx.TimeoutException):
        reason = "timed out"
    elif isinstance(exc, openai.APIConnectionError):
        reason = "cannot connect"
    elif isinstance(exc, openai.APIStatusError):
        reason = f"HTTP {exc.status_code}"
    else:
        reason = type(exc).__name__
    return GenerationError(f"LLM request failed: {reason}")


class ChatModel:
    """One chat-completions endpoint; no retries, so a failure falls back at once."""

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str = "",
        timeout_s: float = 20.0,
        max_tokens: int = 600,
    ) -> None:
        self.model = model
        self.max_tokens = max_tokens
        options: dict[str, Any] = {
            "base_url": base_url.rstrip("/"),
            # the SDK insists on a key; intranet servers usually ignore it
            "api_key": api_key or "none",
            "timeout": timeout_s,
            "max_retries": 0,
        }
        self._sync = openai.OpenAI(**options)
        self._async = openai.AsyncOpenAI(**options)

    @classmethod
    def from_settings(cls, settings: Settings) -> ChatModel | None:
        if not settings.llm_enabled:
            return None
        return cls(
            settings.llm_base_url,
            settings.llm_model,
            settings.llm_api_key,
            settings.llm_timeout_s,
            settings.llm_max_tokens,
        )

    @timed("llm")
    def complete(self, messages: list[Message], max_tokens: int | None = None) -> str:
        """The whole reply; raises `GenerationError` when there is none."""
        try:
            reply = self._sync.chat.completions.create(
                model=self.model,
                messages=messages,  # type: ignore[arg-type]
                temperature=0.1,
                max_tokens=max_tokens or self.max_tokens,
            )
        except Exception as exc:  # vendor and gateway oddities alike: the caller falls back
            raise _failure(exc) from exc
        try:
            text = (reply.choices[0].message.content or "") if reply.choices else ""
        except (AttributeError, IndexError, TypeError) as exc:
            raise GenerationError("LLM reply has an unexpected shape") from exc
        if not text.strip():
            raise GenerationError("LLM returned an empty reply")
        return text

    @timed_stream("llm")
    async def stream(self, messages: list[Message]) -> AsyncGenerator[str, None]:
        """Text deltas as they arrive. Closing the iterator closes the HTTP request."""
        try:
            response: Any = await self._async.chat.completions.create(
                model=self.model,
                messages=messages,  # type: ignore[arg-type]
                temperature=0.1,
                max_tokens=self.max_tokens,
                stream=True,
            )
        except Exception as exc:
            raise _failure(exc) from exc
        produced = finished = False
        try:
            async for chunk in response:
                if not chunk.choices:
                    continue
                choice = chunk.choices[0]
                finished = finished or choice.finish_reason is not None
                if choice.delta and choice.delta.content:
                    produced = True
                    yield choice.delta.content
        except Exception as exc:  # bad JSON from a gateway, dropped connections …
            raise _failure(exc) from exc
        finally:
            # a client that went away cancels us: close the upstream request even so
            with anyio.CancelScope(shield=True):
                await response.close()
        if not produced:
            raise GenerationError("LLM returned an empty reply")
        if not finished:  # the connection dropped: what arrived is not the whole answer
            raise GenerationError("LLM stream ended before the answer was complete")

    async def aclose(self) -> None:
        await self._async.close()

    def close(self) -> None:
        self._sync.close()
