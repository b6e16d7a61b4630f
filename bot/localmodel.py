"""Loading sentence-transformers models from a local directory only, never from a hub."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from bot.errors import ConfigurationError

Model = TypeVar("Model")


def load_local_model(
    model_dir: str | Path,
    load: Callable[[str], Model],
    *,
    markers: tuple[str, ...],
    what: str,
    what_zh: str,
) -> tuple[Model, Path]:
    """`load(path)` for a folder holding one of `markers`; errors become ConfigurationError."""
    path = Path(model_dir).expanduser()
    if not any((path / marker).exists() for marker in markers):
        raise ConfigurationError(
            f"no {what} in {path} (expected {' or '.join(markers)})",
            message_zh=f"目录 {path} 中没有可用的{what_zh}",
        )
    # Never reach for a hub: the model must be complete on disk.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        return load(str(path)), path
    except Exception as exc:  # vendor errors vary by version; translate at the boundary
        raise ConfigurationError(
            f"cannot load {what} from {path}: {exc}", message_zh=f"无法加载{what_zh} {path}"
        ) from exc
