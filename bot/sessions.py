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
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update

from bot.records import Database, advisory_lock, upsert
from bot.records.database import Prepared
from bot.records.models import session_key, session_turns

_ISSUED = re.compile(r"^([0-9a-f]{32})\.([0-9a-f]{16})$")
t = session_turns.c
FRESH_KEPT = 10_000  # ids issued here whose first turn is not written yet (a bound)
EXPIRE_EVERY_S = 60.0  # how often a process deletes idle sessions (reads skip them anyway)
# built once: every answer writes a turn, and building a statement costs more than running it
_EXPIRE = delete(session_turns).where(t.at < bindparam("cutoff"))
_LAST = select(func.coalesce(func.max(t.turn), 0)).where(t.session_id == bindparam("sid"))
_INSERT = Prepared(insert(session_turns))
_TOUCH = update(session_turns).where(t.session_id == bindparam("sid")).values(at=bindparam("now"))
_TRIM = delete(session_turns).where(t.session_id == bindparam("sid"), t.turn <= bindparam("upto"))


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
        self._expired_at = float("-inf")  # when this process last deleted idle sessions
        self._fresh: OrderedDict[str, None] = OrderedDict()  # ids issued, no turn written yet
        self._fresh_lock = threading.Lock()
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
        session_id = f"{nonce}.{self._sign(nonce)}"
        with self._fresh_lock:  # its first turn needs no look at earlier ones (write())
            self._fresh[session_id] = None
            while len(self._fresh) > FRESH_KEPT:
                self._fresh.popitem(last=False)
        return session_id

    def id_for(self, owner: str) -> str:
        """The one session id of a channel's user (`wechat:OPENID`): the same on every call,
        replica and restart, so a user's conversation continues across log-ins — and no one
        who only knows the openid can make it (the nonce is keyed)."""
        nonce = hmac.new(self._key, b"owner:" + owner.encode(), hashlib.sha256).hexdigest()[:32]
        return f"{nonce}.{self._sign(nonce)}"

    def derive_key(self, purpose: str) -> bytes:
        """A key for another signature (the WeChat log-in tokens), from the shared secret."""
        return hmac.new(self._key, b"purpose:" + purpose.encode(), hashlib.sha256).digest()

    def forget(self, session_id: str) -> None:
        """Delete a conversation's turns (a WeChat user who unsubscribed)."""
        with self.database.transaction() as conn:
            conn.execute(delete(session_turns).where(t.session_id == session_id))

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

    @staticmethod
    def _row(session_id: str, turn_no: int, turn: Turn, now: float) -> dict[str, object]:
        return {
            "session_id": session_id,
            "turn": turn_no,
            "question": turn.question,
            "standalone": turn.standalone,
            "answer": turn.answer,
            "answered": int(turn.answered),
            "doc_ids": "\n".join(turn.doc_ids),
            "at": now,
        }

    def append(self, session_id: str, turn: Turn, now: float | None = None) -> None:
        with self.database.transaction() as conn:
            self.write(conn, session_id, turn, now)

    def write(
        self, conn: Connection, session_id: str, turn: Turn, now: float | None = None
    ) -> None:
        """Add a turn inside the caller's transaction `conn` (from `database.transaction()`,
        with the question-log row it goes with: both are kept or neither)."""
        now = time.time() if now is None else now
        if now - self._expired_at > EXPIRE_EVERY_S:
            # sessions idle too long are forgotten (reads skip them meanwhile)
            conn.execute(_EXPIRE, {"cutoff": now - self.idle_s})
            self._expired_at = now
        # two replicas adding to one session at once number their turns one after the other
        advisory_lock(conn, f"session:{session_id}")
        with self._fresh_lock:
            fresh = self._fresh.pop(session_id, False) is None
        if fresh:  # issued by this process for this turn: no earlier turn to look at
            _INSERT(conn, self._row(session_id, 1, turn, now))
            return
        turn_no = int(conn.scalar(_LAST, {"sid": session_id}) or 0) + 1
        _INSERT(conn, self._row(session_id, turn_no, turn, now))
        # the whole session stays alive with its newest turn; only the last turns are kept
        conn.execute(_TOUCH, {"sid": session_id, "now": now})
        conn.execute(_TRIM, {"sid": session_id, "upto": turn_no - max(self.max_turns, 1)})
