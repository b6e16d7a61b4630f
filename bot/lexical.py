"""BM25 over Chinese tokens (bm25s), for chunks or whole documents."""

from __future__ import annotations

import logging

import bm25s
import numpy as np

from bot.text import tokenize

logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every index build at DEBUG


class LexicalIndex:
    """A BM25 index over a fixed list of texts; scores come back in that order."""

    def __init__(
        self, texts: list[str], mode: str = "bigram", k1: float = 1.5, b: float = 0.75
    ) -> None:
        self.mode = mode
        self.size = len(texts)
        corpus = [tokenize(t, mode) or [""] for t in texts]
        self._bm25 = bm25s.BM25(k1=k1, b=b)
        if corpus:
            self._bm25.index(corpus, show_progress=False)
        self._vocab: dict[str, int] = dict(getattr(self._bm25, "vocab_dict", {}) or {})

    def query_tokens(self, query: str) -> list[str]:
        return tokenize(query, self.mode)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every text for the query (zeros when nothing matches)."""
        tokens = [t for t in self.query_tokens(query) if t in self._vocab]
        if not tokens or self.size == 0:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)
