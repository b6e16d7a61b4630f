"""Documents uploaded by staff: every version kept with its checksum, the live ones indexed.

Everything lives in the records database, so every replica serves the same library: the
bytes of every version ever accepted or tried (`library_originals`), the versions and their
status (`library_versions`), what staff typed about a file (`library_files`). A live file is
indexed under the key `library/NAME` (not a path on one machine); to be parsed, its bytes
are written to a private temporary directory and removed again.

A change is serialised across threads, processes and replicas by the index's writer lock
(`KnowledgeIndex.write_lock`, a database lock); readers never take it. The version is
stored *before* it is indexed, as `pending`; if it does not parse, the index (which keeps a
file's previous version when its new one fails) never changed and the version is marked
`rejected`. A server stopped half-way is put right by `recover()` at the next start.

Before issue 14 the originals were files under `BOT_DATA_DIR/library/` (`current/NAME`, the
live one, an ingest root; `versions/NAME/N-SHA12.ext`); `recover()` imports them once and
re-keys their index entries, reusing every vector. The folder is then no longer read.
"""

from __future__ import annotations

import hashlib
import io
import tempfile
import time
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Executable, and_, delete, exists, func, insert, select, update

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
from bot.records import upsert
from bot.records.models import audit_log, library_files, library_originals, library_versions
from ingest.legacy import ZIP, magic_problem
from ingest.parsers import MAX_UNZIPPED, PARSERS
from ingest.pipeline import Ingestor, IngestReport

KEY_PREFIX = "library/"  # an uploaded file is indexed under library/NAME
META_FIELDS = ("category", "department", "contact")
_ZIPPED = {".docx", ".xlsx", ".pptx"}
_LEGACY = {".doc", ".wps", ".et"}  # OLE2 files LibreOffice converts (ingest/legacy.py)
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
MAX_NAME_BYTES = 180  # file systems stop at 255 bytes; room for temp-file dots
_V = library_versions.c


def library_key(name: str) -> str:
    """Where an uploaded file's documents are indexed."""
    return KEY_PREFIX + name


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
    # the scanned file being read by OCR now, and how far (pages)
    ocr_file: str = ""
    ocr_done: int = 0
    ocr_total: int = 0

    def ocr_page(self, name: str, _page: int, done: int, total: int) -> None:
        if done >= total:
            name, done, total = "", 0, 0
        self.ocr_file, self.ocr_done, self.ocr_total = name, done, total

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
            self.ocr_file, self.ocr_done, self.ocr_total = "", 0, 0


class DocumentLibrary:
    def __init__(
        self,
        data_dir: Path,
        index: KnowledgeIndex,
        on_change: Callable[[], None],
        audit: AuditLog,
        max_bytes: int = 20 * 1024 * 1024,
    ) -> None:
        self.audit = audit
        self.legacy = data_dir / "library"  # originals on local disk before issue 14
        self.index = index
        self.database = index.database
        self.on_change = on_change
        self.max_bytes = max_bytes
        self._pending_meta: dict[str, dict[str, str]] = {}
        # One change at a time on every replica (parse, embed, swap: seconds): the index's
        # writer lock. Readers never take it, so the documents list and versions answer
        # while an upload is being indexed.
        self._changing = index.write_lock
        self.progress = IngestProgress()
        self.recover()

    # --- start-up ---------------------------------------------------------------------
    def recover(self) -> None:
        """Finish or undo changes a stopped server left half done, so that the stored
        originals, their version records and the index agree again."""
        with self._changing:
            changed = self._import_legacy()
            indexed = self.index.records.file_fingerprints()
            for name, version, sha in self._rows(
                select(_V.name, _V.version, _V.sha256)
                .where(_V.status == "pending")
                .order_by(_V.name, _V.version)
            ):
                live = self._live(name)
                if indexed.get(library_key(name), "").split(":")[0] == sha:
                    # Indexed and swapped in; only the bookkeeping was missing.
                    self._make_live(name, version)
                    self.audit.record(
                        "system", "recovered", name, live and live[0], version, "indexed"
                    )
                    continue
                self._set_status(name, version, "rejected", "interrupted: the server stopped")
                self.audit.record(
                    "system", "interrupted", name, live and live[0], version, "previous kept"
                )
            live_names = {str(r[0]) for r in self._rows(select(_V.name).where(_V.status == "live"))}
            # A delete stopped between its bookkeeping and the index: finish it.
            for key in [k for k in indexed if k.startswith(KEY_PREFIX)]:
                if key[len(KEY_PREFIX) :] not in live_names:
                    self._ingestor().remove_key(key)
                    changed = True
            # A live file the index lost (the embedder changed: everything is re-embedded).
            for name in sorted(live_names):
                if library_key(name) not in indexed:
                    live = self._live(name)
                    assert live is not None
                    self._index_bytes(name, self._original_bytes(name, live[0]))
                    changed = True
        if changed:
            self.on_change()

    def _import_legacy(self) -> bool:
        """Originals kept as files before issue 14: their bytes into the database, their
        index entries (keyed by a path under library/current) re-keyed to library/NAME."""
        changed = False
        versions = self.legacy / "versions"
        if versions.is_dir():
            missing = self._rows(
                select(_V.name, _V.version, _V.sha256).where(
                    ~exists().where(
                        and_(
                            library_originals.c.name == _V.name,
                            library_originals.c.version == _V.version,
                        )
                    )
                )
            )
            for name, version, sha in missing:
                path = versions / name / f"{version}-{sha[:12]}{Path(name).suffix.lower()}"
                if path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == sha:
                    with self.database.transaction() as conn:
                        self._put_original(conn, name, version, path.read_bytes())
        current = (self.legacy / "current").resolve()
        for key in list(self.index.records.file_fingerprints()):
            path = Path(key)
            if not path.is_absolute() or path.parent != current:
                continue
            live = self._live(path.name)
            data = (
                self._original_bytes(path.name, live[0])
                if live and self._has_original(path.name, live[0])
                else path.read_bytes()
                if path.is_file()
                else None
            )
            if data is not None and live is not None:
                self._index_bytes(path.name, data)  # same text, same chunk ids: no embedding
            self.index.records.remove_files([key])
            changed = True
        return changed

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
        if suffix == ".png" and not data.startswith(b"\x89PNG\r\n\x1a\n"):
            raise InvalidInputError(
                f"{name}: not a PNG image", message_zh=f"{name}：不是有效的 PNG 图片"
            )
        if suffix in (".jpg", ".jpeg") and not data.startswith(b"\xff\xd8\xff"):
            raise InvalidInputError(
                f"{name}: not a JPEG image", message_zh=f"{name}：不是有效的 JPEG 图片"
            )
        if suffix == ".ofd" and not data.startswith(b"PK\x03\x04"):
            raise InvalidInputError(
                f"{name}: not an OFD file (not a zip package)",
                message_zh=f"{name}：不是有效的 OFD 文件",
            )
        if suffix in _LEGACY:
            problem = magic_problem(name, data[:8])
            if problem:
                raise InvalidInputError(problem[0], message_zh=problem[1])
        if suffix in _ZIPPED or (suffix in _LEGACY and data.startswith(ZIP)):
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
            self._warm_ocr(name, data)
            with self._changing:  # one change at a time, on every replica
                if self._live(name) is not None:
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
        with self._refusals_audited(user, "replace_rejected", doc_id):
            name = self._name_of(doc_id)
            self._check_content(name, data)
            self._warm_ocr(name, data)
        with self._refusals_audited(user, "replace_rejected", doc_id), self._changing:
            name = self._name_of(doc_id)
            live = self._live(name)
            if live is None or live[0] != base_version:
                now = live and live[0]
                raise ConflictError(
                    f"{doc_id} changed since version {base_version} (now {now}); reload and retry",
                    message_zh=f"{doc_id} 已被他人修改（当前版本 {now}），请刷新后再试",
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
            name = self._name_of(doc_id)
            status = self._scalar(select(_V.status).where(_V.name == name, _V.version == version))
            if (
                status is None
                or status in ("rejected", "pending")
                or not self._has_original(name, version)
            ):
                raise NotFoundError(
                    f"{doc_id} has no usable version {version}",
                    message_zh=f"{doc_id} 没有可恢复的版本 {version}",
                )
            data = self._original_bytes(name, version)
            return self._store(name, data, user, "rollback", f"to version {version}")

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
        live = self._live(name)
        if live and live[1] == sha:
            raise ConflictError(
                f"{name}: identical to the live version", message_zh=f"{name}：与当前版本完全相同"
            )
        with self.database.transaction() as conn:  # the bytes are kept before indexing
            last = conn.scalar(select(func.max(_V.version)).where(_V.name == name)) or 0
            version = int(last) + 1
            conn.execute(
                insert(library_versions).values(
                    name=name,
                    version=version,
                    sha256=sha,
                    size=len(data),
                    uploaded_by=user,
                    at=time.time(),
                    status="pending",
                    reason="",
                )
            )
            self._put_original(conn, name, version, data)
        try:
            report = self._index_bytes(name, data)
        except BaseException as exc:  # embedder, vector store, disk: the old version stays
            self._set_status(name, version, "rejected", f"indexing failed: {exc}")
            if isinstance(exc, OSError):
                raise StorageError(f"{name}: cannot store the upload ({exc.strerror})") from exc
            raise
        if report.failed:
            failure = report.failed[0]
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
        self._make_live(name, version)
        self.audit.record(user, action, name, live and live[0], version, detail)
        self.on_change()
        key = library_key(name)
        return Uploaded(name, version, sha, [d.doc_id for d in self._documents_of(key)])

    def delete(self, doc_id: str, user: str) -> str:
        """Take an uploaded document's file out of the index (its versions are kept)."""
        with self._changing:
            name = self._name_of(doc_id)
            live = self._live(name)
            # bookkeeping first: a stop before the index follows is finished by recover()
            with self.database.transaction() as conn:
                conn.execute(
                    update(library_versions)
                    .where(_V.name == name, _V.status == "live")
                    .values(status="deleted")
                )
            self._ingestor().remove_key(library_key(name))
            self.audit.record(user, "delete", name, live and live[0], None, doc_id)
        self.on_change()
        return name

    # --- reading ----------------------------------------------------------------------
    def original(self, doc_id: str) -> tuple[str, bytes]:
        """The file name and bytes of an uploaded document's live version."""
        name = self._name_of(doc_id)
        live = self._live(name)
        if live is None or not self._has_original(name, live[0]):
            raise NotFoundError(
                f"no stored original of {doc_id!r}", message_zh=f"找不到 {doc_id} 的原始文件"
            )
        return name, self._original_bytes(name, live[0])

    def versions_of(self, name: str) -> list[dict[str, object]]:
        keys = ("version", "sha256", "size", "uploaded_by", "at", "status", "reason")
        q = select(*(_V[k] for k in keys)).where(_V.name == name).order_by(_V.version)
        return [dict(zip(keys, row, strict=True)) for row in self._rows(q)]

    def is_uploaded(self, doc: Document) -> bool:
        return doc.source_path.startswith(KEY_PREFIX)

    def _documents_of(self, key: str) -> list[Document]:
        return [d for d in self.index.records.documents() if d.source_path == key]

    def _name_of(self, doc_id: str) -> str:
        doc = next((d for d in self.index.records.documents() if d.doc_id == doc_id), None)
        if doc is None:
            raise NotFoundError(f"no document {doc_id!r}", message_zh=f"找不到文档 {doc_id}")
        if not self.is_uploaded(doc):
            raise ConflictError(
                f"{doc_id} comes from the deployed knowledge folder, not an upload",
                message_zh=f"{doc_id} 属于随系统部署的知识库目录，不能在这里修改",
            )
        return doc.source_path[len(KEY_PREFIX) :]

    def deleted(self) -> list[dict[str, object]]:
        """Uploaded files taken out of service, with their last version (restorable)."""
        last = (
            select(_V.name, func.max(_V.version).label("version"))
            .where(_V.status == "deleted")
            .group_by(_V.name)
            .subquery()
        )
        live = select(_V.name).where(_V.status == "live")
        rows = self._rows(
            select(last.c.name, last.c.version)
            .where(last.c.name.not_in(live))
            .order_by(last.c.name)
        )
        out: list[dict[str, object]] = []
        for name, version in rows:
            who = self._first(
                select(audit_log.c.at, audit_log.c.user)
                .where(audit_log.c.action == "delete", audit_log.c.target == name)
                .order_by(audit_log.c.id.desc())
                .limit(1)
            )
            out.append(
                {
                    "name": name,
                    "version": version,
                    "deleted_at": who[0] if who else None,
                    "deleted_by": who[1] if who else None,
                }
            )
        return out

    def restore(self, name: str, user: str) -> Uploaded:
        """Put a deleted file's last version back in service (as a new version)."""
        with self._changing:
            if self._live(name) is not None:
                raise ConflictError(
                    f"{name} is in service", message_zh=f"{name} 正在使用中，无需恢复"
                )
            version = self._scalar(
                select(func.max(_V.version)).where(_V.name == name, _V.status == "deleted")
            )
            if version is None or not self._has_original(name, int(version)):
                raise NotFoundError(
                    f"no deleted file {name!r}", message_zh=f"没有可恢复的已删除文件 {name}"
                )
            data = self._original_bytes(name, int(version))
            return self._store(name, data, user, "restore", f"from version {version}")

    def live_count(self) -> int:
        return int(self._scalar(select(func.count()).where(_V.status == "live")) or 0)

    # --- the database -------------------------------------------------------------------
    def _rows(self, query: Executable) -> list[Any]:
        with self.database.read() as conn:
            return [tuple(r) for r in conn.execute(query)]

    def _first(self, query: Executable) -> Any:
        rows = self._rows(query)
        return rows[0] if rows else None

    def _scalar(self, query: Executable) -> Any:
        row = self._first(query)
        return row[0] if row else None

    def _live(self, name: str) -> tuple[int, str] | None:
        """(version, sha256) of the live version of `name`."""
        row = self._first(select(_V.version, _V.sha256).where(_V.name == name, _V.status == "live"))
        return (int(str(row[0])), str(row[1])) if row else None

    def _has_original(self, name: str, version: int) -> bool:
        o = library_originals.c
        return (
            self._scalar(select(o.version).where(o.name == name, o.version == version)) is not None
        )

    def _original_bytes(self, name: str, version: int) -> bytes:
        o = library_originals.c
        return bytes(self._scalar(select(o.content).where(o.name == name, o.version == version)))

    @staticmethod
    def _put_original(conn: Connection, name: str, version: int, data: bytes) -> None:
        upsert(
            conn,
            library_originals,
            {"name": name, "version": version, "content": data},
            ["name", "version"],
        )

    def _make_live(self, name: str, version: int) -> None:
        """The version goes live and the one before it is superseded, together."""
        with self.database.transaction() as conn:
            conn.execute(
                update(library_versions)
                .where(_V.name == name, _V.status == "live")
                .values(status="superseded")
            )
            conn.execute(
                update(library_versions)
                .where(_V.name == name, _V.version == version)
                .values(status="live", reason="")
            )

    def _set_status(self, name: str, version: int, status: str, reason: str = "") -> None:
        with self.database.transaction() as conn:
            conn.execute(
                update(library_versions)
                .where(_V.name == name, _V.version == version)
                .values(status=status, reason=reason)
            )

    def _warm_ocr(self, name: str, data: bytes) -> None:
        """Read a scan's pages by OCR into the OCR cache before the change lock is taken:
        minutes of OCR must not hold every other change on every replica back (the indexing
        under the lock then finds the pages cached)."""
        if Path(name).suffix.lower() not in (".pdf", ".png", ".jpg", ".jpeg"):
            return
        with tempfile.TemporaryDirectory(prefix="jiangan-upload-") as tmp:
            path = Path(tmp) / name
            path.write_bytes(data)
            self._ingestor().warm_ocr([(path, path.parent)])

    def _index_bytes(self, name: str, data: bytes) -> IngestReport:
        """Parse and index `data` as the file `name` under its library key (a temporary copy
        on local disk, removed afterwards, is what the parsers read)."""
        with tempfile.TemporaryDirectory(prefix="jiangan-upload-") as tmp:
            path = Path(tmp) / name
            path.write_bytes(data)
            return self._ingestor().put_file(library_key(name), path)

    def _ingestor(self) -> Ingestor:
        return Ingestor(
            self.index,
            progress=False,
            defaults=lambda path: self._meta(path.name),
            on_ocr_page=self.progress.ocr_page,
        )

    def _meta(self, name: str) -> dict[str, str]:
        if name in self._pending_meta:
            return dict(self._pending_meta[name])
        f = library_files.c
        row = self._first(select(f.category, f.department, f.contact).where(f.name == name))
        return {k: str(v) for k, v in zip(META_FIELDS, row, strict=True)} if row else {}

    def _set_meta(self, name: str, meta: dict[str, str]) -> None:
        with self.database.transaction() as conn:
            if not any(meta.values()):
                conn.execute(delete(library_files).where(library_files.c.name == name))
                return
            upsert(
                conn,
                library_files,
                {"name": name, **{k: meta.get(k, "") for k in META_FIELDS}},
                ["name"],
            )
