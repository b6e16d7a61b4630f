"""Incremental ingest against a temp-dir index with the real embedder; the tests of the vectors' behaviour and crash safety run on the embedded Chroma directory and on a Chroma server
(`@both_vector_stores`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bot.assistant import Assistant
from bot.config import Settings
from bot.embedding import Embedder
from bot.index import KnowledgeIndex
from ingest.pipeline import Ingestor
from tests.conftest import ROOT, both_vector_stores
from tests.fixtures_files import write_csv, write_docx, write_markdown

APARTMENT = "## 申请条件\n在江岸区全职工作的博士可以申请人才公寓，租金为市场价的一半。\n## 办理流程\n登录江岸人才网提交申请，十个工作日内答复。"
STARTUP = "## 办理时限\n企业开办全程网上办理，一个工作日内办结，免费刻制公章。"


def _ingest(settings: Settings, embedder: Embedder, *paths: Path) -> tuple[object, KnowledgeIndex]:
    index = KnowledgeIndex.open(settings, embedder)
    report = Ingestor(index, progress=False).run(list(paths))
    return report, index


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "kb"
    write_markdown(
        root / "talent" / "apartment.md", "talent-apartment", "人才公寓申请办法", APARTMENT
    )
    write_markdown(
        root / "startup.md", "business-startup", "企业开办指南", STARTUP, category="审批服务"
    )
    write_csv(
        root / "faq.csv",
        [("孵化器在哪里？", "岱家山科创城提供众创空间、孵化器和加速器。", "孵化载体")],
    )
    return root


@both_vector_stores
def test_second_run_is_a_no_op(settings: Settings, embedder: Embedder, corpus: Path) -> None:
    report, index = _ingest(settings, embedder, corpus)
    assert report.ok and len(report.added) == 3 and report.embedded > 0  # type: ignore[attr-defined]
    docs, chunks = index.records.counts()
    assert docs == 3 and index.vectors.count() == chunks
    again = Ingestor(index, progress=False).run([corpus])
    assert again.embedded == 0 and len(again.unchanged) == 3 and not again.added
    assert index.records.counts() == (docs, chunks)
    index.close()


@both_vector_stores
def test_changed_file_replaces_only_its_chunks(
    settings: Settings, embedder: Embedder, corpus: Path
) -> None:
    _, index = _ingest(settings, embedder, corpus)
    before = index.vectors.all_ids()
    write_markdown(
        corpus / "startup.md",
        "business-startup",
        "企业开办指南",
        STARTUP + "\n## 收费\n不收取任何费用。",
        category="审批服务",
    )
    report = Ingestor(index, progress=False).run([corpus])
    assert [Path(p).name for p in report.changed] == ["startup.md"]
    # the unchanged section keeps its id; only the new section is embedded
    assert report.embedded == 1
    after = index.vectors.all_ids()
    assert after == index.records.chunk_ids() and len(after) == len(before) + 1
    bot = Assistant(settings, embedder=embedder)
    answer = bot.ask("企业开办收费吗")
    assert answer.answered and answer.sources[0].doc_id == "business-startup"
    assert "不收取任何费用" in answer.text
    bot.close()
    index.close()


@both_vector_stores
def test_removed_file_leaves_the_index(
    settings: Settings, embedder: Embedder, corpus: Path
) -> None:
    _, index = _ingest(settings, embedder, corpus)
    (corpus / "talent" / "apartment.md").unlink()
    report = Ingestor(index, progress=False).run([corpus])
    assert [Path(p).name for p in report.removed] == ["apartment.md"]
    assert "talent-apartment" not in {d.doc_id for d in index.records.documents()}
    assert index.vectors.all_ids() == index.records.chunk_ids()
    index.close()


def test_ingesting_another_folder_keeps_the_first(
    settings: Settings, embedder: Embedder, corpus: Path, tmp_path: Path
) -> None:
    _, index = _ingest(settings, embedder, corpus)
    other = tmp_path / "other"
    other.mkdir()
    write_docx(other / "loan.docx", "贷款贴息指南", {"标准": "贴息比例为百分之五十。"})
    report = Ingestor(index, progress=False).run([other])
    assert report.ok and not report.removed
    assert {d.doc_id for d in index.records.documents()} >= {
        "talent-apartment",
        "business-startup",
        "loan",
    }
    index.close()


def test_corrupt_file_is_reported_and_others_indexed(
    settings: Settings, embedder: Embedder, corpus: Path
) -> None:
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.7 truncated")
    report, index = _ingest(settings, embedder, corpus)
    assert [Path(f.path).name for f in report.failed] == ["broken.pdf"]  # type: ignore[attr-defined]
    assert "broken.pdf" in report.failed[0].reason  # type: ignore[attr-defined]
    assert index.records.counts()[0] == 3
    index.close()


def test_a_file_that_breaks_keeps_its_previous_version(
    settings: Settings, embedder: Embedder, corpus: Path
) -> None:
    _, index = _ingest(settings, embedder, corpus)
    (corpus / "faq.csv").write_text("foo,bar\n1,2\n", encoding="utf-8")
    report = Ingestor(index, progress=False).run([corpus])
    assert len(report.failed) == 1
    assert "faq#1" in {d.doc_id for d in index.records.documents()}
    index.close()


def test_duplicate_document_id_is_refused(
    settings: Settings, embedder: Embedder, corpus: Path
) -> None:
    write_markdown(corpus / "copy.md", "business-startup", "重复", "内容。")
    report, index = _ingest(settings, embedder, corpus)
    assert len(report.failed) == 1 and "business-startup" in report.failed[0].reason  # type: ignore[attr-defined]
    index.close()


class _InterruptingEmbedder(Embedder):
    """The real embedder, but the process is 'killed' (KeyboardInterrupt) after N batches."""

    def __init__(self, inner: Embedder, batches: int) -> None:
        self.inner, self.left = inner, batches
        self.name, self.dim = inner.name, inner.dim

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if self.left == 0:
            raise KeyboardInterrupt
        self.left -= 1
        return self.inner.embed_passages(texts)

    def embed_question(self, text: str) -> np.ndarray:
        return self.inner.embed_question(text)


@both_vector_stores
def test_interrupted_ingest_leaves_previous_index_usable(
    settings: Settings, embedder: Embedder, corpus: Path
) -> None:
    _, index = _ingest(settings, embedder, corpus)
    index.close()
    old = {d.doc_id: d.text for d in KnowledgeIndex.open(settings, embedder).records.documents()}
    # change every file, then die after the first embedding batch
    for i in range(40):
        write_markdown(
            corpus / f"bulk{i}.md", f"bulk-{i}", f"批量文件{i}", f"## 内容\n第{i}号通知的内容。" * 5
        )
    write_markdown(
        corpus / "startup.md",
        "business-startup",
        "企业开办指南",
        STARTUP.replace("一个工作日", "半个工作日"),
        category="审批服务",
    )
    index = KnowledgeIndex.open(settings, _InterruptingEmbedder(embedder, batches=1))
    with pytest.raises(KeyboardInterrupt):
        Ingestor(index, progress=False).run([corpus])
    index.close()
    # every live chunk has its vector; documents are either wholly old or wholly new
    index = KnowledgeIndex.open(settings, embedder)
    live = index.records.chunk_ids()
    assert live <= index.vectors.all_ids()
    docs = {d.doc_id: d.text for d in index.records.documents()}
    assert docs["talent-apartment"] == old["talent-apartment"]
    bot = Assistant(settings, embedder=embedder)
    assert bot.ask("博士能申请人才公寓吗").sources[0].doc_id == "talent-apartment"
    bot.close()
    # and the next run completes the job
    report = Ingestor(index, progress=False).run([corpus])
    assert report.ok and index.records.counts()[0] == 43
    assert index.vectors.all_ids() == index.records.chunk_ids()
    index.close()


def _cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ingest", *args, "--data-dir", str(data_dir), "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cli_exit_codes(tmp_path: Path, corpus: Path) -> None:
    data = tmp_path / "cli-data"
    ok = _cli(str(corpus), data_dir=data)
    assert ok.returncode == 0, ok.stderr
    assert "3 added" in ok.stdout and "3 documents" in ok.stdout
    (corpus / "bad.xlsx").write_bytes(b"garbage")
    partial = _cli(str(corpus), data_dir=data)
    assert partial.returncode == 1
    assert "bad.xlsx" in partial.stderr and "3 unchanged" in partial.stdout
    missing = _cli(str(tmp_path / "nope"), data_dir=data)
    assert missing.returncode == 2 and "nope" in missing.stderr
    usage = subprocess.run(
        [sys.executable, "-m", "ingest"], cwd=ROOT, capture_output=True, text=True
    )
    assert usage.returncode == 2


@both_vector_stores
def test_a_new_chunking_policy_reparses_but_reuses_vectors(
    settings: Settings, embedder: Embedder, corpus: Path
) -> None:
    from ingest.chunking import ChunkingPolicy

    _, index = _ingest(settings, embedder, corpus)
    before = index.records.counts()
    # a policy change that leaves every passage as it was: all files re-parsed, nothing re-embedded
    same = Ingestor(index, policy=ChunkingPolicy(max_chars=401), progress=False).run([corpus])
    assert len(same.changed) == 3 and same.embedded == 0
    assert index.records.counts() == before
    # one that really changes the passages: they are re-chunked and embedded
    small = Ingestor(
        index, policy=ChunkingPolicy(max_chars=12, overlap_chars=0, min_chars=1), progress=False
    ).run([corpus])
    assert len(small.changed) == 3 and small.embedded > 0
    assert index.records.counts()[1] > before[1]
    assert index.vectors.all_ids() == index.records.chunk_ids()
    again = Ingestor(
        index, policy=ChunkingPolicy(max_chars=12, overlap_chars=0, min_chars=1), progress=False
    ).run([corpus])
    assert again.embedded == 0 and len(again.unchanged) == 3
    index.close()


def test_pipeline_change_is_tracked_per_file_across_roots(
    settings: Settings, embedder: Embedder, corpus: Path, tmp_path: Path
) -> None:
    from ingest.chunking import ChunkingPolicy

    other = tmp_path / "other"
    write_markdown(other / "x.md", "other-x", "其他文件", "## 内容\n其他文件的内容。")
    _, index = _ingest(settings, embedder, corpus)
    new = ChunkingPolicy(max_chars=401)
    # the new pipeline touches only the other root …
    assert len(Ingestor(index, policy=new, progress=False).run([other]).added) == 1
    # … so the first root is still re-parsed when it is ingested with it
    report = Ingestor(index, policy=new, progress=False).run([corpus])
    assert len(report.changed) == 3 and report.embedded == 0
    index.close()


@both_vector_stores
def test_renamed_file_reuses_cached_vectors(
    settings: Settings, embedder: Embedder, corpus: Path
) -> None:
    _, index = _ingest(settings, embedder, corpus)
    old = corpus / "startup.md"
    text = old.read_text(encoding="utf-8").replace("id: business-startup", "id: company-setup")
    old.unlink()
    (corpus / "company-setup.md").write_text(text, encoding="utf-8")
    report = Ingestor(index, progress=False).run([corpus])
    assert len(report.added) == 1 and len(report.removed) == 1
    # new document id, so new chunk ids — but the same texts: nothing is embedded again
    assert report.embedded == 0 and report.reused == 1
    assert "company-setup" in {d.doc_id for d in index.records.documents()}
    assert index.vectors.all_ids() == index.records.chunk_ids()
    bot = Assistant(settings, embedder=embedder)
    assert bot.ask("企业开办多久办结").sources[0].doc_id == "company-setup"
    bot.close()
    index.close()


def test_records_from_an_earlier_version_are_migrated(
    settings: Settings, embedder: Embedder, corpus: Path
) -> None:
    import sqlite3

    _, index = _ingest(settings, embedder, corpus)
    before = index.records.counts()
    index.close()
    # the first releases' files table: a bare SHA-256 column instead of the fingerprint, and
    # no Alembic revision (they came before bot/records)
    db = sqlite3.connect(settings.records_path)
    db.executescript(
        "PRAGMA foreign_keys=OFF; DROP TABLE alembic_version;"
        "CREATE TABLE old_files (path TEXT PRIMARY KEY, sha256 TEXT NOT NULL,"
        " indexed_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);"
        "INSERT INTO old_files SELECT path, 'x', indexed_at FROM files;"
        "DROP TABLE files; ALTER TABLE old_files RENAME TO files;"
    )
    db.close()
    report, index = _ingest(settings, embedder, corpus)
    # nothing lost, every file re-parsed once, no passage embedded again
    assert report.ok and len(report.changed) == 3 and report.embedded == 0  # type: ignore[attr-defined]
    assert index.records.counts() == before
    assert len(Ingestor(index, progress=False).run([corpus]).unchanged) == 3
    index.close()
