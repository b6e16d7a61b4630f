"""Who changed what and when — every staff change to the knowledge base, in the records DB."""

from __future__ import annotations

import csv
import io
import sqlite3
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, user TEXT NOT NULL,
    action TEXT NOT NULL, target TEXT NOT NULL, old_version INTEGER, new_version INTEGER,
    detail TEXT NOT NULL DEFAULT ''
);
"""
COLUMNS = ("id", "at", "user", "action", "target", "old_version", "new_version", "detail")


def _cell(value: object) -> object:
    """Spreadsheets run cells that start with = + - @ as formulas: quote them."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


class AuditLog:
    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    def record(
        self,
        user: str,
        action: str,
        target: str,
        old_version: int | None = None,
        new_version: int | None = None,
        detail: str = "",
    ) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO audit_log (at, user, action, target, old_version, new_version, detail)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (time.time(), user, action, target, old_version, new_version, detail),
            )

    def entries(self, limit: int = 500) -> list[dict[str, object]]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT {', '.join(COLUMNS)} FROM audit_log ORDER BY id DESC LIMIT ?", (limit,)
            ).fetchall()
        out = []
        for row in rows:
            entry = dict(zip(COLUMNS, row, strict=True))
            entry["at"] = datetime.fromtimestamp(float(row[1]), UTC).isoformat(timespec="seconds")
            out.append(entry)
        return out

    def csv(self, limit: int = 100_000) -> str:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
        writer.writeheader()
        for entry in self.entries(limit):
            writer.writerow({k: _cell(v) for k, v in entry.items()})
        return "\ufeff" + buffer.getvalue()  # BOM: Excel opens the Chinese text correctly

    def close(self) -> None:
        with self._lock:
            self._db.close()
