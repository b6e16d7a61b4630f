"""FAQ entries staff write at `/api/admin/faq`: kept as records, indexed as one source.

The `faq_entries` table is the source of truth; the index holds its live entries under the
key `faq:entries` (documents `faq-<id>`, kind "faq", so the question-to-question matcher
answers from them first). A change is committed to the table, then indexed; if indexing
fails the change is undone. On start-up `sync()` re-indexes whatever the table holds, so
after a crash between the two the index agrees with the table again.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import ParamSpec, TypeVar

from sqlalchemy import Connection, delete, insert, select, update

from bot.answering.faq import question_key
from bot.audit import AuditLog
from bot.errors import ConflictError, DuplicateError, InvalidInputError, NotFoundError
from bot.index import KnowledgeIndex
from bot.models import Document
from bot.records import Database, advisory_lock
from bot.records.models import faq_entries
from ingest.parsers import FAQ_CATEGORY
from ingest.pipeline import FAQ_ENTRIES_KEY, RESERVED_ID_PREFIX, Ingestor

P = ParamSpec("P")
R = TypeVar("R")
KEY = FAQ_ENTRIES_KEY


@dataclass
class FaqFields:
    """What an editor writes; everything but question and answer is optional."""

    question: str
    answer: str
    alternatives: list[str] = field(default_factory=list)
    category: str = ""
    department: str = ""
    contact: str = ""
    url: str = ""

    def cleaned(self) -> FaqFields:
        question, answer = self.question.strip(), self.answer.strip()
        if not question_key(question):
            raise InvalidInputError("the question is empty", message_zh="问题不能为空")
        if not answer:
            raise InvalidInputError("the answer is empty", message_zh="答案不能为空")
        alternatives = [a.strip() for a in self.alternatives if question_key(a)]
        alternatives = [a for a in dict.fromkeys(alternatives) if a != question]
        return FaqFields(
            question,
            answer,
            alternatives,
            self.category.strip() or FAQ_CATEGORY,
            self.department.strip(),
            self.contact.strip(),
            self.url.strip(),
        )


def _one_change(method: Callable[P, R]) -> Callable[P, R]:
    """Changes run one at a time, each with its indexing (the index's writer lock)."""

    @functools.wraps(method)
    def locked(*args: P.args, **kwargs: P.kwargs) -> R:
        book = args[0]
        assert isinstance(book, FaqBook)
        with book.index.write_lock:
            return method(*args, **kwargs)

    return locked


def doc_id_of(entry_id: int) -> str:
    return f"{RESERVED_ID_PREFIX}{entry_id}"


class FaqBook:
    def __init__(
        self,
        database: Database,
        index: KnowledgeIndex,
        on_change: Callable[[], None],
        audit: AuditLog,
    ) -> None:
        self.database = database
        self.index = index
        self.on_change = on_change
        self.audit = audit
        self.sync()

    # --- reading ----------------------------------------------------------------------
    def entries(self) -> list[dict[str, object]]:
        with self.database.read() as conn:
            rows = conn.execute(select(faq_entries).order_by(faq_entries.c.id)).all()
        return [_entry(row._asdict()) for row in rows]

    def get(self, entry_id: int) -> dict[str, object]:
        with self.database.read() as conn:
            return _entry(_row(conn, entry_id))

    def documents(self) -> list[Document]:
        return [
            Document(
                doc_id=str(e["doc_id"]),
                title=str(e["question"]),
                text=str(e["answer"]),
                category=str(e["category"]),
                department=str(e["department"]),
                contact=str(e["contact"]),
                url=str(e["url"]),
                updated=datetime.fromtimestamp(float(str(e["updated_at"])), UTC).date().isoformat(),
                kind="faq",
                alternatives=tuple(str(a) for a in e["alternatives"]),  # type: ignore[attr-defined]
            )
            for e in self.entries()
        ]

    # --- changes ----------------------------------------------------------------------
    @_one_change
    def create(self, fields: FaqFields, user: str) -> dict[str, object]:
        """A new entry, live for chat when this returns."""
        f = fields.cleaned()
        with self.database.transaction() as conn:
            _lock(conn)
            _check_unique(conn, f, None)
            entry_id = int(
                conn.scalar(
                    insert(faq_entries)
                    .values(**_values(f), version=1, updated_by=user, updated_at=time.time())
                    .returning(faq_entries.c.id)
                )
                or 0
            )
        self._index(undo=lambda: self._undo(entry_id, 1, None))
        self.audit.record(user, "faq_create", doc_id_of(entry_id), None, 1, f.question)
        return self.get(entry_id)

    @_one_change
    def update(
        self, entry_id: int, fields: FaqFields, base_version: int, user: str
    ) -> dict[str, object]:
        """A new version of an entry; 409 when someone changed it since `base_version`."""
        f = fields.cleaned()
        version = base_version + 1
        with self.database.transaction() as conn:
            _lock(conn)
            old = _row(conn, entry_id)
            if old["version"] != base_version:
                raise _changed(entry_id, base_version, old["version"])
            _check_unique(conn, f, entry_id)
            changed = conn.execute(
                update(faq_entries)
                .where(faq_entries.c.id == entry_id, faq_entries.c.version == base_version)
                .values(**_values(f), version=version, updated_by=user, updated_at=time.time())
            ).rowcount
            if not changed:  # the row check, should the lock ever be missing
                raise _changed(entry_id, base_version, "newer")
        self._index(undo=lambda: self._undo(entry_id, version, old))
        self.audit.record(
            user, "faq_update", doc_id_of(entry_id), base_version, version, f.question
        )
        return self.get(entry_id)

    @_one_change
    def delete(self, entry_id: int, user: str) -> None:
        with self.database.transaction() as conn:
            _lock(conn)
            old = _row(conn, entry_id)
            conn.execute(delete(faq_entries).where(faq_entries.c.id == entry_id))
        self._index(undo=lambda: self._undo(entry_id, None, old))
        self.audit.record(
            user, "faq_delete", doc_id_of(entry_id), int(str(old["version"])), None,
            str(old["question"]),
        )  # fmt: skip

    def sync(self) -> None:
        """Make the index hold exactly the table's entries (start-up, after a crash)."""
        report = Ingestor(self.index, progress=False).put(KEY, self.documents())
        if report.added or report.changed or report.removed:
            # A change committed just before the server stopped is indexed only now.
            self.audit.record("system", "faq_sync", KEY, detail="index caught up with the table")
            self.on_change()

    # --- helpers ----------------------------------------------------------------------
    def _index(self, undo: Callable[[], None]) -> None:
        """Index the table as it now is; if that fails, `undo` the table change first."""
        try:
            Ingestor(self.index, progress=False).put(KEY, self.documents())
        except BaseException:
            undo()
            raise
        self.on_change()

    def _undo(self, entry_id: int, written: int | None, old: dict[str, object] | None) -> None:
        """Put back `old` (None: no entry) in place of the version this process `written`
        (None: deleted) — unless another replica has changed the entry since."""
        with self.database.transaction() as conn:
            _lock(conn)
            now = conn.scalar(select(faq_entries.c.version).where(faq_entries.c.id == entry_id))
            if now != written:
                return
            conn.execute(delete(faq_entries).where(faq_entries.c.id == entry_id))
            if old is not None:
                conn.execute(insert(faq_entries).values(old))


def _lock(conn: Connection) -> None:
    """Changes to the book one at a time across replicas: the version check (409) and the
    uniqueness check read what the last change committed."""
    advisory_lock(conn, "faq:entries")


def _row(conn: Connection, entry_id: int) -> dict[str, object]:
    row = conn.execute(select(faq_entries).where(faq_entries.c.id == entry_id)).first()
    if row is None:
        raise NotFoundError(f"no FAQ entry {entry_id}", message_zh=f"找不到问答条目 {entry_id}")
    return row._asdict()


def _entry(row: dict[str, object]) -> dict[str, object]:
    """A table row as the API shows it: alternatives as a list, and the index's doc id."""
    return {
        **row,
        "alternatives": json.loads(str(row["alternatives"])),
        "doc_id": doc_id_of(int(str(row["id"]))),
    }


def _changed(entry_id: int, base_version: int, now: object) -> ConflictError:
    return ConflictError(
        f"FAQ entry {entry_id} changed since version {base_version} (now {now}); reload and retry",
        message_zh=f"问答条目 {entry_id} 已被他人修改（当前版本 {now}），请刷新后再试",
    )


def _check_unique(conn: Connection, f: FaqFields, entry_id: int | None) -> None:
    """Two entries for the same question would compete: refuse the second (409)."""
    asked = {question_key(q) for q in (f.question, *f.alternatives)}
    c = faq_entries.c
    for other_id, question, alternatives in conn.execute(select(c.id, c.question, c.alternatives)):
        if other_id == entry_id:
            continue
        theirs = {question_key(q) for q in (question, *json.loads(alternatives))}
        if asked & theirs:
            raise DuplicateError(
                f"an FAQ entry already asks this question: {question!r} (entry {other_id});"
                " edit that entry, or ask differently",
                message_zh=f"已有相同问题的问答：“{question}”（条目 {other_id}），"
                "请编辑那一条，或换一种问法",
            )


def _values(f: FaqFields) -> dict[str, object]:
    return {
        "question": f.question,
        "alternatives": json.dumps(f.alternatives, ensure_ascii=False),
        "answer": f.answer,
        "category": f.category,
        "department": f.department,
        "contact": f.contact,
        "url": f.url,
    }
