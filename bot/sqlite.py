"""The records database as the small stores use it: one shared connection, rows as dicts,
write transactions that are all or nothing, and whether the file takes writes at all."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from bot.errors import RecordsUnavailableError

log = logging.getLogger(__name__)

# Result codes that say the file cannot take a write now — not that a statement is wrong.
_UNWRITABLE = {
    sqlite3.SQLITE_BUSY,  # locked by another writer for longer than the busy timeout
    sqlite3.SQLITE_LOCKED,
    sqlite3.SQLITE_READONLY,
    sqlite3.SQLITE_IOERR,  # a write(2) that failed: EIO, EFBIG (file size limit) …
    sqlite3.SQLITE_FULL,  # ENOSPC
    sqlite3.SQLITE_CANTOPEN,
    sqlite3.SQLITE_PROTOCOL,
}


def unwritable(exc: BaseException) -> bool:
    """Whether an SQLite error means the file cannot be written (the primary result code)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return isinstance(exc, sqlite3.Error) and code is not None and code & 0xFF in _UNWRITABLE


class RecordsHealth:
    """Whether the records file takes writes.

    A write that fails marks it failing; a probe — one row committed to `records_probe`, so it
    really reaches the file — clears the mark. Probes run at most every `interval_s`, when
    `/healthz` asks or a request meets a failing store: recovery needs no restart.
    """

    def __init__(self, path: Path, interval_s: float = 2.0, timeout_s: float = 5.0) -> None:
        self.path = path
        self.interval_s = interval_s
        self.timeout_s = timeout_s  # as long as a store waits for a lock (sqlite3's default)
        self.reason = ""  # why it failed, for the log; "" while it is healthy
        self._probed = float("-inf")
        self._lock = threading.Lock()

    @property
    def ok(self) -> bool:
        return not self.reason

    def failed(self, exc: BaseException) -> None:
        """A write failed: the store is failing until a probe succeeds."""
        if self.ok:
            log.error("records store failing: %s (%s)", exc, self.path)
        self.reason = str(exc) or type(exc).__name__

    def check(self) -> bool:
        """Probe the file when a probe is due, and say whether it takes writes."""
        with self._lock:  # one probe at a time; a caller meanwhile gets its result
            now = time.monotonic()
            if now - self._probed >= self.interval_s:
                self._probed = now
                self._probe()
        return self.ok

    def require(self) -> None:
        """Raise `RecordsUnavailableError` unless the file takes writes (probing when due)."""
        if not self.check():
            raise RecordsUnavailableError(f"the records store cannot be written: {self.reason}")

    def _probe(self) -> None:
        try:
            db = sqlite3.connect(self.path, timeout=self.timeout_s, isolation_level=None)
            try:
                db.execute(
                    "CREATE TABLE IF NOT EXISTS records_probe"
                    " (id INTEGER PRIMARY KEY CHECK (id = 1), at REAL NOT NULL)"
                )
                db.execute("INSERT OR REPLACE INTO records_probe VALUES (1, ?)", (time.time(),))
            finally:
                db.close()
        except sqlite3.Error as exc:
            self.failed(exc)
            return
        if not self.ok:
            log.warning("records store writable again (%s)", self.path)
            self.reason = ""


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
