"""Conversations: the last turns of each session, kept in the records database.

A session is forgotten once it has been idle for `idle_minutes`; only the last `max_turns`
turns are kept, which is all a follow-up question needs.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from bot.sqlite import SQLiteTable

_SCHEMA = """
CREATE TABLE IF NOT EXISTS session_turns (
    session_id TEXT NOT NULL, turn INTEGER NOT NULL, question TEXT NOT NULL,
    standalone TEXT NOT NULL, answer TEXT NOT NULL, answered INTEGER NOT NULL,
    doc_ids TEXT NOT NULL DEFAULT '', at REAL NOT NULL,
    PRIMARY KEY (session_id, turn)
);
CREATE INDEX IF NOT EXISTS session_turns_at ON session_turns(at);
"""
_VALID_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")


@dataclass(frozen=True)
class Turn:
    question: str  # as asked
    standalone: str  # as searched, after follow-up rewriting
    answer: str
    answered: bool
    doc_ids: tuple[str, ...] = ()


class SessionStore(SQLiteTable):
    """Thread-safe; one SQLite connection shared by the request threads."""

    def __init__(self, path: Path, max_turns: int = 6, idle_minutes: float = 30.0) -> None:
        super().__init__(path, _SCHEMA)
        self.max_turns = max_turns
        self.idle_s = idle_minutes * 60

    @staticmethod
    def new_id() -> str:
        return uuid.uuid4().hex

    @staticmethod
    def valid_id(session_id: str | None) -> bool:
        return bool(session_id and _VALID_ID.match(session_id))

    def history(self, session_id: str, now: float | None = None) -> list[Turn]:
        """The kept turns of a live session, oldest first ([] when unknown or expired)."""
        now = time.time() if now is None else now
        with self._lock:
            self._expire(now)
            rows = self._db.execute(
                "SELECT question, standalone, answer, answered, doc_ids FROM session_turns"
                " WHERE session_id=? ORDER BY turn DESC LIMIT ?",
                (session_id, self.max_turns),
            ).fetchall()
        return [
            Turn(q, s, a, bool(ok), tuple(d for d in ids.split("\n") if d))
            for q, s, a, ok, ids in reversed(rows)
        ]

    def append(self, session_id: str, turn: Turn, now: float | None = None) -> None:
        now = time.time() if now is None else now
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                (last,) = self._db.execute(
                    "SELECT COALESCE(MAX(turn), 0) FROM session_turns WHERE session_id=?",
                    (session_id,),
                ).fetchone()
                self._db.execute(
                    "INSERT INTO session_turns VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        session_id,
                        last + 1,
                        turn.question,
                        turn.standalone,
                        turn.answer,
                        int(turn.answered),
                        "\n".join(turn.doc_ids),
                        now,
                    ),
                )
                # the whole session stays alive with its newest turn
                self._db.execute(
                    "UPDATE session_turns SET at=? WHERE session_id=?", (now, session_id)
                )
                self._db.execute(
                    "DELETE FROM session_turns WHERE session_id=? AND turn<=?",
                    (session_id, last + 1 - max(self.max_turns, 1)),
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _expire(self, now: float) -> None:
        self._db.execute("DELETE FROM session_turns WHERE at < ?", (now - self.idle_s,))
