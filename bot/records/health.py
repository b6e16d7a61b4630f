"""Whether the records database takes writes, for `/healthz` and the stores' 503s."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from bot.errors import RecordsUnavailableError

log = logging.getLogger(__name__)


class RecordsHealth:
    """Whether the records database takes writes (SQLite file or PostgreSQL server).

    A write that fails marks it failing; a probe — one row committed to `records_probe`, so it
    really reaches the database — clears the mark. Probes run at most every `interval_s`, when
    `/healthz` asks or a request meets a failing store: recovery needs no restart.
    `probe` raises when the database does not take the write.
    """

    def __init__(self, probe: Callable[[], None], where: str, interval_s: float = 2.0) -> None:
        self.where = where  # for the log: a file path or a URL without its password
        self.interval_s = interval_s
        self.reason = ""  # why it failed, for the log; "" while it is healthy
        self._probe_write = probe
        self._probed = float("-inf")
        self._lock = threading.Lock()

    @property
    def ok(self) -> bool:
        return not self.reason

    def failed(self, exc: BaseException) -> None:
        """A write failed: the store is failing until a probe succeeds."""
        if self.ok:
            log.error("records store failing: %s (%s)", exc, self.where)
        self.reason = str(exc) or type(exc).__name__

    def check(self) -> bool:
        """Probe the database when a probe is due, and say whether it takes writes."""
        with self._lock:  # one probe at a time; a caller meanwhile gets its result
            now = time.monotonic()
            if now - self._probed >= self.interval_s:
                self._probed = now
                self._probe()
        return self.ok

    def require(self) -> None:
        """Raise `RecordsUnavailableError` unless the database takes writes (probing when due)."""
        if not self.check():
            raise RecordsUnavailableError(f"the records store cannot be written: {self.reason}")

    def _probe(self) -> None:
        try:
            self._probe_write()
        except RecordsUnavailableError as exc:
            self.failed(exc.__cause__ or exc)
            return
        if not self.ok:
            log.warning("records store writable again (%s)", self.where)
            self.reason = ""
