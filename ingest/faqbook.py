"""FAQ entries staff write at `/api/admin/faq`: kept in the records file, indexed as one source.

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
from pathlib import Path
from typing import ParamSpec, TypeVar

from bot.answering.faq import question_key
from bot.audit import AuditLog
from bot.errors import ConflictError, DuplicateError, InvalidInputError, NotFoundError
from bot.index import KnowledgeIndex
from bot.models import Document
from bot.sqlite import SQLiteTable
from ingest.parsers import FAQ_CATEGORY
from ingest.pipeline import FAQ_ENTRIES_KEY, RESERVED_ID_PREFIX, Ingestor

P = ParamSpec("P")
R = TypeVar("R")
KEY = FAQ_ENTRIES_KEY
_SCHEMA = """
CREATE TABLE IF NOT EXISTS faq_entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT, question TEXT NOT NULL, alternatives TEXT NOT NULL,
    answer TEXT NOT NULL, category TEXT NOT NULL, department TEXT NOT NULL, contact TEXT NOT NULL,
    url TEXT NOT NULL, version INTEGER NOT NULL, updated_by TEXT NOT NULL, updated_at REAL NOT NULL
);
"""
_COLUMNS = (
    "id",
    "question",
    "alternatives",
    "answer",
    "category",
    "department",
    "contact",
    "url",
    "version",
    "updated_by",
    "updated_at",
)


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


class FaqBook(SQLiteTable):
    def __init__(
        self,
        data_dir: Path,
        index: KnowledgeIndex,
        on_change: Callable[[], None],
        audit: AuditLog,
    ) -> None:
        super().__init__(data_dir / "records.sqlite3", _SCHEMA)
        self.index = index
        self.on_change = on_change
        self.audit = audit
        self.sync()

    # --- reading ----------------------------------------------------------------------
    def entries(self) -> list[dict[str, object]]:
        rows = self._dicts(
            f"SELECT {', '.join(_COLUMNS)} FROM faq_entries ORDER BY id", (), _COLUMNS
        )
        for row in rows:
            row["alternatives"] = json.loads(str(row["alternatives"]))
            row["doc_id"] = doc_id_of(int(str(row["id"])))
        return rows

    def get(self, entry_id: int) -> dict[str, object]:
        found = [e for e in self.entries() if e["id"] == entry_id]
        if not found:
            raise NotFoundError(f"no FAQ entry {entry_id}", message_zh=f"找不到问答条目 {entry_id}")
        return found[0]

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
        with self._lock:
            self._check_unique(f, None)
            cur = self._db.execute(
                "INSERT INTO faq_entries (question, alternatives, answer, category, department,"
                " contact, url, version, updated_by, updated_at) VALUES (?,?,?,?,?,?,?,1,?,?)",
                (*self._values(f), user, time.time()),
            )
            entry_id = int(cur.lastrowid or 0)
        self._index(undo=lambda: self._forget(entry_id))
        self.audit.record(user, "faq_create", doc_id_of(entry_id), None, 1, f.question)
        return self.get(entry_id)

    @_one_change
    def update(
        self, entry_id: int, fields: FaqFields, base_version: int, user: str
    ) -> dict[str, object]:
        """A new version of an entry; 409 when someone changed it since `base_version`."""
        f = fields.cleaned()
        with self._lock:
            old = self._row(entry_id)
            if old["version"] != base_version:
                raise ConflictError(
                    f"FAQ entry {entry_id} changed since version {base_version}"
                    f" (now {old['version']}); reload and retry",
                    message_zh=f"问答条目 {entry_id} 已被他人修改（当前版本 {old['version']}），请刷新后再试",
                )
            self._check_unique(f, entry_id)
            version = base_version + 1
            self._db.execute(
                "UPDATE faq_entries SET question=?, alternatives=?, answer=?, category=?,"
                " department=?, contact=?, url=?, version=?, updated_by=?, updated_at=?"
                " WHERE id=?",
                (*self._values(f), version, user, time.time(), entry_id),
            )
        self._index(undo=lambda: self._restore(old))
        self.audit.record(
            user, "faq_update", doc_id_of(entry_id), base_version, version, f.question
        )
        return self.get(entry_id)

    @_one_change
    def delete(self, entry_id: int, user: str) -> None:
        with self._lock:
            old = self._row(entry_id)
            self._db.execute("DELETE FROM faq_entries WHERE id=?", (entry_id,))
        self._index(undo=lambda: self._restore(old))
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

    def _forget(self, entry_id: int) -> None:
        with self._lock:
            self._db.execute("DELETE FROM faq_entries WHERE id=?", (entry_id,))

    def _row(self, entry_id: int) -> dict[str, object]:
        rows = self._db.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM faq_entries WHERE id=?", (entry_id,)
        ).fetchall()
        if not rows:
            raise NotFoundError(f"no FAQ entry {entry_id}", message_zh=f"找不到问答条目 {entry_id}")
        return dict(zip(_COLUMNS, rows[0], strict=True))

    def _restore(self, old: dict[str, object]) -> None:
        with self._lock:
            self._db.execute(
                f"INSERT OR REPLACE INTO faq_entries ({', '.join(_COLUMNS)})"
                f" VALUES ({','.join('?' * len(_COLUMNS))})",
                tuple(old[c] for c in _COLUMNS),
            )

    def _check_unique(self, f: FaqFields, entry_id: int | None) -> None:
        """Two entries for the same question would compete: refuse the second (409)."""
        asked = {question_key(q) for q in (f.question, *f.alternatives)}
        for other_id, question, alternatives in self._db.execute(
            "SELECT id, question, alternatives FROM faq_entries"
        ).fetchall():
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

    @staticmethod
    def _values(f: FaqFields) -> tuple[object, ...]:
        return (
            f.question,
            json.dumps(f.alternatives, ensure_ascii=False),
            f.answer,
            f.category,
            f.department,
            f.contact,
            f.url,
        )
