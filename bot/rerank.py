"""Optional second-stage reranking with a local sentence-transformers cross-encoder.

Off by default: no Chinese cross-encoder can be installed on the offline build machine. A
district that has one (bge-reranker-base, bge-reranker-v2-m3 …) sets
`BOT_RERANKER=st:/path/to/model`; the retriever then reorders its best candidates by the
cross-encoder's score of (question, best passage).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from bot.errors import ConfigurationError


class CrossEncoderReranker:
    """Scores (question, passage) pairs with a cross-encoder loaded from a local directory."""

    def __init__(self, model_dir: str | Path, device: str = "cpu", max_length: int = 512) -> None:
        path = Path(model_dir).expanduser()
        if not (path / "config.json").exists():
            raise ConfigurationError(
                f"no cross-encoder model in {path} (expected config.json)",
                message_zh=f"目录 {path} 中没有可用的重排序（cross-encoder）模型",
            )
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import CrossEncoder

        try:
            self._model = CrossEncoder(
                str(path), device=device, max_length=max_length, local_files_only=True
            )
        except Exception as exc:  # vendor errors vary by version; translate at the boundary
            raise ConfigurationError(
                f"cannot load cross-encoder from {path}: {exc}",
                message_zh=f"无法加载重排序模型 {path}",
            ) from exc
        self.name = f"st:{path.resolve().name}"

    def score(self, question: str, passages: list[str]) -> np.ndarray:
        """One relevance score per passage (higher is better)."""
        if not passages:
            return np.zeros(0, dtype=np.float32)
        scores = self._model.predict(
            [(question, p) for p in passages], show_progress_bar=False, convert_to_numpy=True
        )
        return np.asarray(scores, dtype=np.float32).reshape(len(passages), -1)[:, -1]


def make_reranker(spec: str) -> CrossEncoderReranker | None:
    """`BOT_RERANKER`: empty (off) or `st:/path/to/cross-encoder`."""
    if not spec:
        return None
    if spec.startswith("st:"):
        return CrossEncoderReranker(spec[3:])
    raise ConfigurationError(
        f"unknown reranker {spec!r}: leave it empty or use 'st:/path/to/cross-encoder'",
        message_zh=f"未知的重排序设置 {spec!r}：请留空或使用 st:/模型目录",
    )
