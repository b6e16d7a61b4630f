"""Documents uploaded by staff: every version kept with its checksum, the live ones indexed.

Layout under `BOT_DATA_DIR/library/`: `current/NAME` is the live original of each uploaded
file (an ingest root of its own), `versions/NAME/N-SHA12.ext` every version ever accepted
or tried. An upload is written and fsync'ed as a version *before* it is indexed; if it does
not parse, the previous original is put back and the index (which keeps a file's previous
version when its new one fails) never changed.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
import time
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.audit import AuditLog
from bot.errors import (
    BotError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    StorageError,
    TooLargeError,
    UnsupportedFormatError,
)
from bot.index import KnowledgeIndex
from bot.models import Document
from bot.sqlite import SQLiteTable
from ingest.parsers import MAX_UNZIPPED, PARSERS
from ingest.pipeline import Ingestor

_SCHEMA = """
CREATE TABLE IF NOT EXISTS library_versions (
    name TEXT NOT NULL, version INTEGER NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL,
    uploaded_by TEXT NOT NULL, at REAL NOT NULL,
    status TEXT NOT NULL,  -- pending, live, superseded, rejected, deleted
    reason TEXT NOT NULL DEFAULT '', PRIMARY KEY (name, version)
);
-- What staff said about a file when uploading it (fills fields the file itself leaves empty).
CREATE TABLE IF NOT EXISTS library_files (
    name TEXT PRIMARY KEY, category TEXT NOT NULL DEFAULT '', department TEXT NOT NULL DEFAULT '',
    contact TEXT NOT NULL DEFAULT ''
);
"""
META_FIELDS = ("category", "department", "contact")
_ZIPPED = {".docx", ".xlsx"}
_TEXT = {".md", ".markdown", ".txt", ".html", ".htm", ".csv"}
# the first bytes of binary formats: a picture named .md is not text to index
_BINARY_MAGIC = (
    b"\x89PNG",
    b"GIF8",
    b"\xff\xd8\xff",
    b"%PDF",
    b"PK\x03\x04",
    b"\x7fELF",
    b"\xd0\xcf\x11\xe0",
    b"RIFF",
)
MAX_NAME_BYTES = 180  # room for the "N-SHA12" version prefix and temp-file dots


class ParseRejected(InvalidInputError):
    """A stored version that did not parse (already in the audit log with its versions)."""


@dataclass(frozen=True)
class Uploaded:
    name: str
    version: int
    sha256: str
    doc_ids: list[str]


@dataclass
class IngestProgress:
    """Files of the staff uploads being indexed now (both 0 when none is), for operators."""

    done: int = 0
    total: int = 0

    @contextmanager
    def batch(self, files: int) -> Iterator[Callable[[], None]]:
        """Count `files` in while the block runs; call what it gives after each file."""
        finished = 0

        def advance() -> None:
            nonlocal finished
            finished += 1
            self.done += 1

        self.total += files
        try:
            yield advance
        finally:
            self.total -= files
            self.done -= finished


def _fsync_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class DocumentLibrary(SQLiteTable):
    def __init__(
        self,
        data_dir: Path,
        index: KnowledgeIndex,
        on_change: Callable[[], None],
        audit: AuditLog,
        max_bytes: int = 20 * 1024 * 1024,
    ) -> None:
        self.audit = audit
        self.root = data_dir / "library"
        self.current = self.root / "current"
        self.versions = self.root / "versions"
        self.current.mkdir(parents=True, exist_ok=True)
        self.index = index
        self.on_change = on_change
        self.max_bytes = max_bytes
        self._pending_meta: dict[str, dict[str, str]] = {}
        # One change at a time (parse, embed, swap: seconds). Readers never take it: each
        # statement holds the connection's own lock (`_lock`) only while it runs, so the
        # documents list and versions answer while an upload is being indexed.
        self._changing = threading.Lock()
        self.progress = IngestProgress()
        super().__init__(data_dir / "records.sqlite3", _SCHEMA)
        self.recover()

    # --- start-up ---------------------------------------------------------------------
    def recover(self) -> None:
        """Finish or undo changes a stopped server left half done, so that the stored
        originals, their version records and the index agree again."""
        with self._changing, self.index.write_lock:
            indexed = self.index.records.file_fingerprints()
            pending = self._sql(
                "SELECT name, version, sha256 FROM library_versions WHERE status='pending'"
                " ORDER BY name, version"
            )
            for name, version, sha in pending:
                target = self.current / name
                on_disk = target.exists() and hashlib.sha256(target.read_bytes()).hexdigest()
                if on_disk == sha and indexed.get(str(target.resolve()), "").split(":")[0] == sha:
                    # Indexed and swapped in; only the bookkeeping was missing.
                    self._sql(
                        "UPDATE library_versions SET status='superseded'"
                        " WHERE name=? AND status='live'",
                        (name,),
                    )
                    self._set_status(name, version, "live")
                    self.audit.record("system", "recovered", name, None, version, "indexed")
                    continue
                live = self._row(
                    "SELECT version, sha256 FROM library_versions WHERE name=? AND status='live'",
                    (name,),
                )
                previous = (
                    (
                        self.versions
                        / name
                        / f"{live[0]}-{live[1][:12]}{Path(name).suffix.lower()}"
                    ).read_bytes()
                    if live
                    else None
                )
                self._put_back(target, previous)
                self._set_status(name, version, "rejected", "interrupted: the server stopped")
                self.audit.record(
                    "system", "interrupted", name, live and live[0], version, "previous kept"
                )
            # A delete stopped before its bookkeeping: the file is gone, so is the document.
            for (name,) in self._sql("SELECT name FROM library_versions WHERE status='live'"):
                if not (self.current / name).exists():
                    self._sql(
                        "UPDATE library_versions SET status='deleted' WHERE name=? AND status='live'",
                        (name,),
                    )
            report = self._ingestor().run([self.current])
        if report.added or report.changed or report.removed:
            self.on_change()

    # --- checks ------------------------------------------------------------------------
    def _checked_name(self, filename: str) -> str:
        if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co") for ch in filename):
            # evil.md\x00.pdf, a right-to-left override that shows gpj.md as md.jpg …
            raise InvalidInputError(
                "the file name holds control or invisible characters",
                message_zh="文件名含有控制字符或不可见字符，请改名后再上传",
            )
        name = Path(filename.replace("\\", "/")).name.strip()
        if not name or name.startswith("."):
            raise InvalidInputError("a file name is needed", message_zh="缺少文件名")
        if len(name.encode()) > MAX_NAME_BYTES:  # file systems stop at 255 bytes
            raise InvalidInputError(
                f"file name longer than {MAX_NAME_BYTES} bytes",
                message_zh=f"文件名过长（最多 {MAX_NAME_BYTES} 字节，约 {MAX_NAME_BYTES // 3} 个汉字）",
            )
        suffix = Path(name).suffix.lower()
        if suffix not in PARSERS:
            raise UnsupportedFormatError(
                f"{name}: unsupported format {suffix or '(none)'}; supported: {', '.join(sorted(PARSERS))}",
                message_zh=f"{name}：不支持的文件格式（支持 {'、'.join(sorted(PARSERS))}）",
            )
        return name

    def _check_content(self, name: str, data: bytes) -> None:
        if not data:
            raise InvalidInputError(f"{name}: the file is empty", message_zh=f"{name}：文件为空")
        if len(data) > self.max_bytes:
            raise TooLargeError(
                f"{name}: larger than {self.max_bytes // (1024 * 1024)} MB",
                message_zh=f"{name}：文件超过 {self.max_bytes // (1024 * 1024)} MB",
            )
        suffix = Path(name).suffix.lower()
        if suffix in _TEXT and (data.startswith(_BINARY_MAGIC) or b"\x00" in data[:8192]):
            raise InvalidInputError(
                f"{name}: the content is not text (binary data named {suffix})",
                message_zh=f"{name}：文件内容不是文本（扩展名为 {suffix}，内容却是二进制数据）",
            )
        if suffix == ".pdf" and b"%PDF" not in data[:1024]:
            raise InvalidInputError(
                f"{name}: not a PDF file", message_zh=f"{name}：不是有效的 PDF 文件"
            )
        if suffix in _ZIPPED:
            try:
                unzipped = sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(data)).infolist())
            except zipfile.BadZipFile:
                raise InvalidInputError(
                    f"{name}: not a valid Office file", message_zh=f"{name}：不是有效的 Office 文件"
                ) from None
            if unzipped > MAX_UNZIPPED:
                raise InvalidInputError(
                    f"{name}: unpacks to {unzipped // (1024 * 1024)} MB (a zip bomb?)",
                    message_zh=f"{name}：解压后过大，已拒绝",
                )

    # --- changes -----------------------------------------------------------------------
    def upload(
        self, filename: str, data: bytes, user: str, meta: dict[str, str] | None = None
    ) -> Uploaded:
        """A new file: stored durably, indexed, live (or rejected with the reason).

        `meta` (category, department, contact) fills what the file itself leaves empty.
        """
        with self._refusals_audited(user, "upload_rejected", filename):
            name = self._checked_name(filename)
            self._check_content(name, data)
            with self._changing:  # one change at a time
                if (self.current / name).exists():
                    raise ConflictError(
                        f"{name} exists; replace it by document id with the version you edited",
                        message_zh=f"{name} 已存在：请在该文档上选择“替换”，以免覆盖他人的修改",
                    )
                return self._store(name, data, user, "upload", meta=meta)

    def replace(
        self,
        doc_id: str,
        data: bytes,
        user: str,
        base_version: int,
        meta: dict[str, str] | None = None,
    ) -> Uploaded:
        """A new version of an uploaded document; 409 when someone changed it since `base_version`."""
        with self._refusals_audited(user, "replace_rejected", doc_id), self._changing:
            name = self._file_of(doc_id).name
            self._check_content(name, data)
            live = self._live_version(name)
            if live != base_version:
                raise ConflictError(
                    f"{doc_id} changed since version {base_version} (now {live}); reload and retry",
                    message_zh=f"{doc_id} 已被他人修改（当前版本 {live}），请刷新后再试",
                )
            return self._store(name, data, user, "replace", meta=meta)

    @contextmanager
    def _refusals_audited(self, user: str, action: str, target: str) -> Iterator[None]:
        """Every refused change is in the audit log (parse failures are logged by _store)."""
        try:
            yield
        except BotError as exc:
            if not isinstance(exc, ParseRejected):
                shown = "".join(  # a NUL or an override in the name is shown, not acted on
                    ch
                    if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co")
                    else f"\\u{ord(ch):04x}"
                    for ch in target
                )
                self.audit.record(user, action, shown, None, None, exc.message_zh)
            raise

    def rollback(self, doc_id: str, version: int, user: str) -> Uploaded:
        """Make an earlier accepted version live again (as a new version)."""
        with self._changing:
            name = self._file_of(doc_id).name
            row = self._row(
                "SELECT sha256, status FROM library_versions WHERE name=? AND version=?",
                (name, version),
            )
            if row is None or row[1] in ("rejected", "pending"):
                raise NotFoundError(
                    f"{doc_id} has no usable version {version}",
                    message_zh=f"{doc_id} 没有可恢复的版本 {version}",
                )
            data = self._version_path(name, version, row[0]).read_bytes()
            return self._store(name, data, user, "rollback", f"to version {version}")

    def _live_version(self, name: str) -> int | None:
        row = self._row(
            "SELECT version FROM library_versions WHERE name=? AND status='live'", (name,)
        )
        return int(row[0]) if row else None

    def _store(
        self,
        name: str,
        data: bytes,
        user: str,
        action: str,
        detail: str = "",
        meta: dict[str, str] | None = None,
    ) -> Uploaded:
        """Keep the version, index it, swap it live; the caller holds the lock."""
        if meta is None:
            return self._store_locked(name, data, user, action, detail)
        given = {k: v.strip() for k, v in meta.items() if k in META_FIELDS and v is not None}
        # Used by this indexing only; kept once the version is live, so an interrupted
        # change never leaves its metadata on the previous version.
        self._pending_meta[name] = {**self._meta(name), **given}
        try:
            done = self._store_locked(name, data, user, action, detail)
            self._set_meta(name, self._pending_meta[name])
            return done
        finally:
            self._pending_meta.pop(name, None)

    def _store_locked(
        self, name: str, data: bytes, user: str, action: str, detail: str
    ) -> Uploaded:
        sha = hashlib.sha256(data).hexdigest()
        live = self._row(
            "SELECT version, sha256 FROM library_versions WHERE name=? AND status='live'", (name,)
        )
        if live and live[1] == sha:
            raise ConflictError(
                f"{name}: identical to the live version", message_zh=f"{name}：与当前版本完全相同"
            )
        (last,) = self._sql(
            "SELECT COALESCE(MAX(version), 0) FROM library_versions WHERE name=?", (name,)
        )[0]
        version = last + 1
        try:
            _fsync_write(self._version_path(name, version, sha), data)
        except OSError as exc:
            raise StorageError(f"{name}: cannot store the upload ({exc.strerror})") from exc
        self._sql(
            "INSERT INTO library_versions VALUES (?, ?, ?, ?, ?, ?, 'pending', '')",
            (name, version, sha, len(data), user, time.time()),
        )
        target = self.current / name
        previous = target.read_bytes() if target.exists() else None
        try:
            _fsync_write(target, data)
            report = self._ingestor().run([self.current])
        except BaseException as exc:  # embedder, vector store, disk: the old version stays
            self._put_back(target, previous)
            self._set_status(name, version, "rejected", f"indexing failed: {exc}")
            if isinstance(exc, OSError):
                raise StorageError(f"{name}: cannot store the upload ({exc.strerror})") from exc
            raise
        failure = next((f for f in report.failed if Path(f.path).name == name), None)
        if failure is not None:
            self._put_back(target, previous)
            self._set_status(name, version, "rejected", failure.reason_zh or failure.reason)
            self.audit.record(
                user,
                f"{action}_rejected",
                name,
                live and live[0],
                version,
                failure.reason_zh or failure.reason,
            )
            raise ParseRejected(
                failure.reason,
                message_zh=f"{failure.reason_zh or name + '：无法解析'}（原版本继续使用）",
            )
        self._sql(
            "UPDATE library_versions SET status='superseded' WHERE name=? AND status='live'",
            (name,),
        )
        self._set_status(name, version, "live")
        self.audit.record(user, action, name, live and live[0], version, detail)
        self.on_change()
        return Uploaded(name, version, sha, [d.doc_id for d in self._documents_of(target)])

    def delete(self, doc_id: str, user: str) -> str:
        """Take an uploaded document's file out of the index (its versions are kept)."""
        with self._changing:
            target = self._file_of(doc_id)
            live = self._live_version(target.name)
            target.unlink()
            self._ingestor().run([self.current])
            self._sql(
                "UPDATE library_versions SET status='deleted' WHERE name=? AND status='live'",
                (target.name,),
            )
            self.audit.record(user, "delete", target.name, live, None, doc_id)
        self.on_change()
        return target.name

    # --- reading ----------------------------------------------------------------------
    def original(self, doc_id: str) -> Path:
        return self._file_of(doc_id)

    def versions_of(self, name: str) -> list[dict[str, object]]:
        keys = ("version", "sha256", "size", "uploaded_by", "at", "status", "reason")
        return self._dicts(
            f"SELECT {', '.join(keys)} FROM library_versions WHERE name=? ORDER BY version",
            (name,),
            keys,
        )

    def is_uploaded(self, doc: Document) -> bool:
        return Path(doc.source_path).parent == self.current.resolve()

    def _documents_of(self, target: Path) -> list[Document]:
        key = str(target.resolve())
        return [d for d in self.index.records.documents() if d.source_path == key]

    def _file_of(self, doc_id: str) -> Path:
        doc = next((d for d in self.index.records.documents() if d.doc_id == doc_id), None)
        if doc is None:
            raise NotFoundError(f"no document {doc_id!r}", message_zh=f"找不到文档 {doc_id}")
        if not self.is_uploaded(doc):
            raise ConflictError(
                f"{doc_id} comes from the deployed knowledge folder, not an upload",
                message_zh=f"{doc_id} 属于随系统部署的知识库目录，不能在这里修改",
            )
        return Path(doc.source_path)

    def deleted(self) -> list[dict[str, object]]:
        """Uploaded files taken out of service, with their last version (restorable)."""
        rows = self._dicts(
            "SELECT v.name, v.version, a.at, a.user FROM library_versions v"
            " LEFT JOIN audit_log a ON a.id = (SELECT MAX(id) FROM audit_log"
            "  WHERE action='delete' AND target=v.name)"
            " WHERE v.status='deleted' AND v.version = (SELECT MAX(version)"
            "  FROM library_versions WHERE name=v.name AND status='deleted') ORDER BY v.name",
            (),
            ("name", "version", "deleted_at", "deleted_by"),
        )
        return [r for r in rows if not (self.current / str(r["name"])).exists()]

    def restore(self, name: str, user: str) -> Uploaded:
        """Put a deleted file's last version back in service (as a new version)."""
        with self._changing:
            if (self.current / name).exists():
                raise ConflictError(
                    f"{name} is in service", message_zh=f"{name} 正在使用中，无需恢复"
                )
            row = self._row(
                "SELECT version, sha256 FROM library_versions WHERE name=? AND status='deleted'"
                " ORDER BY version DESC LIMIT 1",
                (name,),
            )
            if row is None:
                raise NotFoundError(
                    f"no deleted file {name!r}", message_zh=f"没有可恢复的已删除文件 {name}"
                )
            data = self._version_path(name, row[0], row[1]).read_bytes()
            return self._store(name, data, user, "restore", f"from version {row[0]}")

    def live_count(self) -> int:
        (n,) = self._sql("SELECT COUNT(*) FROM library_versions WHERE status='live'")[0]
        return int(n)

    def _sql(self, sql: str, params: tuple[object, ...] = ()) -> list[Any]:
        """One statement (autocommit), holding the shared connection only while it runs."""
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def _row(self, sql: str, params: tuple[object, ...] = ()) -> Any:
        rows = self._sql(sql, params)
        return rows[0] if rows else None

    def _version_path(self, name: str, version: int, sha: str) -> Path:
        return self.versions / name / f"{version}-{sha[:12]}{Path(name).suffix.lower()}"

    def _ingestor(self) -> Ingestor:
        return Ingestor(self.index, progress=False, defaults=lambda path: self._meta(path.name))

    def _meta(self, name: str) -> dict[str, str]:
        if name in self._pending_meta:
            return dict(self._pending_meta[name])
        row = self._row(f"SELECT {', '.join(META_FIELDS)} FROM library_files WHERE name=?", (name,))
        return dict(zip(META_FIELDS, row, strict=True)) if row else {}

    def _set_meta(self, name: str, meta: dict[str, str]) -> None:
        if not any(meta.values()):
            self._sql("DELETE FROM library_files WHERE name=?", (name,))
            return
        self._sql(
            f"INSERT OR REPLACE INTO library_files (name, {', '.join(META_FIELDS)})"
            " VALUES (?, ?, ?, ?)",
            (name, *(meta.get(k, "") for k in META_FIELDS)),
        )

    @staticmethod
    def _put_back(target: Path, previous: bytes | None) -> None:
        if previous is None:
            target.unlink(missing_ok=True)
        else:
            _fsync_write(target, previous)

    def _set_status(self, name: str, version: int, status: str, reason: str = "") -> None:
        self._sql(
            "UPDATE library_versions SET status=?, reason=? WHERE name=? AND version=?",
            (status, reason, name, version),
        )
