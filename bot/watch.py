"""Replicas agree: every process serving one records database follows its changes.

Every change to what is answered (a file indexed or removed, an FAQ entry, a policy edit)
bumps the knowledge-base version in the same transaction (`bump_kb_version`). A
`KnowledgeWatcher` reads that version every `BOT_KB_POLL_SECONDS` and, when it moved past
the one the live snapshot was built at, rebuilds the snapshot — documents, chunks, lexical
index, the vectors it has not seen — in its own thread and swaps it in whole. Questions are
answered from the old snapshot meanwhile; one rebuild at a time (the retriever's lock).

Polling one row costs one indexed read per second per replica and needs nothing from the
engine, so it works the same on SQLite (several processes on one file) and PostgreSQL.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from bot.records import Database

log = logging.getLogger(__name__)


class KnowledgeWatcher:
    """Polls the knowledge-base version; calls `refresh` when it is ahead of `loaded()`."""

    def __init__(
        self,
        database: Database,
        loaded: Callable[[], int],
        refresh: Callable[[], None],
        interval_s: float = 1.0,
    ) -> None:
        self.database = database
        self.loaded = loaded
        self.refresh = refresh
        self.interval_s = interval_s
        self.reloads = 0  # rebuilds caused by another process's change (for /metrics, tests)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing = False

    def start(self) -> None:
        if self.interval_s <= 0 or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="kb-watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def check(self) -> bool:
        """One poll: rebuild if the database is ahead; whether it did."""
        current = self.database.kb_version()
        if current == self.loaded():
            return False
        started = time.perf_counter()
        self.refresh()
        self.reloads += 1
        log.info(
            "knowledge base changed (version %d): reloaded in %.2f s",
            current,
            time.perf_counter() - started,
        )
        return True

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.check()
            except Exception as exc:  # database or vector store away: keep serving, retry
                if not self._failing:
                    log.warning("knowledge-base watcher: %s (serving what is loaded)", exc)
                self._failing = True
            else:
                if self._failing:
                    log.info("knowledge-base watcher: working again")
                self._failing = False
