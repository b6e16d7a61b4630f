"""A data directory of the release before issue 14 — uploaded originals as files under
`library/`, their documents indexed under those paths — is taken over in place: the bytes
move into the records database, the index entries are re-keyed without re-embedding, and
downloads and rollbacks work from the database."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import sqlalchemy as sa

from bot.audit import AuditLog
from bot.config import Settings
from bot.embedding import Embedder
from bot.index import KnowledgeIndex
from bot.records.models import library_originals, library_versions
from ingest.library import DocumentLibrary, library_key
from ingest.pipeline import Ingestor

V1 = """---
id: dock-subsidy
title: 江岸区码头改造补贴
category: 产业扶持
department: 区交通局
---
## 补贴标准
码头改造按投资额的百分之五给予补贴。
"""
V2 = V1.replace("百分之五", "百分之八")


class _Counting:
    """The embedder, counting the passages it embeds."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.passages = 0

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def embed_passages(self, texts: list[str]) -> object:
        self.passages += len(texts)
        return self.inner.embed_passages(texts)


def _legacy_layout(settings: Settings, index: KnowledgeIndex) -> Path:
    """What the previous release left: versions on disk, the live one in current/, indexed
    by its path, and the version rows."""
    library = settings.data_dir / "library"
    rows = []
    for version, text, status in ((1, V1, "superseded"), (2, V2, "live")):
        data = text.encode()
        sha = hashlib.sha256(data).hexdigest()
        path = library / "versions" / "dock.md" / f"{version}-{sha[:12]}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        rows.append(
            {
                "name": "dock.md",
                "version": version,
                "sha256": sha,
                "size": len(data),
                "uploaded_by": "root",
                "at": time.time(),
                "status": status,
                "reason": "",
            }
        )
    current = library / "current" / "dock.md"
    current.parent.mkdir(parents=True)
    current.write_bytes(V2.encode())
    with index.database.transaction() as conn:
        conn.execute(sa.insert(library_versions), rows)
    Ingestor(index, progress=False).run([library / "current"])
    return current


def test_a_previous_release_library_is_taken_over_in_place(
    tmp_path: Path, embedder: Embedder
) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    counting = _Counting(embedder)
    index = KnowledgeIndex.open(settings, counting)  # type: ignore[arg-type]
    current = _legacy_layout(settings, index)
    assert str(current.resolve()) in index.records.file_fingerprints()
    embedded = counting.passages
    changes: list[int] = []

    library = DocumentLibrary(
        settings.data_dir, index, lambda: changes.append(1), AuditLog(index.database)
    )

    keys = set(index.records.file_fingerprints())
    assert library_key("dock.md") in keys and str(current.resolve()) not in keys
    assert counting.passages == embedded  # re-keyed: the same chunks, no embedding
    assert changes  # the running assistant reloads
    with index.database.read() as conn:
        stored = {
            r.version: r.content
            for r in conn.execute(
                sa.select(library_originals.c.version, library_originals.c.content)
            )
        }
    assert stored == {1: V1.encode(), 2: V2.encode()}
    doc = next(d for d in index.records.documents() if d.doc_id == "dock-subsidy")
    assert library.is_uploaded(doc) and doc.source_path == "library/dock.md"
    assert library.original("dock-subsidy") == ("dock.md", V2.encode())

    # the old files are no longer needed: everything works from the database
    for path in (settings.data_dir / "library").rglob("*.md"):
        if path.is_dir():
            continue
        path.unlink()
    done = library.rollback("dock-subsidy", 1, "root")
    assert done.version == 3 and library.original("dock-subsidy")[1] == V1.encode()
    assert [v["status"] for v in library.versions_of("dock.md")] == [
        "superseded",
        "superseded",
        "live",
    ]
    # started again: nothing more to take over, nothing changes
    changes.clear()
    DocumentLibrary(
        settings.data_dir, index, lambda: changes.append(1), AuditLog(index.database)
    )
    assert not changes
    index.close()
