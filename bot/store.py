"""SQLite records: which files are indexed, their documents and chunks, index metadata.

The records are the source of truth for what is live: a file's documents and chunks are
swapped in one transaction, so a reader (or an interrupted ingest) never sees half a file.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bot.models import Chunk, Document

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    -- fingerprint: the file's SHA-256 and the pipeline signature that turned it into chunks
    path TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, indexed_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY, path TEXT NOT NULL REFERENCES files(path) ON DELETE CASCADE,
    title TEXT, category TEXT, department TEXT, contact TEXT, url TEXT, updated TEXT,
    sample INTEGER, kind TEXT, text TEXT, alternatives TEXT NOT NULL DEFAULT '',
    meta TEXT NOT NULL DEFAULT ''  -- JSON: validity, benefit, eligibility (Document.extras)
);
CREATE INDEX IF NOT EXISTS documents_path ON documents(path);
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id TEXT PRIMARY KEY,
    doc_id TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
    ordinal INTEGER, title TEXT, section TEXT, text TEXT
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
"""

_DOC_COLS = "doc_id, path, title, category, department, contact, url, updated, sample, kind, text, alternatives, meta"


class RecordStore:
    """Files → documents → chunks, in one SQLite file."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        # One connection shared by request threads: a reader must not see another thread's
        # half-done transaction, so every use holds this lock.
        self._lock = threading.RLock()
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)
        self._migrate()

    def _migrate(self) -> None:
        """Bring a records file written by an earlier version up to the current schema."""
        doc_columns = {row[1] for row in self._db.execute("PRAGMA table_info(documents)")}
        if "alternatives" not in doc_columns:  # FAQ phrasings arrived with staff FAQ editing
            self._db.execute(
                "ALTER TABLE documents ADD COLUMN alternatives TEXT NOT NULL DEFAULT ''"
            )
        if "meta" not in doc_columns:  # validity, benefit and eligibility arrived with policies
            self._db.execute("ALTER TABLE documents ADD COLUMN meta TEXT NOT NULL DEFAULT ''")
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(files)")}
        if "fingerprint" in columns:
            return
        # Early versions kept only the file hash. Rebuild the table (SQLite's documented
        # procedure, foreign keys off so no document is dropped) with empty fingerprints:
        # they match nothing, so the next ingest re-parses every file, reusing its vectors.
        self._db.execute("PRAGMA foreign_keys=OFF")
        try:
            with self.transaction() as db:
                db.execute(
                    "CREATE TABLE files_new (path TEXT PRIMARY KEY, fingerprint TEXT NOT NULL,"
                    " indexed_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)"
                )
                db.execute(
                    "INSERT INTO files_new (path, fingerprint, indexed_at)"
                    " SELECT path, '', indexed_at FROM files"
                )
                db.execute("DROP TABLE files")
                db.execute("ALTER TABLE files_new RENAME TO files")
        finally:
            self._db.execute("PRAGMA foreign_keys=ON")

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _read(self, sql: str, params: Sequence[object] = ()) -> list[Any]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    # --- metadata -------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        rows = self._read("SELECT value FROM meta WHERE key=?", (key,))
        return str(rows[0][0]) if rows else None

    def set_meta(self, key: str, value: str) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    # --- files ----------------------------------------------------------------------
    def file_fingerprints(self) -> dict[str, str]:
        return dict(self._read("SELECT path, fingerprint FROM files"))

    def owner_of(self, doc_ids: Iterable[str]) -> dict[str, str]:
        """Map each doc id that is already indexed to the file that holds it."""
        ids = list(doc_ids)
        out: dict[str, str] = {}
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            q = f"SELECT doc_id, path FROM documents WHERE doc_id IN ({','.join('?' * len(part))})"
            out.update(self._read(q, part))
        return out

    def replace_file(
        self, path: str, fingerprint: str, documents: list[Document], chunks: list[Chunk]
    ) -> None:
        """Swap in a file's documents and chunks atomically."""
        with self.transaction() as db:
            db.execute("DELETE FROM files WHERE path=?", (path,))
            db.execute("INSERT INTO files(path, fingerprint) VALUES (?, ?)", (path, fingerprint))
            db.executemany(
                f"INSERT OR REPLACE INTO documents({_DOC_COLS}) VALUES ({','.join('?' * 13)})",
                [
                    (
                        d.doc_id,
                        path,
                        d.title,
                        d.category,
                        d.department,
                        d.contact,
                        d.url,
                        d.updated,
                        int(d.sample),
                        d.kind,
                        d.text,
                        "\n".join(d.alternatives),
                        json.dumps(d.extras, ensure_ascii=False) if d.extras else "",
                    )
                    for d in documents
                ],
            )
            db.executemany(
                "INSERT OR REPLACE INTO chunks(chunk_id, doc_id, ordinal, title, section, text) VALUES (?,?,?,?,?,?)",
                [(c.chunk_id, c.doc_id, c.ordinal, c.title, c.section, c.text) for c in chunks],
            )

    def remove_files(self, paths: Iterable[str]) -> None:
        with self.transaction() as db:
            db.executemany("DELETE FROM files WHERE path=?", [(p,) for p in paths])

    def clear(self) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM files")

    # --- reading --------------------------------------------------------------------
    def documents(self) -> list[Document]:
        rows = self._read(f"SELECT {_DOC_COLS} FROM documents ORDER BY doc_id")
        return [
            Document(
                doc_id=r[0],
                source_path=r[1],
                title=r[2],
                category=r[3],
                department=r[4],
                contact=r[5],
                url=r[6],
                updated=r[7],
                sample=bool(r[8]),
                kind=r[9],
                text=r[10],
                alternatives=tuple(a for a in r[11].split("\n") if a),
                **(json.loads(r[12]) if r[12] else {}),
            )
            for r in rows
        ]

    def chunks(self) -> list[Chunk]:
        rows = self._read(
            "SELECT chunk_id, doc_id, ordinal, title, section, text FROM chunks ORDER BY doc_id, ordinal"
        )
        return [Chunk(*r) for r in rows]

    def chunk_ids(self) -> set[str]:
        return {r[0] for r in self._read("SELECT chunk_id FROM chunks")}

    def counts(self) -> tuple[int, int]:
        ((docs,),) = self._read("SELECT COUNT(*) FROM documents")
        ((chunks,),) = self._read("SELECT COUNT(*) FROM chunks")
        return int(docs), int(chunks)
