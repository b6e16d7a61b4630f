"""Conversations: the last turns of each session, kept in the records database.

A session is forgotten once it has been idle for `idle_minutes`; only the last `max_turns`
turns are kept, which is all a follow-up question needs.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from bot.sqlite import RecordsHealth, SQLiteTable

_SCHEMA = """
CREATE TABLE IF NOT EXISTS session_turns (
    session_id TEXT NOT NULL, turn INTEGER NOT NULL, question TEXT NOT NULL,
    standalone TEXT NOT NULL, answer TEXT NOT NULL, answered INTEGER NOT NULL,
    doc_ids TEXT NOT NULL DEFAULT '', at REAL NOT NULL,
    PRIMARY KEY (session_id, turn)
);
CREATE INDEX IF NOT EXISTS session_turns_at ON session_turns(at);
CREATE TABLE IF NOT EXISTS session_key (id INTEGER PRIMARY KEY CHECK (id = 1), secret BLOB NOT NULL);
"""
_ISSUED = re.compile(r"^([0-9a-f]{32})\.([0-9a-f]{16})$")


@dataclass(frozen=True)
class Turn:
    question: str  # as asked
    standalone: str  # as searched, after follow-up rewriting
    answer: str
    answered: bool
    doc_ids: tuple[str, ...] = ()


class SessionStore(SQLiteTable):
    """Thread-safe; one SQLite connection shared by the request threads."""

    def __init__(
        self,
        path: Path,
        max_turns: int = 6,
        idle_minutes: float = 30.0,
        health: RecordsHealth | None = None,
    ) -> None:
        super().__init__(path, _SCHEMA, health)
        self.max_turns = max_turns
        self.idle_s = idle_minutes * 60
        with self._lock:  # one key per records database, shared by every process using it
            self._db.execute(
                "INSERT OR IGNORE INTO session_key VALUES (1, ?)", (secrets.token_bytes(32),)
            )
            (self._key,) = self._db.execute("SELECT secret FROM session_key").fetchone()

    def _sign(self, nonce: str) -> str:
        return hmac.new(self._key, nonce.encode(), hashlib.sha256).hexdigest()[:16]

    def new_id(self) -> str:
        """A session id only this server can issue (random, signed)."""
        nonce = uuid.uuid4().hex
        return f"{nonce}.{self._sign(nonce)}"

    def valid_id(self, session_id: str | None) -> bool:
        """Whether the id is one this server issued: a client-chosen id ("abc-123", someone
        else's guessable name) is not adopted; the client gets a new one instead."""
        m = _ISSUED.match(session_id or "")
        return m is not None and hmac.compare_digest(m.group(2), self._sign(m.group(1)))

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
        with self.transaction() as db:
            self.write(db, session_id, turn, now)

    def write(
        self, db: sqlite3.Connection, session_id: str, turn: Turn, now: float | None = None
    ) -> None:
        """Add a turn inside the caller's transaction `db` (with the question-log row it goes
        with: both are kept or neither)."""
        now = time.time() if now is None else now
        (last,) = db.execute(
            "SELECT COALESCE(MAX(turn), 0) FROM session_turns WHERE session_id=?", (session_id,)
        ).fetchone()
        db.execute(
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
        db.execute("UPDATE session_turns SET at=? WHERE session_id=?", (now, session_id))
        db.execute(
            "DELETE FROM session_turns WHERE session_id=? AND turn<=?",
            (session_id, last + 1 - max(self.max_turns, 1)),
        )

    def _expire(self, now: float) -> None:
        self._db.execute("DELETE FROM session_turns WHERE at < ?", (now - self.idle_s,))
