"""Thumbs up/down on answers, kept in the records database for the staff's review."""

from __future__ import annotations

import time
from pathlib import Path

from bot.sqlite import SQLiteTable

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL DEFAULT '',
    question TEXT NOT NULL, answer TEXT NOT NULL, rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    comment TEXT NOT NULL DEFAULT '', at REAL NOT NULL
);
"""


class FeedbackStore(SQLiteTable):
    def __init__(self, path: Path) -> None:
        super().__init__(path, _SCHEMA)

    def add(
        self, question: str, answer: str, rating: str, session_id: str = "", comment: str = ""
    ) -> int:
        with self._lock:
            cur = self._db.execute(
                "INSERT INTO feedback (session_id, question, answer, rating, comment, at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (session_id, question, answer, rating, comment, time.time()),
            )
        return int(cur.lastrowid or 0)

    def since(self, days: float, rating: str = "down") -> list[dict[str, object]]:
        """Feedback with this rating from the last `days` days, newest first."""
        keys = ("id", "session_id", "question", "answer", "rating", "comment", "at")
        return self._dicts(
            f"SELECT {', '.join(keys)} FROM feedback WHERE rating=? AND at>=? ORDER BY id DESC",
            (rating, time.time() - days * 86400),
            keys,
        )

    def recent(self, limit: int = 100) -> list[dict[str, object]]:
        keys = ("id", "session_id", "question", "answer", "rating", "comment", "at")
        return self._dicts(
            f"SELECT {', '.join(keys)} FROM feedback ORDER BY id DESC LIMIT ?", (limit,), keys
        )
