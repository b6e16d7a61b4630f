"""The records file as the small stores not yet ported to bot/records use it: one shared
sqlite3 connection, rows as dicts, write transactions that are all or nothing.

Their tables are created by the Alembic migrations (bot/records) at start-up, so the
`CREATE TABLE IF NOT EXISTS` each store still runs is a no-op there; it keeps a store
built alone (a test, `python -m web create-admin`) working until it is ported.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from bot.errors import RecordsUnavailableError
from bot.records.database import unwritable
from bot.records.health import RecordsHealth

__all__ = ["RecordsHealth", "SQLiteTable", "unwritable"]


class SQLiteTable:
    """Base for a store with its own tables in the records file; every use holds the lock.

    `health`, when given, learns of every write through `_transaction` that the file refused.
    """

    def __init__(self, path: Path, schema: str, health: RecordsHealth | None = None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.health = health
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL: a commit is atomic and survives a crash of the process; only the
        # last commits before a power cut may be lost. FULL fsyncs every commit, which cost
        # each answer ~10 ms of waiting for its session and question-log rows.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(schema)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction under the lock: all of it is committed or none of it.

        A file that cannot take it raises `RecordsUnavailableError` (and marks `health`
        failing); SQLite has rolled back whatever the transaction wrote.
        """
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                except BaseException:
                    self._rollback()
                    raise
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                if not unwritable(exc):
                    raise
                if self.health is not None:
                    self.health.failed(exc)
                raise RecordsUnavailableError(
                    f"the records store cannot be written: {exc}"
                ) from exc

    def _rollback(self) -> None:
        if self._db.in_transaction:
            with contextlib.suppress(sqlite3.Error):  # a failed I/O may have ended it already
                self._db.execute("ROLLBACK")

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
