"""Incremental ingest: parse → chunk → embed new chunks → swap records per file → tidy."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from bot.errors import IngestError, VectorsUnavailableError
from bot.index import KnowledgeIndex
from bot.models import Chunk, Document
from bot.services import FIELD_HEADINGS, parse_fields
from ingest.chunking import ChunkingPolicy, chunk_document
from ingest.ocr import IMAGE_SUFFIXES, OcrContext
from ingest.parsers import PARSERS, parse_file

log = logging.getLogger(__name__)
EMBED_BATCH = 32
# Bump when parsing or chunking changes what a file turns into: every file is then parsed
# again on the next run (passages whose text did not change keep their vectors).
PIPELINE_VERSION = "7"
# Staff FAQ entries are indexed under this key, as documents faq-<id> (ingest/faqbook.py);
# no file may use such an id.
FAQ_ENTRIES_KEY = "faq:entries"
# Formats that may hold scanned pages: read by OCR before the writer lock is taken.
_SCANNABLE = frozenset({".pdf", *IMAGE_SUFFIXES})
RESERVED_ID_PREFIX = "faq-"


@dataclass
class FileFailure:
    path: str
    reason: str
    reason_zh: str = ""


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[FileFailure] = field(default_factory=list)
    # indexed, but staff should look: a service guide with no field headings, a term read
    # off the text (to confirm)
    warnings: list[FileFailure] = field(default_factory=list)
    documents: int = 0
    chunks: int = 0
    embedded: int = 0
    reused: int = 0
    ocr_pages: int = 0  # pages read by OCR in this run
    ocr_cached: int = 0  # scanned pages whose text came from the OCR cache
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        return (
            f"ingest: {len(self.added)} added, {len(self.changed)} changed, "
            f"{len(self.unchanged)} unchanged, {len(self.removed)} removed, {len(self.failed)} failed · "
            f"index: {self.documents} documents, {self.chunks} chunks · "
            f"{self.embedded} chunks embedded"
            + (f" ({self.reused} vectors reused)" if self.reused else "")
            + (
                f" · OCR: {self.ocr_pages} pages read, {self.ocr_cached} from the cache"
                if self.ocr_pages or self.ocr_cached
                else ""
            )
            + f" in {self.seconds:.1f} s"
        )


def discover(paths: Iterable[Path]) -> list[tuple[Path, Path]]:
    """(file, root) for every supported file under the given paths, sorted; hidden files skipped."""
    found: dict[Path, Path] = {}
    for given in paths:
        root = given.resolve()
        if root.is_file():
            found[root] = root.parent
            continue
        for path in sorted(root.rglob("*")):
            rel = path.relative_to(root)
            if (
                path.is_file()
                and path.suffix.lower() in PARSERS
                and not any(p.startswith(".") for p in rel.parts)
            ):
                found[path] = root
    return sorted(found.items())


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass
class _Parsed:
    key: str  # where it is indexed: the file's path, or a key standing for it
    fingerprint: str
    documents: list[Document]
    chunks: list[Chunk]


def text_hash(text: str) -> str:
    """Key of the embedding cache: the exact text that is embedded."""
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _vector_metadata(chunk: Chunk, doc: Document) -> dict[str, str | int]:
    return {
        "text_hash": text_hash(chunk.context_text),
        "doc_id": chunk.doc_id,
        "category": doc.category,
        "section": chunk.section,
        "ordinal": chunk.ordinal,
    }


def _filled(doc: Document, defaults: dict[str, str]) -> Document:
    """The document with empty fields set from the defaults (its own values win)."""
    fill: dict[str, Any] = {k: v for k, v in defaults.items() if v and not getattr(doc, k)}
    return dataclasses.replace(doc, **fill) if fill else doc


def _warnings(key: str, docs: list[Document]) -> list[FileFailure]:
    name = Path(key).name
    out: list[FileFailure] = []
    for d in docs:
        out.extend(FileFailure(key, en, zh) for en, zh in d.notes)
        if d.kind == "service" and not parse_fields(d.text):
            out.append(
                FileFailure(
                    key,
                    f"{name}: kind: service, but no section heading names a field"
                    f" ({'、'.join(h[0] for h in FIELD_HEADINGS.values())} …)",
                    f"{name}：标为办事指南（kind: service），但没有任何可识别的栏目标题"
                    f"（如 {'、'.join(h[0] for h in FIELD_HEADINGS.values())}）",
                )
            )
        if d.validity_phrase:
            out.append(
                FileFailure(
                    key,
                    f"{name}: term read from the text ({d.validity_phrase}): valid until"
                    f" {d.valid_until or '?'}; confirm it in /admin",
                    f"{name}：从正文识别到有效期（{d.validity_phrase}），有效期至"
                    f"{d.valid_until or '未知'}，请在后台确认",
                )
            )
    return out


class Ingestor:
    """Brings an index in line with a set of files, re-embedding only what changed."""

    def __init__(
        self,
        index: KnowledgeIndex,
        policy: ChunkingPolicy | None = None,
        progress: bool = True,
        defaults: Callable[[Path], dict[str, str]] | None = None,
        on_ocr_page: Callable[[str, int, int, int], None] | None = None,
    ) -> None:
        self.index = index
        self.policy = policy or ChunkingPolicy()
        self.progress = progress
        # Per file: document fields (category, department, contact) to fill in where the
        # file itself sets none — what staff typed when they uploaded a .docx or .pdf.
        self.defaults = defaults
        # After each page read by OCR: (file name, page, pages done, pages of the file).
        self.on_ocr_page = on_ocr_page

    def run(self, paths: list[Path]) -> IngestReport:
        started = time.perf_counter()
        report = IngestReport()
        # OCR first, without the lock: minutes a scan, while every other writer on every
        # replica would wait. What it reads goes to the OCR cache, where the parse below finds it.
        signature = f"{PIPELINE_VERSION}:{self.policy}"
        known = self.index.records.file_fingerprints()
        self.warm_ocr(
            [
                (path, root)
                for path, root in discover(paths)
                if path.suffix.lower() in _SCANNABLE
                and known.get(str(path)) != self._fingerprint(path, signature)
            ],
            report,
        )
        with self.index.write_lock:
            return self._run(paths, report, started)

    def warm_ocr(self, files: list[tuple[Path, Path]], report: IngestReport | None = None) -> None:
        """Read the scanned pages of these PDFs and images by OCR into the OCR cache (with the
        progress bar and the progress callback), holding no lock; failures are left for the
        parse that follows to report."""
        report = report if report is not None else IngestReport()
        context = self._ocr(report, warm=True)
        if context is None:
            return
        for path, root in files:
            if path.suffix.lower() not in _SCANNABLE:
                continue
            try:
                parse_file(path, root, self.index.settings.max_file_chars, context)
            except Exception:  # noqa: BLE001 — the parse under the lock says why
                continue

    def _fingerprint(self, path: Path, signature: str) -> str:
        """What makes a file unchanged: its bytes, the pipeline, the defaults it is given."""
        extra = self.defaults(path) if self.defaults else {}
        return f"{sha256_file(path)}:{signature}" + (f":{sorted(extra.items())}" if extra else "")

    def _run(self, paths: list[Path], report: IngestReport, started: float) -> IngestReport:
        records, vectors = self.index.records, self.index.vectors
        if not self.index.embedder_matches():
            log.warning("embedder changed to %s: re-embedding everything", self.index.embedder.name)
            records.clear()
            vectors.reset()
        records.set_meta("embedder", self.index.embedder.name)
        # A file is unchanged when its bytes *and* what the pipeline makes of them are.
        signature = f"{PIPELINE_VERSION}:{self.policy}"

        files = discover(paths)
        known = records.file_fingerprints()
        todo: list[_Parsed] = []
        claimed: dict[str, str] = {}
        ocr = self._ocr(report, warm=False)
        for path, root in tqdm(
            files, desc="解析 parse", unit="file", disable=not self.progress or not files
        ):
            parsed = self._parse(str(path), path, root, signature, known, claimed, report, ocr)
            if parsed is not None:
                todo.append(parsed)

        self._embed_and_swap(todo, report)
        self._remove_missing(paths, files, known, report)
        report.documents, report.chunks = records.counts()
        report.seconds = time.perf_counter() - started
        return report

    def _parse(
        self,
        key: str,
        path: Path,
        root: Path,
        signature: str,
        known: dict[str, str],
        claimed: dict[str, str],
        report: IngestReport,
        ocr: OcrContext | None = None,
    ) -> _Parsed | None:
        """Parse one file into what is to be swapped in under `key` (None: unchanged, or
        failed — counted in the report)."""
        try:
            extra = self.defaults(path) if self.defaults else {}
            fingerprint = self._fingerprint(path, signature)
            if known.get(key) == fingerprint:
                report.unchanged.append(key)
                return None
            parsed = parse_file(path, root, self.index.settings.max_file_chars, ocr)
            docs = [_filled(d, extra) for d in parsed]
            if key != str(path):  # a file that stands for a key (an upload): cite the key
                docs = [dataclasses.replace(d, source_path=key) for d in docs]
            self._check_ids(key, docs, claimed)
            chunks = [c for d in docs for c in chunk_document(d, self.policy)]
            self._check_chunks(path, len(chunks))
            report.warnings.extend(_warnings(key, docs))
            (report.changed if key in known else report.added).append(key)
            return _Parsed(key, fingerprint, docs, chunks)
        except IngestError as exc:
            report.failed.append(FileFailure(key, exc.message, exc.message_zh))
        except OSError as exc:
            report.failed.append(
                FileFailure(
                    key,
                    f"{path.name}: cannot read ({exc.strerror or exc})",
                    f"{path.name}：无法读取文件",
                )
            )
        except Exception as exc:  # a third-party parser choking on a malformed file
            report.failed.append(
                FileFailure(
                    key,
                    f"{path.name}: cannot be parsed ({type(exc).__name__}: {exc})",
                    f"{path.name}：文件已损坏或格式不正确，无法解析",
                )
            )
        return None

    def _ocr(self, report: IngestReport, warm: bool) -> OcrContext | None:
        """How scanned pages are read (None when BOT_OCR_MAX_PAGES is 0). `warm`: the pass
        before the lock, which does the OCR, shows progress and counts pages read and pages
        found in the cache; the parse under the lock then finds them cached (it counts only
        pages it had to read itself, had the warm pass missed them)."""
        limit = self.index.settings.ocr_max_pages
        if limit <= 0:
            return None
        pages, cached = report.ocr_pages, report.ocr_cached

        def count(name: str, page: int, done: int, total: int) -> None:
            report.ocr_pages = pages + context.recognised
            if warm:
                report.ocr_cached = cached + context.cached
                if self.on_ocr_page:
                    self.on_ocr_page(name, page, done, total)

        context = OcrContext(
            max_pages=limit,
            cache=self.index.records,
            progress=self.progress and warm,
            on_page=count,
        )
        return context

    def put_file(self, key: str, path: Path) -> IngestReport:
        """Index one file under `key` instead of its path (an upload, whose bytes live in the
        records database and are written to a temporary file only to be parsed), with the
        checks and crash safety of `run`. The same bytes and defaults again are a no-op."""
        started = time.perf_counter()
        report = IngestReport()
        self.warm_ocr([(path, path.parent)], report)  # without the lock (see `run`)
        with self.index.write_lock:
            records = self.index.records
            signature = f"{PIPELINE_VERSION}:{self.policy}"
            known = records.file_fingerprints()
            parsed = self._parse(
                key, path, path.parent, signature, known, {}, report, self._ocr(report, False)
            )
            if parsed is not None:
                self._embed_and_swap([parsed], report)
            self._tidy_vectors()
            report.documents, report.chunks = records.counts()
            report.seconds = time.perf_counter() - started
            return report

    def remove_key(self, key: str) -> IngestReport:
        """Take what was indexed under `key` out of the index."""
        return self.put(key, [])

    def put(self, key: str, documents: list[Document]) -> IngestReport:
        """Index documents that come from no file (staff-edited FAQ entries) under one key.

        The key stands where a file path would; the same documents again are a no-op, an
        empty list takes the key out of the index. Crash-safe like a file: vectors first,
        then one records swap.
        """
        with self.index.write_lock:
            return self._put(key, documents)

    def _put(self, key: str, documents: list[Document]) -> IngestReport:
        started = time.perf_counter()
        report = IngestReport()
        records = self.index.records
        digest = hashlib.sha256(
            repr(sorted(dataclasses.astuple(d) for d in documents)).encode()
        ).hexdigest()
        fingerprint = f"{digest}:{PIPELINE_VERSION}:{self.policy}"
        known = records.file_fingerprints().get(key)
        if not documents:
            if known is not None:
                records.remove_files([key])
                report.removed.append(key)
        elif known == fingerprint:
            report.unchanged.append(key)
        else:
            self._check_ids(key, documents, {})
            chunks = [c for d in documents for c in chunk_document(d, self.policy)]
            self._embed_and_swap([_Parsed(key, fingerprint, documents, chunks)], report)
            (report.changed if known else report.added).append(key)
        self._tidy_vectors()
        report.documents, report.chunks = records.counts()
        report.seconds = time.perf_counter() - started
        return report

    def _check_chunks(self, path: Path, n: int) -> None:
        """Every passage costs an embedding: a file may make at most BOT_MAX_FILE_CHUNKS."""
        limit = self.index.settings.max_file_chunks
        if n > limit:
            raise IngestError(
                f"{path.name}: cut into {n:,} passages, more than {limit:,} per file"
                " (BOT_MAX_FILE_CHUNKS): split it into smaller files",
                message_zh=f"{path.name}：切分后有 {n:,} 个段落，超过每个文件 {limit:,} 段的上限"
                "（见设置 BOT_MAX_FILE_CHUNKS），请拆分成较小的文件后再上传",
            )

    def _check_ids(self, key: str, docs: list[Document], claimed: dict[str, str]) -> None:
        owners = self.index.records.owner_of(d.doc_id for d in docs)
        for d in docs:
            if d.doc_id.startswith(RESERVED_ID_PREFIX) and key != FAQ_ENTRIES_KEY:
                raise IngestError(
                    f"{Path(key).name}: document ids starting with {RESERVED_ID_PREFIX!r} are"
                    f" reserved for staff FAQ entries ({d.doc_id!r})",
                    message_zh=f"{Path(key).name}：以 {RESERVED_ID_PREFIX} 开头的文档编号留给后台问答使用（{d.doc_id}）",
                )
            owner = claimed.get(d.doc_id) or owners.get(d.doc_id)
            if owner and owner != key:
                # Only the file name: a message may reach a client, a server path may not.
                raise IngestError(
                    f"{Path(key).name}: document id {d.doc_id!r} is already used by {Path(owner).name}",
                    message_zh=f"{Path(key).name}：文档编号 {d.doc_id} 已被 {Path(owner).name} 使用",
                )
        for d in docs:
            claimed[d.doc_id] = key

    def _embed_and_swap(self, todo: list[_Parsed], report: IngestReport) -> None:
        """Embed new chunks in full batches across files; swap each file in once its vectors exist."""
        vectors = self.index.vectors
        all_ids = [c.chunk_id for p in todo for c in p.chunks]
        have = vectors.existing(all_ids) if all_ids else set()
        queue: list[tuple[Chunk, Document]] = []
        waiting: dict[int, int] = {}  # todo index -> chunks still to embed
        owner: dict[str, int] = {}
        for i, parsed in enumerate(todo):
            docs = {d.doc_id: d for d in parsed.documents}
            new = [c for c in parsed.chunks if c.chunk_id not in have and c.chunk_id not in owner]
            for c in new:
                owner[c.chunk_id] = i
                queue.append((c, docs[c.doc_id]))
            waiting[i] = len(new)
        bar = tqdm(
            total=len(queue),
            desc="向量 embed",
            unit="chunk",
            disable=not self.progress or not queue,
        )
        try:
            # Vectors first, then the records swap: a crash in between leaves the old
            # version live and only unreferenced vectors behind (removed on the next run).
            self._swap_ready(todo, waiting)
            # The same text embedded before (a renamed or moved document) reuses its vector.
            cached = vectors.vectors_by_text_hash([text_hash(c.context_text) for c, _ in queue])
            for start in range(0, len(queue), EMBED_BATCH):
                batch = queue[start : start + EMBED_BATCH]
                texts = [c.context_text for c, _ in batch]
                hashes = [text_hash(t) for t in texts]
                missing = [i for i, h in enumerate(hashes) if h not in cached]
                fresh = self.index.embedder.embed_passages([texts[i] for i in missing])
                for i, vec in zip(missing, fresh, strict=True):
                    cached[hashes[i]] = vec
                vectors.add(
                    [c.chunk_id for c, _ in batch],
                    np.stack([cached[h] for h in hashes]),
                    [_vector_metadata(c, d) for c, d in batch],
                    texts,
                )
                report.embedded += len(missing)
                report.reused += len(batch) - len(missing)
                bar.update(len(batch))
                for c, _ in batch:
                    waiting[owner[c.chunk_id]] -= 1
                self._swap_ready(todo, waiting)
        finally:
            bar.close()

    def _swap_ready(self, todo: list[_Parsed], waiting: dict[int, int]) -> None:
        for i in [i for i, left in waiting.items() if left == 0]:
            parsed = todo[i]
            self.index.records.replace_file(
                parsed.key, parsed.fingerprint, parsed.documents, parsed.chunks
            )
            del waiting[i]

    def _remove_missing(
        self,
        paths: list[Path],
        files: list[tuple[Path, Path]],
        known: dict[str, str],
        report: IngestReport,
    ) -> None:
        present = {str(p) for p, _ in files}
        roots = [p.resolve() for p in paths]
        gone = [
            k
            for k in known
            if k not in present and any(Path(k) == r or Path(k).is_relative_to(r) for r in roots)
        ]
        if gone:
            self.index.records.remove_files(gone)
            report.removed.extend(gone)
        self._tidy_vectors()

    def _tidy_vectors(self) -> None:
        """Remove vectors no live chunk refers to (left by a replaced file or a crash).
        Safe only under the index's writer lock, which every writer on every replica takes:
        another writer's new vectors would otherwise be removed before its records swap."""
        try:
            stale = self.index.vectors.all_ids() - self.index.records.chunk_ids()
            if stale:
                self.index.vectors.delete(sorted(stale))
        except VectorsUnavailableError as exc:  # what is live is in place: tidy up next time
            log.warning("unreferenced vectors left for the next ingest: %s", exc)


def ingest_paths(index: KnowledgeIndex, paths: list[Path], progress: bool = True) -> IngestReport:
    """Convenience wrapper used by the CLI and tests."""
    return Ingestor(index, progress=progress).run(paths)
