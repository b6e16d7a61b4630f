"""Staff document management: upload (new or replacing), list, delete, download originals."""

from __future__ import annotations

import json
import mimetypes
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from bot.errors import BotError
from ingest.faqbook import KEY as FAQ_KEY
from ingest.library import DocumentLibrary, Uploaded
from web.deps import AssistantDep
from web.schemas import ErrorResponse, RollbackRequest
from web.security import Editor

router = APIRouter(prefix="/api/admin/documents", tags=["admin"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (401, 403, 404, 409, 413, 415, 422)
}


def _library(request: Request) -> DocumentLibrary:
    return request.app.state.library  # type: ignore[no-any-return]


def _meta(
    category: str | None, department: str | None, contact: str | None
) -> dict[str, str] | None:
    given = {"category": category, "department": department, "contact": contact}
    meta = {k: v for k, v in given.items() if v is not None}
    return meta or None


_MetaField = Annotated[str | None, Form(max_length=200)]


def _uploaded(done: Uploaded) -> dict[str, Any]:
    return {
        "name": done.name,
        "version": done.version,
        "sha256": done.sha256,
        "doc_ids": done.doc_ids,
    }


@router.post("", status_code=201, responses=_ERRORS)
async def upload(
    files: list[UploadFile],
    request: Request,
    user: Editor,
    category: _MetaField = None,
    department: _MetaField = None,
    contact: _MetaField = None,
) -> dict[str, Any]:
    """Upload one or many files (one already in service: 409, replace it by id instead).

    Category, department and contact, when given, fill those fields for documents whose
    file does not set them (.docx, .pdf). Each is stored (with version and checksum) before it is indexed and is live for chat
    when this returns. A file that cannot be used is rejected with the reason, and its
    previous version stays in service.
    """
    library = _library(request)
    uploaded, rejected = [], []
    first_error: BotError | None = None
    with library.progress.batch(len(files)) as advance:  # files done of total: /metrics
        for file in files:
            data = await file.read(library.max_bytes + 1)
            try:
                done = await run_in_threadpool(
                    library.upload,
                    file.filename or "",
                    data,
                    user.username,
                    _meta(category, department, contact),
                )
            except BotError as exc:
                first_error = first_error or exc
                rejected.append(
                    {
                        "name": file.filename,
                        "code": exc.code,
                        "message": exc.message,
                        "message_zh": exc.message_zh,
                    }
                )
                continue
            finally:
                advance()
            uploaded.append(_uploaded(done))
    if first_error is not None and not uploaded:
        raise first_error
    return {"uploaded": uploaded, "rejected": rejected}


@router.get("", responses=_ERRORS)
def list_documents(
    request: Request,
    assistant: AssistantDep,
    user: Editor,
    category: str | None = None,
    department: str | None = None,
    updated_since: Annotated[
        str | None,
        Query(
            pattern=r"^\d{4}-\d{2}-\d{2}$",
            description="Only documents updated on or after this date.",
        ),
    ] = None,
    q: Annotated[
        str | None,
        Query(
            max_length=100,
            description="Only documents whose title, id, file, category or department holds this (any case).",
        ),
    ] = None,
    group: Annotated[
        Literal["file"] | None,
        Query(
            description="`file`: an FAQ table (a .csv/.xlsx, or the staff FAQ) is one row, with `rows` and `doc_ids`."
        ),
    ] = None,
    limit: Annotated[
        int | None,
        Query(
            ge=1,
            le=500,
            description="A page of this many; the answer is then `{documents, total, offset, limit, categories, departments}`.",
        ),
    ] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Any:
    """Every document in the index, with where it came from (filters: category, department,
    updated, text); a plain list unless `limit` asks for a page.

    A plain function, so FastAPI runs it in a worker thread: it must not hold up the event
    loop. It never waits for an upload being indexed (the library's change lock is not a
    reader's).
    """
    library = _library(request)
    out: list[dict[str, Any]] = []
    sources: list[str] = []
    docs = assistant.index.records.documents()
    for doc in docs:
        if category and doc.category != category or department and doc.department != department:
            continue
        uploaded = library.is_uploaded(doc)
        versions = library.versions_of(Path(doc.source_path).name) if uploaded else []
        live = [v for v in versions if v["status"] == "live"]
        # A document without an `updated` date of its own was updated when it was uploaded.
        updated = doc.updated or (
            datetime.fromtimestamp(float(str(live[-1]["at"])), UTC).date().isoformat()
            if live
            else ""
        )
        if updated_since and updated[:10] < updated_since:
            continue
        origin = "upload" if uploaded else "faq" if doc.source_path == FAQ_KEY else "deployed"
        out.append(
            {
                "doc_id": doc.doc_id,
                "title": doc.title,
                "category": doc.category,
                "department": doc.department,
                "contact": doc.contact,
                "updated": updated,
                "kind": doc.kind,
                # a government document's 文号, issuer and date of issue ("" when not stated)
                "doc_number": doc.doc_number,
                "issuer": doc.issuer,
                "issued": doc.issued,
                "origin": origin,
                # One file (an FAQ table) can hold many documents: replace and delete act on it.
                "file": Path(doc.source_path).name if uploaded else "",
                "versions": versions,
                # read by OCR: its pages, each with the engine's mean confidence (0–1)
                "ocr": doc.ocr,
                "ocr_pages": _ocr_pages(doc.ocr_pages),
            }
        )
        sources.append(doc.source_path)
    rows = _grouped(out, sources) if group == "file" else out
    if q and q.strip():
        needle = q.strip().casefold()
        rows = [r for r in rows if needle in _searchable(r)]
    if limit is None:
        return rows
    return {
        "documents": rows[offset : offset + limit],
        "total": len(rows),
        "offset": offset,
        "limit": limit,
        # every choice for the filters, not only those of this page
        "categories": sorted({d.category for d in docs if d.category}),
        "departments": sorted({d.department for d in docs if d.department}),
    }


def _ocr_pages(stored: str) -> list[dict[str, float]]:
    try:
        pairs = json.loads(stored) if stored else []
        return [{"page": int(n), "confidence": float(c)} for n, c in pairs]
    except (ValueError, TypeError):
        return []


def _grouped(rows: list[dict[str, Any]], sources: list[str]) -> list[dict[str, Any]]:
    """The FAQ entries of one source (a table, the staff FAQ) as one row, where the first was."""
    out: list[dict[str, Any]] = []
    tables: dict[str, dict[str, Any]] = {}
    for row, source in zip(rows, sources, strict=True):
        if row["kind"] != "faq":
            out.append({**row, "rows": 1, "doc_ids": [row["doc_id"]]})
            continue
        table = tables.get(source)
        if table is None:
            table = {**row, "rows": 0, "doc_ids": [], "questions": []}
            if row["origin"] == "faq":
                table["title"] = "后台维护的常见问答"
            else:
                table["title"] = row["file"] or Path(source).name
                table["file"] = Path(source).name
            tables[source] = table
            out.append(table)
        table["rows"] += 1
        table["doc_ids"].append(row["doc_id"])
        table["questions"].append(row["title"])
        table["updated"] = max(table["updated"], row["updated"])
    for table in tables.values():
        if table["category"] and any(
            r["category"] != table["category"] for r in rows if r["doc_id"] in table["doc_ids"]
        ):
            table["category"] = "（多个分类）"
    return out


def _searchable(row: dict[str, Any]) -> str:
    parts = [row["title"], row["doc_id"], row["file"], row["category"], row["department"]]
    parts.append(row.get("doc_number", ""))
    return "\n".join([*parts, *row.get("questions", [])]).casefold()


@router.get("/progress", responses=_ERRORS)
def upload_progress(request: Request, user: Editor) -> dict[str, Any]:
    """How far the uploads being indexed by this server process are: files, and the pages of
    the scan being read by OCR (`ocr` null when none is). The admin page polls it while an
    upload is processed."""
    progress = _library(request).progress
    return {
        "files_total": progress.total,
        "files_done": progress.done,
        "ocr": {
            "file": progress.ocr_file,
            "done": progress.ocr_done,
            "total": progress.ocr_total,
        }
        if progress.ocr_total
        else None,
    }


@router.get("/deleted", responses=_ERRORS)
async def deleted_documents(request: Request, user: Editor) -> list[dict[str, object]]:
    """Uploaded files taken out of service; their versions are kept and can be restored."""
    return await run_in_threadpool(_library(request).deleted)


@router.post("/deleted/{name}/restore", responses=_ERRORS)
async def restore_document(name: str, request: Request, user: Editor) -> dict[str, Any]:
    """Put a deleted file's last version back in service (recorded as a new version)."""
    done = await run_in_threadpool(_library(request).restore, name, user.username)
    return _uploaded(done)


@router.delete("/{doc_id:path}", responses=_ERRORS)
async def delete_document(doc_id: str, request: Request, user: Editor) -> dict[str, str]:
    """Take an uploaded document out of service (its stored versions are kept)."""
    name = await run_in_threadpool(_library(request).delete, doc_id, user.username)
    return {"deleted": name}


@router.put("/{doc_id:path}", responses=_ERRORS)
async def replace_document(
    doc_id: str,
    request: Request,
    user: Editor,
    file: UploadFile,
    base_version: Annotated[
        int, Form(ge=1, le=2**63 - 1, description="The version the editor started from.")
    ],
    category: _MetaField = None,
    department: _MetaField = None,
    contact: _MetaField = None,
) -> dict[str, Any]:
    """Replace an uploaded document with a new version; 409 if it changed since `base_version`.

    Category, department and contact, when given, replace what was said at upload.
    """
    library = _library(request)
    data = await file.read(library.max_bytes + 1)
    with library.progress.batch(1):
        done = await run_in_threadpool(
            library.replace,
            doc_id,
            data,
            user.username,
            base_version,
            _meta(category, department, contact),
        )
    return _uploaded(done)


@router.post("/{doc_id:path}/rollback", responses=_ERRORS)
async def rollback_document(
    doc_id: str, body: RollbackRequest, request: Request, user: Editor
) -> dict[str, Any]:
    """Make an earlier version live again (recorded as a new version)."""
    done = await run_in_threadpool(_library(request).rollback, doc_id, body.version, user.username)
    return _uploaded(done)


@router.get(
    "/{doc_id:path}/original",
    response_class=Response,
    responses={**_ERRORS, 200: {"content": {"application/octet-stream": {}}}},
)
async def original(doc_id: str, request: Request, user: Editor) -> Response:
    """Download the live original of an uploaded document (from the records database, so
    any replica serves it)."""
    name, data = await run_in_threadpool(_library(request).original, doc_id)
    media = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return Response(
        data,
        media_type=media,
        headers={"Content-Disposition": f"attachment; filename*=utf-8''{quote(name)}"},
    )
