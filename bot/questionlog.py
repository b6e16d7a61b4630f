"""Every question asked and whether it was answered — what the staff's insight pages read.

Kept in the records file for `retention_days` (default 180), then pruned: questions can
carry personal details, and old ones say little about today's knowledge base.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from bot.sqlite import RecordsHealth, SQLiteTable

_SCHEMA = """
CREATE TABLE IF NOT EXISTS question_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, session_id TEXT NOT NULL,
    question TEXT NOT NULL, standalone TEXT NOT NULL, answered INTEGER NOT NULL,
    mode TEXT NOT NULL, top_doc TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS question_log_at ON question_log(at);
"""
# Columns added after the first release: (name, declaration), added in place when missing.
_ADDED = (
    ("confidence", "REAL"),  # how well the evidence covered the question (NULL: not measured)
    ("reason", "TEXT NOT NULL DEFAULT ''"),  # why it was refused (weak_evidence, not_in_evidence …)
)
DAY = 86400.0


class QuestionLog(SQLiteTable):
    def __init__(
        self, path: Path, retention_days: float = 180.0, health: RecordsHealth | None = None
    ) -> None:
        super().__init__(path, _SCHEMA, health)
        self.retention_s = retention_days * DAY
        with self._lock:
            have = {row[1] for row in self._db.execute("PRAGMA table_info(question_log)")}
            for name, declaration in _ADDED:
                if name not in have:
                    self._db.execute(f"ALTER TABLE question_log ADD COLUMN {name} {declaration}")

    def add(
        self,
        question: str,
        standalone: str,
        answered: bool,
        mode: str,
        top_doc: str = "",
        session_id: str = "",
        now: float | None = None,
        confidence: float | None = None,
        reason: str = "",
    ) -> None:
        with self.transaction() as db:
            self.write(
                db,
                question,
                standalone,
                answered,
                mode,
                top_doc,
                session_id,
                now,
                confidence,
                reason,
            )

    def write(
        self,
        db: sqlite3.Connection,
        question: str,
        standalone: str,
        answered: bool,
        mode: str,
        top_doc: str = "",
        session_id: str = "",
        now: float | None = None,
        confidence: float | None = None,
        reason: str = "",
    ) -> None:
        """Log a question inside the caller's transaction `db`."""
        now = time.time() if now is None else now
        db.execute(
            "INSERT INTO question_log (at, session_id, question, standalone, answered, mode,"
            " top_doc, confidence, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                now,
                session_id,
                question,
                standalone,
                int(answered),
                mode,
                top_doc,
                confidence,
                reason,
            ),
        )
        db.execute("DELETE FROM question_log WHERE at < ?", (now - self.retention_s,))

    def since(self, days: float, now: float | None = None) -> list[dict[str, object]]:
        """Questions of the last `days` days, newest first."""
        now = time.time() if now is None else now
        keys = (
            "at", "question", "standalone", "answered", "mode", "top_doc", "confidence", "reason"
        )  # fmt: skip
        return self._dicts(
            f"SELECT {', '.join(keys)} FROM question_log WHERE at >= ? ORDER BY id DESC",
            (now - days * DAY,),
            keys,
        )
