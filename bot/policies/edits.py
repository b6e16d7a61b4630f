"""What staff decided about policies, kept apart from the documents (re-ingesting keeps it).

- conditions: a policy's eligibility as staff edited it in `/admin`, in place of the one its
  front matter gives (validated against the grammar before it is stored);
- validity reviews: a term read off a document's text, confirmed or rejected by staff.
"""

from __future__ import annotations

import time
from pathlib import Path

from bot.sqlite import SQLiteTable

_SCHEMA = """
CREATE TABLE IF NOT EXISTS policy_conditions (
    doc_id TEXT PRIMARY KEY, eligibility TEXT NOT NULL, edited_by TEXT NOT NULL, at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS validity_reviews (
    -- the phrase reviewed: a changed text is a new phrase and asks again
    doc_id TEXT NOT NULL, phrase TEXT NOT NULL, verdict TEXT NOT NULL CHECK (verdict IN ('confirmed', 'rejected')),
    reviewed_by TEXT NOT NULL, at REAL NOT NULL, PRIMARY KEY (doc_id, phrase)
);
"""


class PolicyEdits(SQLiteTable):
    def __init__(self, path: Path) -> None:
        super().__init__(path, _SCHEMA)
        self.version = 0  # bumped on every change: caches built on the edits compare it

    def conditions(self) -> dict[str, str]:
        """doc_id → canonical eligibility JSON ('' = staff removed every condition)."""
        with self._lock:
            return dict(self._db.execute("SELECT doc_id, eligibility FROM policy_conditions"))

    def set_conditions(self, doc_id: str, eligibility: str, user: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO policy_conditions VALUES (?, ?, ?, ?)",
                (doc_id, eligibility, user, time.time()),
            )
            self.version += 1

    def reset_conditions(self, doc_id: str) -> bool:
        """Back to the document's own conditions; False when staff had not edited them."""
        with self._lock:
            cur = self._db.execute("DELETE FROM policy_conditions WHERE doc_id=?", (doc_id,))
            self.version += 1
        return cur.rowcount > 0

    def reviews(self) -> dict[tuple[str, str], str]:
        """(doc_id, phrase) → 'confirmed' or 'rejected'."""
        with self._lock:
            rows = self._db.execute(
                "SELECT doc_id, phrase, verdict FROM validity_reviews"
            ).fetchall()
        return {(d, p): v for d, p, v in rows}

    def review(self, doc_id: str, phrase: str, verdict: str, user: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO validity_reviews VALUES (?, ?, ?, ?, ?)",
                (doc_id, phrase, verdict, user, time.time()),
            )
            self.version += 1
