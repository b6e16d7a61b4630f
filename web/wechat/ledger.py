"""Every message from the official account or WeCom, and what became of its answer — the
records that make WeChat's retries safe on any number of replicas.

WeChat sends a message again when it has no reply after 5 s, up to three tries, to whichever
replica nginx picks. The first try to arrive inserts the message's row (`claim`) and computes
the answer; every other try finds the row and waits for its answer instead of computing one.
So one message is answered once and logged once, whatever the number of tries and replicas.

A row moves through these states, each change made under the row's advisory lock:

    working ──answer stored──► ready ──a reply carried it──► delivered
       │                                      (later parts: `sent` counts them, 「继续」)
       ├─ service account, no answer in time ─► push ──answer stored──► pushed (sent to the user)
       └─ subscription, last try, no answer ──► owed ──► delivered on the user's next message

All methods block (database calls): the routes run them in worker threads.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, and_, delete, or_, select, update

from bot.records import Database, advisory_lock
from bot.records.models import wechat_messages

m = wechat_messages.c
KEEP_S = 3 * 86400.0  # rows older than this are deleted (「继续」 and hand-overs need hours)
PRUNE_EVERY_S = 600.0
UNCLAIMED_S = 20.0  # WeChat's three tries are over by then: a `ready` answer is owed
# a row computing for longer than this was left by a process that died or stopped: a
# retry takes it over, an owed one is given up (longer than any answer: the LLM's timeout)
LEASE_S = 120.0


@dataclass
class Entry:
    key: str
    openid: str
    state: str
    attempts: int
    owner: str
    parts: list[str] = field(default_factory=list)
    sent: int = 0
    own: bool = False  # this call claimed it: compute the answer
    # "answer": a question's answer (「继续」 continues it); "relay": a reply that carried
    # something else (a further part, an owed answer, a notice)
    kind: str = "answer"
    claimed_at: float = 0.0


def _entry(row: Any, own: bool = False) -> Entry:
    stored = str(row[5] or "")
    data = json.loads(stored) if stored else {}
    return Entry(
        str(row[0]),
        str(row[1]),
        str(row[2]),
        int(row[3]),
        str(row[4]),
        list(data.get("parts", [])),
        int(row[6]),
        own,
        str(data.get("kind", "answer")),
        float(row[7]),
    )


_COLUMNS = (m.key, m.openid, m.state, m.attempts, m.owner, m.parts, m.sent, m.claimed_at)


class Ledger:
    def __init__(self, database: Database, owner: str) -> None:
        self.database = database
        self.owner = owner  # this process (host:pid:random)
        self._pruned_at = float("-inf")

    def _get(self, conn: Connection, key: str) -> Entry | None:
        row = conn.execute(select(*_COLUMNS).where(m.key == key)).first()
        return _entry(row) if row else None

    def claim(self, key: str, openid: str, now: float | None = None) -> Entry:
        """Count one try of a message; `own` is True for the first try (compute it)."""
        now = time.time() if now is None else now
        with self.database.transaction() as conn:
            advisory_lock(conn, f"wechat-message:{key}")
            entry = self._get(conn, key)
            if entry is None:
                conn.execute(
                    wechat_messages.insert().values(
                        key=key,
                        openid=openid,
                        state="working",
                        attempts=1,
                        owner=self.owner,
                        claimed_at=now,
                        parts="",
                        sent=0,
                        at=now,
                    )
                )
                if now - self._pruned_at > PRUNE_EVERY_S:
                    conn.execute(delete(wechat_messages).where(m.at < now - KEEP_S))
                    self._pruned_at = now
                return Entry(key, openid, "working", 1, self.owner, own=True)
            conn.execute(
                update(wechat_messages).where(m.key == key).values(attempts=m.attempts + 1)
            )
            entry.attempts += 1
            return entry

    def get(self, key: str) -> Entry | None:
        with self.database.read() as conn:
            return self._get(conn, key)

    def store(self, key: str, parts: list[str], kind: str = "answer") -> Entry | None:
        """Keep the finished answer's parts; the state after it says who delivers them:
        `ready` (a reply will), `push` (the caller pushes now; the row becomes `pushed`),
        `owed` (the user's next message will)."""
        with self.database.transaction() as conn:
            advisory_lock(conn, f"wechat-message:{key}")
            entry = self._get(conn, key)
            if entry is None:  # the user unsubscribed meanwhile (`forget`)
                return None
            state = {"working": "ready", "push": "pushed"}.get(entry.state, entry.state)
            stored = json.dumps({"kind": kind, "parts": parts}, ensure_ascii=False)
            conn.execute(
                update(wechat_messages).where(m.key == key).values(parts=stored, state=state)
            )
            entry.parts, entry.state, entry.kind = parts, state, kind
            if entry.state == "pushed":
                entry.own = True  # the caller pushes: it was `push` when the answer came
            return entry

    def take(self, key: str, *, fallback: str) -> Entry | None:
        """At the reply deadline: a stored answer is taken for this reply (`delivered`, its
        first part counted sent) — else the row changes to `fallback` (`push`, `owed`) or
        stays as it is (`working`, the next try will look again)."""
        with self.database.transaction() as conn:
            advisory_lock(conn, f"wechat-message:{key}")
            entry = self._get(conn, key)
            if entry is None:
                return None
            if entry.state == "ready":
                conn.execute(
                    update(wechat_messages).where(m.key == key).values(state="delivered", sent=1)
                )
                entry.state, entry.sent, entry.own = "delivered", 1, True
            elif entry.state == "delivered" and entry.sent <= 1:
                # WeChat tries again only when it got nothing: the reply that carried the
                # answer came too late for it (queued, slow network) — carry it again
                entry.own = True
            elif entry.state == "working" and fallback != "working":
                conn.execute(update(wechat_messages).where(m.key == key).values(state=fallback))
                entry.state = fallback
            return entry

    def sent(self, key: str, count: int) -> None:
        """`count` parts of the answer have reached the user (never counts back: a
        「继续」 may have sent one meanwhile)."""
        with self.database.transaction() as conn:
            advisory_lock(conn, f"wechat-message:{key}")
            conn.execute(
                update(wechat_messages).where(m.key == key, m.sent < count).values(sent=count)
            )

    def abandon(self, key: str) -> None:
        """An owed answer whose computation was lost (its process died): given up."""
        with self.database.transaction() as conn:
            advisory_lock(conn, f"wechat-message:{key}")
            conn.execute(
                update(wechat_messages)
                .where(m.key == key, m.state == "owed")
                .values(state="failed")
            )

    def owed(self, channel: str, openid: str, now: float | None = None) -> Entry | None:
        """The oldest answer the user was told to collect with their next message — or that
        no try will carry any more (finished after WeChat stopped trying)."""
        now = time.time() if now is None else now
        with self.database.read() as conn:
            row = conn.execute(
                select(*_COLUMNS)
                .where(
                    m.openid == openid,
                    m.key.startswith(f"{channel}:", autoescape=True),
                    or_(m.state == "owed", and_(m.state == "ready", m.at < now - UNCLAIMED_S)),
                )
                .order_by(m.at)
                .limit(1)
            ).first()
        return _entry(row) if row else None

    def collect(self, key: str) -> Entry | None:
        """Take an owed answer for this reply, when it is finished (None while it is not)."""
        with self.database.transaction() as conn:
            advisory_lock(conn, f"wechat-message:{key}")
            entry = self._get(conn, key)
            if entry is None or entry.state not in ("owed", "ready") or not entry.parts:
                return None
            conn.execute(
                update(wechat_messages).where(m.key == key).values(state="delivered", sent=1)
            )
            entry.state, entry.sent = "delivered", 1
            return entry

    def next_part(self, channel: str, openid: str) -> tuple[Entry, str] | None:
        """For 「继续」: the next unsent part of the user's latest delivered answer."""
        with self.database.transaction() as conn:
            rows = conn.execute(
                select(*_COLUMNS)
                .where(
                    and_(
                        m.openid == openid,
                        m.key.startswith(f"{channel}:", autoescape=True),
                        m.state.in_(("delivered", "pushed")),
                        m.parts != "",
                    )
                )
                .order_by(m.at.desc())
                .limit(20)
            ).all()
            latest = next((e for e in map(_entry, rows) if e.kind == "answer"), None)
            if latest is None:
                return None
            advisory_lock(conn, f"wechat-message:{latest.key}")
            entry = self._get(conn, latest.key)
            if entry is None or entry.sent >= len(entry.parts):
                return None
            part = entry.parts[entry.sent]
            entry.sent += 1
            conn.execute(update(wechat_messages).where(m.key == entry.key).values(sent=entry.sent))
            return entry, part

    def forget(self, channel: str, openid: str) -> None:
        """An unsubscribed user: their answers, owed ones and unsent parts are dropped."""
        with self.database.transaction() as conn:
            conn.execute(
                delete(wechat_messages).where(
                    m.openid == openid, m.key.startswith(f"{channel}:", autoescape=True)
                )
            )
