"""The knowledge index: the records database (what is live) plus Chroma vectors (how to find it).

Crash safety, on the embedded directory and on a Chroma server alike: a writer upserts the
new vectors first, then swaps the records in one transaction, and only afterwards removes
vectors no live chunk refers to; a crash in between leaves extra vectors, never a live chunk
without its vector (ingest/pipeline.py)."""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field

from bot.config import Settings
from bot.embedding import Embedder, make_embedder
from bot.errors import IndexMismatchError
from bot.records import Database, upgrade
from bot.store import RecordStore
from bot.vectors import DIRECTORY_LOCKS, VectorIndex


def claim_vectors(settings: Settings) -> None:
    """For a serving process (`python -m web`): hold the embedded vector directory from now
    until the process ends, so a second writer is refused before anything is loaded (raises
    VectorStoreBusyError). Nothing to hold on a Chroma server."""
    if not settings.chroma_url:
        DIRECTORY_LOCKS.acquire(settings.chroma_dir)


class WriterLock:
    """Held by every writer of the index (ingest, uploads, FAQ edits): exclusive across the
    threads of this process *and* across processes and replicas on one records database —
    a writer's tidy-up of unreferenced vectors must not see another's vectors before their
    records swap, and two replicas must not both decide a file is new. Reentrant within a
    thread (an upload holds it and runs an ingest that takes it again)."""

    NAME = "index-writer"

    def __init__(self, database: Database) -> None:
        self.database = database
        self._local = threading.RLock()
        self._depth = 0
        self._held: contextlib.ExitStack | None = None

    def __enter__(self) -> WriterLock:
        self._local.acquire()
        try:
            if self._depth == 0:
                stack = contextlib.ExitStack()
                stack.enter_context(self.database.exclusive(self.NAME))
                self._held = stack
            self._depth += 1
        except BaseException:
            self._local.release()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._depth -= 1
            if self._depth == 0 and self._held is not None:
                held, self._held = self._held, None
                held.close()
        finally:
            self._local.release()


@dataclass
class KnowledgeIndex:
    """Records and vectors under one data directory, built with one embedder."""

    settings: Settings
    embedder: Embedder
    records: RecordStore
    vectors: VectorIndex
    write_lock: WriterLock = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.write_lock = WriterLock(self.records.database)

    @classmethod
    def open(
        cls, settings: Settings, embedder: Embedder | None = None, *, writer: bool = True
    ) -> KnowledgeIndex:
        """Records and vectors of `settings`. A `writer` (ingest, the web server) holds the
        embedded Chroma directory for its process: a second writing process stops here, at
        once, with VectorStoreBusyError (before the embedder is loaded). Readers
        (`python -m bot ask`/`eval`) and a Chroma server (`BOT_CHROMA_URL`) take no lock."""
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        database = Database.from_settings(settings)
        upgrade(database)  # before any store touches a table (a no-op once at head)
        lock = (
            None
            if settings.chroma_url or not writer
            else DIRECTORY_LOCKS.acquire(settings.chroma_dir)
        )
        try:
            embedder = embedder or make_embedder(settings.embedding)
            vectors = VectorIndex(
                embedder,
                path=settings.chroma_dir,
                url=settings.chroma_url or None,
                headers=settings.chroma_header_map,
                writer=writer,
            )
        finally:
            if lock is not None:
                DIRECTORY_LOCKS.release(lock)  # the VectorIndex holds its own share now
        return cls(
            settings=settings,
            embedder=embedder,
            records=RecordStore(database),
            vectors=vectors,
        )

    @property
    def database(self) -> Database:
        return self.records.database

    def embedder_matches(self) -> bool:
        stored = self.records.get_meta("embedder")
        return stored is None or stored == self.embedder.name

    def check_embedder(self) -> None:
        """Refuse to search vectors made by another model (the scores would be noise)."""
        if not self.embedder_matches():
            raise IndexMismatchError(
                f"the index was built with {self.records.get_meta('embedder')}, "
                f"but BOT_EMBEDDING gives {self.embedder.name}; run `python -m ingest` again"
            )

    def close(self) -> None:
        self.records.close()
        self.vectors.close()
