"""Records of the knowledge index: which files are indexed, their documents and chunks,
index metadata — in the records database (bot/records).

The records are the source of truth for what is live: a file's documents and chunks are
swapped in one transaction, so a reader (or an interrupted ingest) never sees half a file;
the same transaction bumps the knowledge-base version every replica watches.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, delete, func, insert, select

from bot.models import Chunk, Document
from bot.records import Database, bump_kb_version, upgrade, upsert
from bot.records.database import sqlite_url
from bot.records.models import chunks, documents, files, meta, ocr_pages

_BATCH = 500  # ids per IN (…): well under SQLite's and PostgreSQL's parameter limits
_DOC_COLS = (
    documents.c.doc_id,
    documents.c.path,
    documents.c.title,
    documents.c.category,
    documents.c.department,
    documents.c.contact,
    documents.c.url,
    documents.c.updated,
    documents.c.sample,
    documents.c.kind,
    documents.c.text,
    documents.c.alternatives,
    documents.c.meta,
)


class RecordStore:
    """Files → documents → chunks in the records database; thread-safe.

    Given a path (an SQLite file), it opens the process's shared `Database` for it and
    brings its schema up to date.
    """

    def __init__(self, database: Database | Path) -> None:
        if isinstance(database, Path):
            database = Database.shared(sqlite_url(database))
            upgrade(database)
        self.database = database

    def close(self) -> None:
        self.database.close()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self.database.transaction() as conn:
            yield conn

    # --- metadata -------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        with self.database.read() as conn:
            value = conn.scalar(select(meta.c.value).where(meta.c.key == key))
        return None if value is None else str(value)

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as conn:
            upsert(conn, meta, {"key": key, "value": value}, ["key"])

    # --- the OCR cache: what a page image gave, by its hash (ingest/ocr.py) ---------------
    def ocr_pages(self, keys: Iterable[str]) -> dict[str, tuple[str, float]]:
        wanted = list(dict.fromkeys(keys))
        out: dict[str, tuple[str, float]] = {}
        with self.database.read() as conn:
            for i in range(0, len(wanted), _BATCH):
                q = select(ocr_pages.c.key, ocr_pages.c.text, ocr_pages.c.confidence).where(
                    ocr_pages.c.key.in_(wanted[i : i + _BATCH])
                )
                out.update({r.key: (r.text, float(r.confidence)) for r in conn.execute(q)})
        return out

    def put_ocr_page(self, key: str, text: str, confidence: float) -> None:
        with self.transaction() as conn:
            upsert(
                conn,
                ocr_pages,
                {"key": key, "text": text, "confidence": confidence, "at": time.time()},
                ["key"],
            )

    # --- files ----------------------------------------------------------------------
    def file_fingerprints(self) -> dict[str, str]:
        with self.database.read() as conn:
            return {
                r.path: r.fingerprint
                for r in conn.execute(select(files.c.path, files.c.fingerprint))
            }

    def owner_of(self, doc_ids: Iterable[str]) -> dict[str, str]:
        """Map each doc id that is already indexed to the file that holds it."""
        ids = list(doc_ids)
        out: dict[str, str] = {}
        with self.database.read() as conn:
            for i in range(0, len(ids), _BATCH):
                q = select(documents.c.doc_id, documents.c.path).where(
                    documents.c.doc_id.in_(ids[i : i + _BATCH])
                )
                out.update((r.doc_id, r.path) for r in conn.execute(q))
        return out

    def replace_file(
        self, path: str, fingerprint: str, documents_: list[Document], chunks_: list[Chunk]
    ) -> None:
        """Swap in a file's documents and chunks atomically.

        A document or chunk id held by another file moves to this one (the ingest decides
        beforehand which file owns an id); the file's old rows go with its `files` row.
        """
        with self.transaction() as conn:
            conn.execute(delete(files).where(files.c.path == path))
            conn.execute(insert(files).values(path=path, fingerprint=fingerprint))
            doc_ids = [d.doc_id for d in documents_]
            chunk_ids = [c.chunk_id for c in chunks_]
            for i in range(0, len(doc_ids), _BATCH):
                conn.execute(
                    delete(documents).where(documents.c.doc_id.in_(doc_ids[i : i + _BATCH]))
                )
            for i in range(0, len(chunk_ids), _BATCH):
                conn.execute(delete(chunks).where(chunks.c.chunk_id.in_(chunk_ids[i : i + _BATCH])))
            if documents_:
                conn.execute(insert(documents), [_document_row(path, d) for d in documents_])
            if chunks_:
                conn.execute(
                    insert(chunks),
                    [
                        {
                            "chunk_id": c.chunk_id,
                            "doc_id": c.doc_id,
                            "ordinal": c.ordinal,
                            "title": c.title,
                            "section": c.section,
                            "text": c.text,
                            "page": c.page,
                        }
                        for c in chunks_
                    ],
                )
            bump_kb_version(conn)  # replicas watch it: they reload what is live

    def remove_files(self, paths: Iterable[str]) -> None:
        gone = list(paths)
        with self.transaction() as conn:
            for i in range(0, len(gone), _BATCH):
                conn.execute(delete(files).where(files.c.path.in_(gone[i : i + _BATCH])))
            if gone:
                bump_kb_version(conn)

    def clear(self) -> None:
        with self.transaction() as conn:
            conn.execute(delete(files))
            bump_kb_version(conn)

    # --- reading --------------------------------------------------------------------
    def documents(self) -> list[Document]:
        with self.database.read() as conn:
            rows = conn.execute(select(*_DOC_COLS).order_by(documents.c.doc_id)).all()
        return [
            Document(
                doc_id=r.doc_id,
                source_path=r.path,
                title=r.title,
                category=r.category,
                department=r.department,
                contact=r.contact,
                url=r.url,
                updated=r.updated,
                sample=bool(r.sample),
                kind=r.kind,
                text=r.text,
                alternatives=tuple(a for a in r.alternatives.split("\n") if a),
                **(json.loads(r.meta) if r.meta else {}),
            )
            for r in rows
        ]

    def chunks(self) -> list[Chunk]:
        q = select(
            chunks.c.chunk_id,
            chunks.c.doc_id,
            chunks.c.ordinal,
            chunks.c.title,
            chunks.c.section,
            chunks.c.text,
            chunks.c.page,
        ).order_by(chunks.c.doc_id, chunks.c.ordinal)
        with self.database.read() as conn:
            return [Chunk(*r) for r in conn.execute(q)]

    def chunk_ids(self) -> set[str]:
        with self.database.read() as conn:
            return set(conn.scalars(select(chunks.c.chunk_id)))

    def counts(self) -> tuple[int, int]:
        with self.database.read() as conn:
            docs = conn.scalar(select(func.count()).select_from(documents))
            parts = conn.scalar(select(func.count()).select_from(chunks))
        return int(docs or 0), int(parts or 0)


def _document_row(path: str, d: Document) -> dict[str, object]:
    return {
        "doc_id": d.doc_id,
        "path": path,
        "title": d.title,
        "category": d.category,
        "department": d.department,
        "contact": d.contact,
        "url": d.url,
        "updated": d.updated,
        "sample": int(d.sample),
        "kind": d.kind,
        "text": d.text,
        "alternatives": "\n".join(d.alternatives),
        "meta": json.dumps(d.extras, ensure_ascii=False) if d.extras else "",
    }
