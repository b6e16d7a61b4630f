"""Conversations: the last turns of each session, kept in the records database.

A session is forgotten once it has been idle for `idle_minutes`; only the last `max_turns`
turns are kept, which is all a follow-up question needs. Every replica on one records
database shares the sessions and the key that signs their ids.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
import uuid
from dataclasses import dataclass

from sqlalchemy import Connection, delete, func, insert, select, update

from bot.records import Database, advisory_lock, upsert
from bot.records.models import session_key, session_turns

_ISSUED = re.compile(r"^([0-9a-f]{32})\.([0-9a-f]{16})$")
t = session_turns.c


@dataclass(frozen=True)
class Turn:
    question: str  # as asked
    standalone: str  # as searched, after follow-up rewriting
    answer: str
    answered: bool
    doc_ids: tuple[str, ...] = ()


class SessionStore:
    """Thread-safe (the database's pool and transactions); shared by every replica."""

    def __init__(self, database: Database, max_turns: int = 6, idle_minutes: float = 30.0) -> None:
        self.database = database
        self.max_turns = max_turns
        self.idle_s = idle_minutes * 60
        # one key per records database: the first process to start makes it, every other
        # one (a restart, another replica) reads the same, so ids issued by one hold on all
        key = self._read_key()
        if key is None:
            with database.transaction() as conn:  # of two first starts, the later one's is ignored
                upsert(conn, session_key, {"id": 1, "secret": secrets.token_bytes(32)}, ["id"])
            key = self._read_key()
        assert key is not None
        self._key = key

    def _read_key(self) -> bytes | None:
        with self.database.read() as conn:
            secret = conn.scalar(select(session_key.c.secret).where(session_key.c.id == 1))
        return None if secret is None else bytes(secret)

    def _sign(self, nonce: str) -> str:
        return hmac.new(self._key, nonce.encode(), hashlib.sha256).hexdigest()[:16]

    def new_id(self) -> str:
        """A session id only this deployment can issue (random, signed)."""
        nonce = uuid.uuid4().hex
        return f"{nonce}.{self._sign(nonce)}"

    def valid_id(self, session_id: str | None) -> bool:
        """Whether the id is one this deployment issued: a client-chosen id ("abc-123",
        someone else's guessable name) is not adopted; the client gets a new one instead."""
        m = _ISSUED.match(session_id or "")
        return m is not None and hmac.compare_digest(m.group(2), self._sign(m.group(1)))

    def history(self, session_id: str, now: float | None = None) -> list[Turn]:
        """The kept turns of a live session, oldest first ([] when unknown or expired)."""
        now = time.time() if now is None else now
        with self.database.read() as conn:  # expired turns are deleted by the next write
            rows = conn.execute(
                select(t.question, t.standalone, t.answer, t.answered, t.doc_ids)
                .where(t.session_id == session_id, t.at >= now - self.idle_s)
                .order_by(t.turn.desc())
                .limit(self.max_turns)
            ).all()
        return [
            Turn(q, s, a, bool(ok), tuple(d for d in ids.split("\n") if d))
            for q, s, a, ok, ids in reversed(rows)
        ]

    def append(self, session_id: str, turn: Turn, now: float | None = None) -> None:
        with self.database.transaction() as conn:
            self.write(conn, session_id, turn, now)

    def write(
        self, conn: Connection, session_id: str, turn: Turn, now: float | None = None
    ) -> None:
        """Add a turn inside the caller's transaction `conn` (from `database.transaction()`,
        with the question-log row it goes with: both are kept or neither)."""
        now = time.time() if now is None else now
        # two replicas adding to one session at once number their turns one after the other
        advisory_lock(conn, f"session:{session_id}")
        # sessions idle too long are forgotten (all of them: this one may be among them)
        conn.execute(delete(session_turns).where(t.at < now - self.idle_s))
        last = conn.scalar(
            select(func.coalesce(func.max(t.turn), 0)).where(t.session_id == session_id)
        )
        turn_no = int(last or 0) + 1
        conn.execute(
            insert(session_turns).values(
                session_id=session_id,
                turn=turn_no,
                question=turn.question,
                standalone=turn.standalone,
                answer=turn.answer,
                answered=int(turn.answered),
                doc_ids="\n".join(turn.doc_ids),
                at=now,
            )
        )
        # the whole session stays alive with its newest turn
        conn.execute(update(session_turns).where(t.session_id == session_id).values(at=now))
        conn.execute(
            delete(session_turns).where(
                t.session_id == session_id, t.turn <= turn_no - max(self.max_turns, 1)
            )
        )
