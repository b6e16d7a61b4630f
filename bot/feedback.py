"""Thumbs up/down on answers, kept in the records database for the staff's review."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Select, insert, select

from bot.records import Database
from bot.records.models import feedback

_COLUMNS = ("id", "session_id", "question", "answer", "rating", "comment", "at")
_NEWEST_FIRST = select(*(feedback.c[k] for k in _COLUMNS)).order_by(feedback.c.id.desc())


class FeedbackStore:
    def __init__(self, database: Database) -> None:
        self.database = database

    def add(
        self, question: str, answer: str, rating: str, session_id: str = "", comment: str = ""
    ) -> int:
        """Keep one rating; its id."""
        with self.database.transaction() as conn:
            entry = conn.scalar(
                insert(feedback)
                .values(
                    session_id=session_id,
                    question=question,
                    answer=answer,
                    rating=rating,
                    comment=comment,
                    at=time.time(),
                )
                .returning(feedback.c.id)
            )
        return int(entry or 0)

    def since(self, days: float, rating: str = "down") -> list[dict[str, object]]:
        """Feedback with this rating from the last `days` days, newest first."""
        return self._dicts(
            _NEWEST_FIRST.where(
                feedback.c.rating == rating, feedback.c.at >= time.time() - days * 86400
            )
        )

    def recent(self, limit: int = 100) -> list[dict[str, object]]:
        return self._dicts(_NEWEST_FIRST.limit(limit))

    def _dicts(self, query: Select[Any]) -> list[dict[str, object]]:
        with self.database.read() as conn:
            rows = conn.execute(query).all()
        return [dict(zip(_COLUMNS, row, strict=True)) for row in rows]
