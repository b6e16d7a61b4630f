"""What staff decided about policies, kept apart from the documents (re-ingesting keeps it).

- conditions: a policy's eligibility as staff edited it in `/admin`, in place of the one its
  front matter gives (validated against the grammar before it is stored);
- validity reviews: a term read off a document's text, confirmed or rejected by staff.

Every change bumps the knowledge-base version in its transaction, so other replicas see it.
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import delete, select

from bot.errors import RecordsUnavailableError
from bot.records import Database, bump_kb_version, upsert
from bot.records.models import policy_conditions, validity_reviews

log = logging.getLogger(__name__)


class PolicyEdits:
    """Staff's policy edits in the records database.

    `version` changes whenever the edits change, here or on another replica: it is the
    knowledge-base version, read from the database at most every `max_age_s` seconds (a
    query costs ~0.4 ms on SQLite, and `version` is read for every question) and at once
    after a change made here or a `reload()` (the replicas' kb-version watcher calls it).
    """

    def __init__(self, database: Database, *, max_age_s: float = 1.0) -> None:
        self.database = database
        self.max_age_s = max_age_s
        self._version = 0
        self._read_at = float("-inf")  # monotonic time of the last read of the version
        self._reading = threading.Lock()
        self._seeing = threading.Lock()
        self.reload()

    @property
    def version(self) -> int:
        """The knowledge-base version the edits were last seen at (caches compare it)."""
        if time.monotonic() - self._read_at > self.max_age_s and self._reading.acquire(
            blocking=False
        ):  # one thread reads; the others use the version they have
            try:
                self.reload()
            except RecordsUnavailableError as error:
                # keep answering with the edits as last seen; the health check reports it
                log.warning("policy edits: cannot read the knowledge-base version: %s", error)
                self._read_at = time.monotonic()
            finally:
                self._reading.release()
        return self._version

    def reload(self) -> int:
        """Read the knowledge-base version now (after another replica changed something)."""
        self._read_at = time.monotonic()
        self._seen(self.database.kb_version())
        return self._version

    def _seen(self, version: int) -> None:
        # versions only grow: a read that started before a change here must not undo it
        with self._seeing:
            self._version = max(self._version, version)

    def conditions(self) -> dict[str, str]:
        """doc_id → canonical eligibility JSON ('' = staff removed every condition)."""
        with self.database.read() as conn:
            rows = conn.execute(select(policy_conditions.c.doc_id, policy_conditions.c.eligibility))
            return {r.doc_id: r.eligibility for r in rows}

    def set_conditions(self, doc_id: str, eligibility: str, user: str) -> None:
        row = {"doc_id": doc_id, "eligibility": eligibility, "edited_by": user, "at": time.time()}
        with self.database.transaction() as conn:
            upsert(conn, policy_conditions, row, ["doc_id"])
            version = bump_kb_version(conn)
        self._seen(version)

    def reset_conditions(self, doc_id: str) -> bool:
        """Back to the document's own conditions; False when staff had not edited them."""
        with self.database.transaction() as conn:
            gone = conn.execute(
                delete(policy_conditions).where(policy_conditions.c.doc_id == doc_id)
            ).rowcount
            version = bump_kb_version(conn) if gone else None
        if version is not None:
            self._seen(version)
        return bool(gone)

    def reviews(self) -> dict[tuple[str, str], str]:
        """(doc_id, phrase) → 'confirmed' or 'rejected'."""
        r = validity_reviews.c
        with self.database.read() as conn:
            rows = conn.execute(select(r.doc_id, r.phrase, r.verdict)).all()
        return {(row.doc_id, row.phrase): row.verdict for row in rows}

    def review(self, doc_id: str, phrase: str, verdict: str, user: str) -> None:
        row = {
            "doc_id": doc_id,
            "phrase": phrase,
            "verdict": verdict,
            "reviewed_by": user,
            "at": time.time(),
        }
        with self.database.transaction() as conn:
            upsert(conn, validity_reviews, row, ["doc_id", "phrase"])
            version = bump_kb_version(conn)
        self._seen(version)
