"""Optional second-stage reranking with a local sentence-transformers cross-encoder.

Off by default: no Chinese cross-encoder can be installed on the offline build machine. A
district that has one (bge-reranker-base, bge-reranker-v2-m3 …) sets
`BOT_RERANKER=st:/path/to/model`; the retriever then reorders its best candidates by the
cross-encoder's score of (question, best passage).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bot.errors import ConfigurationError
from bot.localmodel import load_local_model


class CrossEncoderReranker:
    """Scores (question, passage) pairs with a cross-encoder loaded from a local directory."""

    def __init__(self, model_dir: str | Path, device: str = "cpu", max_length: int = 512) -> None:
        from sentence_transformers import CrossEncoder

        self._model, path = load_local_model(
            model_dir,
            lambda p: CrossEncoder(p, device=device, max_length=max_length, local_files_only=True),
            markers=("config.json",),
            what="cross-encoder model",
            what_zh="重排序（cross-encoder）模型",
        )
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
