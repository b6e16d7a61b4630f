"""Every question asked and whether it was answered — what the staff's insight pages read.

Kept in the records database for `retention_days` (default 180), then pruned: questions can
carry personal details, and old ones say little about today's knowledge base.
"""

from __future__ import annotations

import time

from sqlalchemy import Connection, bindparam, delete, insert, select

from bot.records import Database
from bot.records.database import Prepared
from bot.records.models import question_log

PRUNE_EVERY_S = 60.0
# built once: every answer writes a row, and building a statement costs more than running it
_INSERT = Prepared(insert(question_log))
_PRUNE = delete(question_log).where(question_log.c.at < bindparam("cutoff"))

DAY = 86400.0
_COLUMNS = ("at", "question", "standalone", "answered", "mode", "top_doc", "confidence", "reason")


class QuestionLog:
    def __init__(self, database: Database, retention_days: float = 180.0) -> None:
        self.database = database
        self.retention_s = retention_days * DAY
        self._pruned_at = float("-inf")  # when this process last pruned old rows

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
        with self.database.transaction() as conn:
            self.write(
                conn,
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
        conn: Connection,
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
        """Log a question inside the caller's transaction `conn` (`database.transaction()`)."""
        now = time.time() if now is None else now
        _INSERT(
            conn,
            {
                "at": now,
                "session_id": session_id,
                "question": question,
                "standalone": standalone,
                "answered": int(answered),
                "mode": mode,
                "top_doc": top_doc,
                "confidence": confidence,
                "reason": reason,
            },
        )
        if now - self._pruned_at > PRUNE_EVERY_S:  # rows past the retention, once a minute
            conn.execute(_PRUNE, {"cutoff": now - self.retention_s})
            self._pruned_at = now

    def since(self, days: float, now: float | None = None) -> list[dict[str, object]]:
        """Questions of the last `days` days, newest first."""
        now = time.time() if now is None else now
        with self.database.read() as conn:
            rows = conn.execute(
                select(*(question_log.c[k] for k in _COLUMNS))
                .where(question_log.c.at >= now - days * DAY)
                .order_by(question_log.c.id.desc())
            ).all()
        return [dict(zip(_COLUMNS, row, strict=True)) for row in rows]
