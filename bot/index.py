"""The knowledge index: the records database (what is live) plus Chroma vectors (how to find it)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from bot.config import Settings
from bot.embedding import Embedder, make_embedder
from bot.errors import IndexMismatchError
from bot.records import Database, upgrade
from bot.store import RecordStore
from bot.vectors import VectorIndex


@dataclass
class KnowledgeIndex:
    """Records and vectors under one data directory, built with one embedder."""

    settings: Settings
    embedder: Embedder
    records: RecordStore
    vectors: VectorIndex
    # Held by every writer in this process (ingest, uploads, FAQ edits): a writer's tidy-up
    # of unreferenced vectors must not see another's vectors before their records swap.
    write_lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @classmethod
    def open(cls, settings: Settings, embedder: Embedder | None = None) -> KnowledgeIndex:
        embedder = embedder or make_embedder(settings.embedding)
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        database = Database.from_settings(settings)
        upgrade(database)  # before any store touches a table (a no-op once at head)
        return cls(
            settings=settings,
            embedder=embedder,
            records=RecordStore(database),
            vectors=VectorIndex(embedder, path=settings.chroma_dir),
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
