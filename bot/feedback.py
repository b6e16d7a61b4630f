"""Thumbs up/down on answers, kept in the records database for the staff's review."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL DEFAULT '',
    question TEXT NOT NULL, answer TEXT NOT NULL, rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    comment TEXT NOT NULL DEFAULT '', at REAL NOT NULL
);
"""


class FeedbackStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

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

    def recent(self, limit: int = 100) -> list[dict[str, object]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, session_id, question, answer, rating, comment, at FROM feedback"
                " ORDER BY id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        keys = ("id", "session_id", "question", "answer", "rating", "comment", "at")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
