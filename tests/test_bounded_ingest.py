"""Bounded ingest (issue 13, point 7): a file's text and passages are capped, a tiny .docx
holding huge XML is refused with the reason (the rest of its batch indexed), and the
documents list and chat answer while an upload is being indexed."""

from __future__ import annotations

import io
import re
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.config import Settings
from bot.embedding import Embedder
from bot.index import KnowledgeIndex
from ingest import parsers, pipeline
from ingest.pipeline import Ingestor
from tests.conftest import staff_client
from tests.fixtures_files import write_docx, write_markdown

PASSWORD = "s3cret-pass"
SENTENCE = "企业申请稳岗返还需要在每年规定的期限内通过网上办事大厅提交申请材料，逾期不予受理。"
NOTICE = """---
id: heping-subsidy
title: 和平街道小微企业房租补贴
---
## 补贴标准
和平街道的小微企业可以申请房租补贴，每月补贴租金的三成，最长补贴十二个月。
"""


def bomb_docx(tmp_path: Path, paragraphs: int) -> bytes:
    """A real .docx (python-docx can open it) whose body is one paragraph repeated:
    a few KB zipped, hundreds of KB of XML."""
    template = write_docx(tmp_path / "template.docx", "稳岗返还申请须知", {"说明": SENTENCE})
    with zipfile.ZipFile(template) as z:
        parts = {i.filename: z.read(i.filename) for i in z.infolist()}
    xml = parts["word/document.xml"].decode()
    para = f"<w:p><w:r><w:t>{SENTENCE}</w:t></w:r></w:p>"
    parts["word/document.xml"] = xml.replace("<w:body>", "<w:body>" + para * paragraphs).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return out.getvalue()


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", admin_user="root", admin_password=PASSWORD)


@pytest.fixture()
def client(tmp_path: Path, settings: Settings, embedder: Embedder) -> Iterator[TestClient]:
    write_markdown(
        tmp_path / "kb" / "startup.md", "startup", "企业开办指南", "## 时限\n一个工作日办结。"
    )
    index = KnowledgeIndex.open(settings, embedder)
    Ingestor(index, progress=False).run([tmp_path / "kb"])
    index.close()
    yield from staff_client(settings, embedder, "root", PASSWORD)


def test_default_caps_leave_room_for_real_policies() -> None:
    """The longest of the 644 real files (knowledge/ and the ncp corpus) holds 16,867
    characters in 54 passages, the largest FAQ table 61 rows: the defaults are ≥ 6× that."""
    s = Settings()
    assert s.max_file_chars >= 6 * 16_867 and s.max_file_chunks >= 6 * 61


def test_docx_bomb_is_refused_with_the_reason_and_the_batch_goes_on(
    client: TestClient, tmp_path: Path
) -> None:
    data = bomb_docx(tmp_path, 5_000)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        xml = z.getinfo("word/document.xml").file_size
    assert xml > 700_000 and xml > 18 * len(data)  # a small zip (mostly the template), huge XML
    res = client.post(
        "/api/admin/documents",
        files=[
            ("files", ("bomb.docx", data, "application/octet-stream")),
            ("files", ("heping.md", NOTICE.encode(), "text/markdown")),
        ],
    )
    assert res.status_code == 201, res.text
    body = res.json()
    assert [u["name"] for u in body["uploaded"]] == ["heping.md"]
    (refused,) = body["rejected"]
    assert refused["name"] == "bomb.docx" and refused["code"] == "invalid_request"
    # Chinese and English, naming the setting an operator would change
    assert "BOT_MAX_FILE_CHUNKS" in refused["message"] and "passages" in refused["message"]
    assert "段" in refused["message_zh"] and "原版本继续使用" in refused["message_zh"]
    listed = client.get("/api/admin/documents").json()
    assert "heping-subsidy" in {d["doc_id"] for d in listed}
    assert not any(d["file"] == "bomb.docx" for d in listed)
    answer = client.post("/api/chat", json={"question": "和平街道房租补贴每月补多少？"}).json()
    assert answer["answered"] and "三成" in answer["answer"]


def test_cli_batch_skips_an_oversized_file_and_indexes_the_rest(
    tmp_path: Path, embedder: Embedder
) -> None:
    kb = tmp_path / "kb"
    write_markdown(kb / "ok.md", "ok", "企业开办指南", "## 时限\n一个工作日办结。")
    write_markdown(kb / "long.md", "long", "长文件", "## 正文\n" + SENTENCE * 40)  # 1,680 chars
    settings = Settings(data_dir=tmp_path / "data", max_file_chars=1_000)
    index = KnowledgeIndex.open(settings, embedder)
    try:
        report = Ingestor(index, progress=False).run([kb])
    finally:
        index.close()
    assert [Path(p).name for p in report.added] == ["ok.md"]
    (failed,) = report.failed
    assert Path(failed.path).name == "long.md"
    assert "BOT_MAX_FILE_CHARS" in failed.reason and "1,000" in failed.reason
    assert re.search(r"约 1,\d{3} 字", failed.reason_zh), failed.reason_zh


def test_docx_whose_xml_exceeds_the_text_budget_is_refused_before_it_is_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The zip directory says how big document.xml unpacks; past 64 bytes per allowed
    character the file is refused without decompressing it."""
    path = tmp_path / "bomb.docx"
    path.write_bytes(bomb_docx(tmp_path, 2_000))  # ≈ 300 KB of XML

    def no_parse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the XML was parsed")

    import docx

    monkeypatch.setattr(docx, "Document", no_parse)
    with pytest.raises(parsers.IngestError) as refused:
        parsers.parse_file(path, tmp_path, max_chars=2_000)
    assert "BOT_MAX_FILE_CHARS" in refused.value.message
    assert "超过 2,000 字" in refused.value.message_zh


def test_docx_stops_reading_past_the_text_cap(tmp_path: Path) -> None:
    path = tmp_path / "long.docx"
    path.write_bytes(bomb_docx(tmp_path, 400))  # 16,800 chars in ≈ 60 KB of XML
    assert len(parsers.parse_file(path, tmp_path, max_chars=20_000)[0].text) > 16_800
    with pytest.raises(parsers.IngestError) as refused:
        parsers.parse_file(path, tmp_path, max_chars=5_000)
    assert "more than 5,000" in refused.value.message


def test_reads_and_chat_answer_while_an_upload_is_indexed(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An upload held inside its parse: the documents list, a document's versions and chat
    all answer before it finishes (ordering by events, not by the clock)."""
    parsing, release, uploaded = threading.Event(), threading.Event(), threading.Event()
    real_parse = pipeline.parse_file

    def slow_parse(path: Path, root: Path, max_chars: int | None = None, ocr=None) -> list:  # type: ignore[no-untyped-def,type-arg]
        if path.name == "heping.md":
            parsing.set()
            release.wait(120)  # until the reads below have been answered
        return real_parse(path, root, max_chars, ocr)

    monkeypatch.setattr(pipeline, "parse_file", slow_parse)
    results: dict[str, object] = {}

    def upload() -> None:
        results["upload"] = client.post(
            "/api/admin/documents", files=[("files", ("heping.md", NOTICE.encode(), "text/md"))]
        )
        uploaded.set()

    uploader = threading.Thread(target=upload)
    uploader.start()
    try:
        assert parsing.wait(60), "the upload never reached its parse"
        listed = client.get("/api/admin/documents")
        answer = client.post("/api/chat", json={"question": "企业开办要多久？"})
        deleted = client.get("/api/admin/documents/deleted")
        assert not uploaded.is_set()  # all three answered while the upload was held
    finally:
        release.set()
        uploader.join(120)
    assert listed.status_code == 200 and "startup" in {d["doc_id"] for d in listed.json()}
    assert answer.status_code == 200 and answer.json()["answered"]
    assert deleted.status_code == 200
    done = results["upload"]
    assert done.status_code == 201, done.text  # type: ignore[attr-defined]
    assert "heping-subsidy" in {d["doc_id"] for d in client.get("/api/admin/documents").json()}
