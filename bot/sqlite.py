"""The records database as the small stores use it: one shared connection, rows as dicts."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path


class SQLiteTable:
    """Base for a store with its own tables in the records file; every use holds the lock."""

    def __init__(self, path: Path, schema: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL: a commit is atomic and survives a crash of the process; only the
        # last commits before a power cut may be lost. FULL fsyncs every commit, which cost
        # each answer ~10 ms of waiting for its session and question-log rows.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(schema)

    def _dicts(
        self, sql: str, params: Sequence[object], keys: Sequence[str]
    ) -> list[dict[str, object]]:
        """Rows of a query as dicts with the given keys, in column order."""
        with self._lock:
            rows = self._db.execute(sql, params).fetchall()
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
