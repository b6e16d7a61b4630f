"""Who changed what and when — every staff change to the knowledge base, in the records DB."""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, datetime
from pathlib import Path

from bot.sqlite import SQLiteTable

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


class AuditLog(SQLiteTable):
    def __init__(self, path: Path) -> None:
        super().__init__(path, _SCHEMA)

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
        entries = self._dicts(
            f"SELECT {', '.join(COLUMNS)} FROM audit_log ORDER BY id DESC LIMIT ?",
            (limit,),
            COLUMNS,
        )
        for entry in entries:
            stamp = float(str(entry["at"]))
            entry["at"] = datetime.fromtimestamp(stamp, UTC).isoformat(timespec="seconds")
        return entries

    def csv(self, limit: int = 100_000) -> str:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
        writer.writeheader()
        for entry in self.entries(limit):
            writer.writerow({k: _cell(v) for k, v in entry.items()})
        return "\ufeff" + buffer.getvalue()  # BOM: Excel opens the Chinese text correctly
