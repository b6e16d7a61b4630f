"""Staff uploads over HTTP: stored with versions, live without a restart, bad files refused."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.config import Settings
from bot.embedding import Embedder
from bot.index import KnowledgeIndex
from ingest.pipeline import Ingestor
from tests.conftest import staff_client
from tests.fixtures_files import write_docx, write_markdown

PASSWORD = "s3cret-pass"
NOTICE = """---
id: heping-subsidy
title: 和平街道小微企业房租补贴
category: 金融支持
department: 和平街道办事处
---
## 补贴标准
和平街道的小微企业可以申请房租补贴，每月补贴租金的三成，最长补贴十二个月。
"""
QUESTION = "和平街道小微企业房租补贴每月补多少？"


@pytest.fixture()
def client(tmp_path: Path, embedder: Embedder) -> Iterator[TestClient]:
    write_markdown(
        tmp_path / "kb" / "startup.md", "startup", "企业开办指南", "## 时限\n一个工作日办结。"
    )
    settings = Settings(
        data_dir=tmp_path / "data", admin_user="root", admin_password=PASSWORD, upload_max_mb=1
    )
    index = KnowledgeIndex.open(settings, embedder)
    Ingestor(index, progress=False).run([tmp_path / "kb"])
    index.close()
    yield from staff_client(settings, embedder, "root", PASSWORD)


def _upload(client: TestClient, name: str, data: bytes, kind: str = "text/markdown") -> object:
    return client.post("/api/admin/documents", files=[("files", (name, data, kind))])


def _replace(client: TestClient, data: bytes, base_version: int) -> object:
    return client.put(
        "/api/admin/documents/heping-subsidy",
        files={"file": ("heping.md", data, "text/markdown")},
        data={"base_version": str(base_version)},
    )


def _asked(client: TestClient) -> dict:
    return client.post("/api/chat", json={"question": QUESTION}).json()  # type: ignore[no-any-return]


def test_upload_is_live_versioned_and_deletable(client: TestClient) -> None:
    assert not _asked(client)["answered"]
    res = _upload(client, "heping.md", NOTICE.encode())
    assert res.status_code == 201, res.text  # type: ignore[attr-defined]
    assert res.json()["uploaded"][0]["doc_ids"] == ["heping-subsidy"]  # type: ignore[attr-defined]
    answer = _asked(client)
    assert answer["answered"] and answer["sources"][0]["doc_id"] == "heping-subsidy"
    assert "三成" in answer["answer"]
    # a second upload under the same name must say which version it replaces
    assert _upload(client, "heping.md", NOTICE.encode()).status_code == 409  # type: ignore[attr-defined]
    assert _replace(client, NOTICE.encode(), 1).status_code == 409  # identical bytes
    # a new version that does not parse: refused with the reason, the old one stays live
    broken = _replace(client, b"---\nid: [unclosed\n---\n## x\ny", 1)
    assert broken.status_code == 422 and broken.json()["error"]["message"]
    assert "三成" in _asked(client)["answer"]
    listed = {d["doc_id"]: d for d in client.get("/api/admin/documents").json()}
    versions = listed["heping-subsidy"]["versions"]
    assert [(v["version"], v["status"]) for v in versions] == [(1, "live"), (2, "rejected")]
    assert listed["startup"]["origin"] == "deployed"
    original = client.get("/api/admin/documents/heping-subsidy/original")
    assert original.status_code == 200 and original.content == NOTICE.encode()
    # two editors start from version 1: the first replacement wins, the second gets 409
    assert _replace(client, NOTICE.replace("三成", "五成").encode(), 1).status_code == 200
    late = _replace(client, NOTICE.replace("三成", "四成").encode(), 1)
    assert late.status_code == 409 and late.json()["error"]["code"] == "conflict"
    assert "五成" in _asked(client)["answer"]
    # roll back to version 1: live again, as version 4
    back = client.post("/api/admin/documents/heping-subsidy/rollback", json={"version": 1})
    assert back.status_code == 200 and back.json()["version"] == 4
    assert "三成" in _asked(client)["answer"]
    assert (
        client.post("/api/admin/documents/heping-subsidy/rollback", json={"version": 2}).status_code
        == 404
    )  # a rejected version cannot come back
    # deleting takes it out of service; deployed documents cannot be deleted here
    assert client.delete("/api/admin/documents/heping-subsidy").status_code == 200
    assert not _asked(client)["answered"]
    assert client.delete("/api/admin/documents/startup").status_code == 409
    assert client.delete("/api/admin/documents/nothing-here").status_code == 404
    # every change is in the audit log: who, what, old → new version
    log = client.get("/api/admin/audit").json()
    steps = [(e["action"], e["old_version"], e["new_version"]) for e in reversed(log)]
    assert steps == [
        ("upload", None, 1),
        ("upload_rejected", None, None),  # the name was taken
        ("replace_rejected", None, None),  # identical bytes
        ("replace_rejected", 1, 2),  # did not parse: stored as version 2, never live
        ("replace", 1, 3),
        ("replace_rejected", None, None),  # the late editor's 409
        ("rollback", 3, 4),
        ("delete", 4, None),
    ]
    assert "已被他人修改" in log[2]["detail"]
    assert all(e["user"] == "root" for e in log)
    exported = client.get("/api/admin/audit", params={"format": "csv"})
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert [r["action"] for r in rows] == [e["action"] for e in log] and len(rows) == 8


def test_upload_metadata_deleted_files_and_restore(client: TestClient, tmp_path: Path) -> None:
    docx = write_docx(
        tmp_path / "rent.docx",
        "后湖街道青年创业房租补贴",
        {"补贴标准": "后湖街道的青年创业企业每月可领房租补贴二千元，最长十二个月。"},
    )
    res = client.post(
        "/api/admin/documents",
        files=[("files", ("rent.docx", docx.read_bytes(), "application/octet-stream"))],
        data={"category": "人才政策", "department": "后湖街道办事处", "contact": "027-1234"},
    )
    assert res.status_code == 201, res.text
    (doc_id,) = res.json()["uploaded"][0]["doc_ids"]
    listed = client.get("/api/admin/documents", params={"department": "后湖街道办事处"}).json()
    assert [(d["doc_id"], d["category"], d["file"]) for d in listed] == [
        (doc_id, "人才政策", "rent.docx")
    ]
    today = listed[0]["updated"]
    assert today and client.get("/api/admin/documents", params={"updated_since": today}).json()
    assert not client.get("/api/admin/documents", params={"updated_since": "2999-01-01"}).json()
    asked = client.post("/api/chat", json={"question": "后湖街道青年创业房租补贴每月多少？"}).json()
    assert asked["sources"][0]["doc_id"] == doc_id
    assert asked["sources"][0]["department"] == "后湖街道办事处"
    # a replacement without metadata keeps what was said at upload; with, it changes it
    write_docx(docx, "后湖街道青年创业房租补贴", {"补贴标准": "每月可领房租补贴三千元。"})
    replaced = client.put(
        f"/api/admin/documents/{doc_id}",
        files={"file": ("rent.docx", docx.read_bytes(), "application/octet-stream")},
        data={"base_version": "1"},
    )
    assert replaced.status_code == 200, replaced.text
    listed = {d["doc_id"]: d for d in client.get("/api/admin/documents").json()}
    assert listed[doc_id]["category"] == "人才政策"

    # deleted, listed as deleted, restored as a new version, answered again
    assert client.delete(f"/api/admin/documents/{doc_id}").status_code == 200
    gone = client.get("/api/admin/documents/deleted").json()
    assert [(g["name"], g["version"], g["deleted_by"]) for g in gone] == [("rent.docx", 2, "root")]
    back = client.post("/api/admin/documents/deleted/rent.docx/restore")
    assert back.status_code == 200 and back.json()["version"] == 3
    assert client.get("/api/admin/documents/deleted").json() == []
    assert client.post("/api/admin/documents/deleted/rent.docx/restore").status_code == 409
    again = client.post("/api/chat", json={"question": "后湖街道青年创业房租补贴每月多少？"}).json()
    assert "三千元" in again["answer"] and again["sources"][0]["department"] == "后湖街道办事处"
    # deleted a second time: still one row, the latest version
    assert client.delete(f"/api/admin/documents/{doc_id}").status_code == 200
    gone = client.get("/api/admin/documents/deleted").json()
    assert [(g["name"], g["version"]) for g in gone] == [("rent.docx", 3)]


def test_refusals_are_explained_in_chinese_and_audited(client: TestClient) -> None:
    res = client.post(
        "/api/admin/documents",
        files=[("files", ("broken.md", b"---\nid: [x\n---\nbody", "text/markdown"))],
    )
    assert res.status_code == 422
    zh = res.json()["error"]["message_zh"]
    assert zh == "broken.md：文件头（front matter）格式错误（原版本继续使用）"
    pdf = _upload(client, "notice.pdf", b"%PDF-1.4\n1 0 obj <<>> garbage", "application/pdf")
    assert pdf.status_code == 422  # type: ignore[attr-defined]
    assert pdf.json()["error"]["message_zh"] == "notice.pdf：无法读取的 PDF 文件（原版本继续使用）"  # type: ignore[attr-defined]
    assert _upload(client, "empty.md", b"").status_code == 422  # type: ignore[attr-defined]
    log = client.get("/api/admin/audit").json()
    assert [(e["action"], e["target"]) for e in log[:3]] == [
        ("upload_rejected", "empty.md"),
        ("upload_rejected", "notice.pdf"),
        ("upload_rejected", "broken.md"),
    ]
    assert log[0]["detail"] == "empty.md：文件为空"


def test_bad_uploads_get_clear_errors(client: TestClient) -> None:
    def code(res: object) -> tuple[int, str]:
        return res.status_code, res.json()["error"]["code"]  # type: ignore[attr-defined]

    assert code(_upload(client, "virus.exe", b"MZ")) == (415, "unsupported_format")
    assert code(_upload(client, "长" * 70 + ".md", NOTICE.encode())) == (422, "invalid_request")
    rollback = client.post("/api/admin/documents/x/rollback", json={"version": 10**20})
    assert rollback.status_code == 422
    assert code(_upload(client, "empty.md", b"")) == (422, "invalid_request")
    assert code(_upload(client, "big.txt", b"x" * (1024 * 1024 + 1))) == (413, "too_large")
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", b"\0" * (201 * 1024 * 1024))
    res = _upload(client, "bomb.docx", bomb.getvalue(), "application/octet-stream")
    assert res.status_code == 422 and "zip bomb" in res.json()["error"]["message"]  # type: ignore[attr-defined]
    assert client.get("/api/admin/documents").status_code == 200
    assert len(client.get("/api/admin/documents").json()) == 1  # nothing was added


def test_uploads_need_a_staff_login(client: TestClient) -> None:
    del client.headers["Authorization"]
    client.cookies.clear()
    assert _upload(client, "heping.md", NOTICE.encode()).status_code == 401  # type: ignore[attr-defined]


def test_oversized_bodies_are_refused_before_anything_reads_them(client: TestClient) -> None:
    del client.headers["Authorization"]
    big = client.post(
        "/api/chat", content=b"x" * (1024 * 1024 + 1), headers={"content-type": "application/json"}
    )
    assert big.status_code == 413 and big.json()["error"]["code"] == "too_large"
    # an anonymous upload larger than ten files' worth never reaches authentication
    huge = client.post(
        "/api/admin/documents",
        content=b"x" * (11 * 1024 * 1024 + 1),
        headers={"content-type": "multipart/form-data; boundary=x"},
    )
    assert huge.status_code == 413


def test_a_parser_crash_is_a_refusal_not_an_outage(client: TestClient) -> None:
    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w") as z:  # a zip, but not a workbook openpyxl can read
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook><broken")
    res = _upload(client, "faq.xlsx", broken.getvalue(), "application/octet-stream")
    assert res.status_code == 422, res.text  # type: ignore[attr-defined]
    assert _upload(client, "heping.md", NOTICE.encode()).status_code == 201  # type: ignore[attr-defined]
    assert _asked(client)["answered"]


def test_spreadsheet_formulas_cannot_ride_in_the_audit_export(client: TestClient) -> None:
    assert _upload(client, "=1+2.md", NOTICE.encode()).status_code == 201  # type: ignore[attr-defined]
    rows = list(
        csv.DictReader(io.StringIO(client.get("/api/admin/audit?format=csv").text.lstrip("\ufeff")))
    )
    assert rows[0]["target"].startswith("'=")


def test_over_long_passwords_are_refused(client: TestClient) -> None:
    res = client.post(
        "/api/admin/users", json={"username": "long", "password": "密" * 30, "role": "editor"}
    )
    assert res.status_code == 422 and "72" in res.json()["error"]["message"]


def test_a_chunked_body_is_limited_too(client: TestClient) -> None:
    """No Content-Length (Transfer-Encoding: chunked): the bytes received are counted."""

    def chunks() -> Iterator[bytes]:
        yield b'{"question": "'
        for _ in range(40):
            yield b"x" * 65536  # 2.5 MB in all, past the 1 MB limit
        yield b'"}'

    res = client.post("/api/chat", content=chunks(), headers={"content-type": "application/json"})
    assert res.status_code == 413 and res.json()["error"]["code"] == "too_large"
    # a small chunked body still works
    ok = client.post(
        "/api/chat",
        content=iter([b'{"question": "', "人才公寓怎么申请".encode(), b'"}']),
        headers={"content-type": "application/json"},
    )
    assert ok.status_code == 200 and ok.json()["answer"]


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("evil.md\x00.pdf", b"# x\n"),  # was a 500
        ("\u202egpj.md", b"# x\n"),  # shows as "dm.jpg"
        ("a\u200bb.md", b"# x\n"),
        ("picture.md", PNG),  # was indexed as text
        ("notes.txt", b"abc\x00\x00\x01binary"),
        ("fake.pdf", b"# not a pdf\n"),
    ],
)
def test_hostile_names_and_contents_are_refused_and_audited(
    client: TestClient, name: str, data: bytes
) -> None:
    # the multipart body by hand: a client library would percent-encode the NUL
    boundary = "hostile-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    res = client.post(
        "/api/admin/documents",
        content=body,
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
    )
    assert res.status_code == 422, res.text
    error = res.json()["error"]
    assert error["code"] == "invalid_request" and error["message_zh"]
    if not name.isprintable():
        assert "控制字符或不可见字符" in error["message_zh"]
    audit = client.get("/api/admin/audit").json()
    assert audit[0]["action"] == "upload_rejected"
    assert "\x00" not in audit[0]["target"] and "\u202e" not in audit[0]["target"]
