"""Legacy Word .doc, WPS .wps / .et (converted by LibreOffice in a child process) and .pptx
files: read, indexed by `python -m ingest`, answered from; executables, damaged files, zip
bombs and conversions that run too long refused with a reason, nothing left running.

The .doc and .xls are written by LibreOffice itself from a .docx / .xlsx built here. It
cannot write Kingsoft's .wps / .et, which are Word 97 / Excel 97 binaries under WPS's own
names (what WPS Office saves), so the .wps and .et are those files renamed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import pytest

from bot.assistant import Assistant
from bot.config import Settings
from bot.embedding import Embedder
from bot.errors import IngestError
from bot.index import KnowledgeIndex
from bot.models import Document
from ingest import legacy
from ingest.isolate import convert
from ingest.parsers import PARSERS, parse_file
from ingest.pipeline import Ingestor
from tests.conftest import staff_client
from tests.fixtures_files import write_markdown

ROOT = Path(__file__).resolve().parent.parent
TARGETS = Path(__file__).resolve().parent / "isolate_targets.py"
PASSWORD = "s3cret-pass"
TITLE = "关于支持青年人才安家的通知"
LINES = [
    "博士研究生一次性安家补贴6万元，硕士研究生一次性安家补贴3万元。",
    "申请材料报送至江岸区人力资源局，联系电话027-82345678。",
]
TABLE = [("学历", "补贴"), ("博士", "6万元"), ("硕士", "3万元")]


def _soffice() -> str:
    program = legacy.soffice()
    if program is None:
        pytest.skip(
            "LibreOffice is not installed (make libreoffice / scripts/install-libreoffice.sh)"
        )
    return program


def _write_docx(path: Path) -> Path:
    import docx
    from docx.shared import Cm

    document = docx.Document()
    document.core_properties.title = TITLE
    document.add_heading(TITLE, level=0)
    document.add_heading("一、补贴标准", level=1)
    for line in LINES:
        document.add_paragraph(line)
    table = document.add_table(rows=len(TABLE), cols=2)
    table.style = "Table Grid"
    for r, row in enumerate(TABLE):
        for c, text in enumerate(row):
            table.cell(r, c).text = text
            table.cell(r, c).width = Cm(5)  # Word always writes widths; LibreOffice needs them
    # and a paragraph after a table (Word always has one): LibreOffice's .doc of a file
    # ending in a table reads back as one run-on line
    document.add_paragraph("以上标准自2026年1月1日起执行。")
    document.save(str(path))
    return path


def _write_xlsx(path: Path) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["问题", "答案"])
    sheet.append(
        ["创业担保贷款最高额度是多少？", "个人创业担保贷款最高30万元，小微企业最高400万元。"]
    )
    book.save(str(path))
    return path


def _write_pptx(path: Path) -> Path:
    import pptx
    from pptx.util import Inches

    deck = pptx.Presentation()
    first = deck.slides.add_slide(deck.slide_layouts[0])
    first.shapes.title.text = "2026年惠企政策宣讲"
    first.placeholders[1].text = "江岸区营商环境办公室"
    second = deck.slides.add_slide(deck.slide_layouts[1])
    second.shapes.title.text = "稳岗返还"
    body = second.placeholders[1].text_frame
    body.text = "不裁员或少裁员的参保企业可申请稳岗返还。"
    body.add_paragraph().text = "中小微企业按上年度实际缴纳失业保险费的60%返还。"
    second.notes_slide.notes_text_frame.text = "讲解时强调申请截止日期。"
    third = deck.slides.add_slide(deck.slide_layouts[5])
    third.shapes.title.text = "办理流程"
    table = third.shapes.add_table(3, 2, Inches(1), Inches(2), Inches(6), Inches(2)).table
    for r, row in enumerate([("环节", "时限"), ("受理", "3个工作日"), ("审核", "10个工作日")]):
        for c, text in enumerate(row):
            table.cell(r, c).text = text
    deck.save(str(path))
    return path


def _lo_convert(program: str, target: str, source: Path, profile: Path) -> Path:
    subprocess.run(
        [
            program,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--convert-to",
            target,
            "--outdir",
            str(source.parent),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    converted = source.with_suffix("." + target)
    assert converted.is_file(), f"LibreOffice did not write {converted.name}"
    return converted


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """notice.doc, notice.wps, faq.et (written by LibreOffice) and talk.pptx."""
    program = _soffice()
    made = tmp_path_factory.mktemp("made")
    profile = made / "profile"
    doc = _lo_convert(program, "doc", _write_docx(made / "notice.docx"), profile)
    xls = _lo_convert(program, "xls", _write_xlsx(made / "faq.xlsx"), profile)
    shutil.copyfile(doc, made / "notice.wps")
    shutil.copyfile(xls, made / "faq.et")
    return {
        "doc": doc,
        "wps": made / "notice.wps",
        "et": made / "faq.et",
        "pptx": _write_pptx(made / "talk.pptx"),
    }


def test_the_formats_are_known_to_discovery_uploads_and_the_admin_page() -> None:
    assert {".doc", ".wps", ".et", ".pptx"} <= set(PARSERS)
    for page in ("web/static/admin.html", "web/static/admin.js"):
        text = (ROOT / page).read_text(encoding="utf-8")
        assert ".doc,.wps" in text and ".pptx" in text and ".et" in text


def test_a_doc_and_a_wps_read_like_their_docx(files: dict[str, Path]) -> None:
    root = files["doc"].parent
    for name in ("doc", "wps"):
        [doc] = parse_file(files[name], root)
        assert doc.doc_id == "notice" and doc.title == TITLE
        assert doc.source_path == str(files[name])  # the original, not the converted .docx
        lines = doc.text.splitlines()
        assert lines[:2] == [f"# {TITLE}", "## 一、补贴标准"]  # headings kept
        assert all(line in lines for line in LINES)
        assert "博士：6万元。" in lines and "硕士：3万元。" in lines  # table rows as sentences


def test_an_et_reads_like_its_xlsx(files: dict[str, Path]) -> None:
    [entry] = parse_file(files["et"], files["et"].parent)
    assert entry.doc_id == "faq#1" and entry.title == "创业担保贷款最高额度是多少？"
    assert "最高30万元" in entry.text and entry.source_path == str(files["et"])


def test_a_pptx_is_read_slide_by_slide(files: dict[str, Path]) -> None:
    [doc] = parse_file(files["pptx"], files["pptx"].parent)
    assert doc.title == "2026年惠企政策宣讲" and doc.doc_id == "talk"
    lines = doc.text.splitlines()
    assert lines[0] == "## 第1页 2026年惠企政策宣讲"
    at = lines.index("## 第2页 稳岗返还")
    assert lines[at + 1 : at + 4] == [
        "不裁员或少裁员的参保企业可申请稳岗返还。",
        "中小微企业按上年度实际缴纳失业保险费的60%返还。",
        "备注：讲解时强调申请截止日期。",
    ]
    at = lines.index("## 第3页 办理流程")
    # the table (环节 | 时限 over two rows) as one sentence per row
    assert lines[at + 1 : at + 3] == ["受理：3个工作日。", "审核：10个工作日。"]


def test_python_m_ingest_indexes_them_and_a_doc_is_answered_from(
    tmp_path: Path, files: dict[str, Path], embedder: Embedder
) -> None:
    kb = tmp_path / "kb"
    (kb / "人才").mkdir(parents=True)
    shutil.copyfile(files["doc"], kb / "人才" / "安家补贴.doc")
    shutil.copyfile(files["wps"], kb / "notice.wps")
    shutil.copyfile(files["et"], kb / "faq.et")
    shutil.copyfile(files["pptx"], kb / "talk.pptx")
    data = tmp_path / "data"
    done = subprocess.run(
        [sys.executable, "-m", "ingest", str(kb), "--data-dir", str(data), "-q"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"},
    )
    assert done.returncode == 0, done.stderr
    assert "4 added" in done.stdout and "0 failed" in done.stdout
    bot = Assistant(Settings(data_dir=data), embedder=embedder)
    try:
        ids = {d.doc_id for d in bot.index.records.documents()}
        assert {"人才/安家补贴", "notice", "faq#1", "talk"} <= ids
        answer = bot.ask("硕士研究生一次性安家补贴是多少？")
        assert answer.answered and "3万元" in answer.text
        assert answer.sources[0].doc_id in {"人才/安家补贴", "notice"}
        answer = bot.ask("中小微企业稳岗返还的比例是多少？")
        assert answer.answered and "60%" in answer.text
    finally:
        bot.close()


EXECUTABLE = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56 + b"not a document"


def test_an_executable_named_doc_is_refused_at_ingest_the_rest_indexed(
    tmp_path: Path, embedder: Embedder
) -> None:
    kb = tmp_path / "kb"
    write_markdown(kb / "startup.md", "startup", "企业开办指南", "## 时限\n一个工作日办结。")
    (kb / "通知.doc").write_bytes(EXECUTABLE)
    (kb / "setup.wps").write_bytes(b"MZ\x90\x00" + b"\x00" * 100)
    index = KnowledgeIndex.open(Settings(data_dir=tmp_path / "data"), embedder)
    try:
        report = Ingestor(index, progress=False).run([kb])
        assert report.added == [str(kb / "startup.md")]
        reasons = {Path(f.path).name: (f.reason, f.reason_zh) for f in report.failed}
        assert set(reasons) == {"通知.doc", "setup.wps"}
        assert "executable program" in reasons["通知.doc"][0]
        assert "可执行程序" in reasons["通知.doc"][1]
        assert {d.doc_id for d in index.records.documents()} == {"startup"}
    finally:
        index.close()


def test_uploads_refuse_executables_and_zip_bombs_and_take_a_doc(
    tmp_path: Path, files: dict[str, Path], embedder: Embedder
) -> None:
    kb = tmp_path / "kb"
    write_markdown(kb / "startup.md", "startup", "企业开办指南", "## 时限\n一个工作日办结。")
    settings = Settings(data_dir=tmp_path / "data", admin_user="root", admin_password=PASSWORD)
    index = KnowledgeIndex.open(settings, embedder)
    Ingestor(index, progress=False).run([kb])
    index.close()
    bomb = tmp_path / "bomb.pptx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("ppt/slides/slide1.xml", b"\0" * (60 * 1024 * 1024))
    for client in staff_client(settings, embedder, "root", PASSWORD):
        for name, data in [
            ("通知.doc", EXECUTABLE),
            ("setup.et", b"MZ\x90\x00" + b"\x00" * 100),
            ("文件.doc", b"PK\x03\x04 a zip is not a .doc"),
            ("宣讲.pptx", bomb.read_bytes()),
        ]:
            res = client.post(
                "/api/admin/documents", files=[("files", (name, data, "application/msword"))]
            )
            assert res.status_code == 422, res.text
            error = res.json()["error"]
            assert error["message_zh"] and name in error["message_zh"]
            if data is EXECUTABLE:
                assert "executable program" in error["message"]
                assert "可执行程序" in error["message_zh"]
        res = client.post(
            "/api/admin/documents",
            files=[("files", ("安家补贴.doc", files["doc"].read_bytes(), "application/msword"))],
        )
        assert res.status_code in (200, 201), res.text
        listed = {d["doc_id"] for d in client.get("/api/admin/documents").json()}
        assert listed == {"startup", "安家补贴"}, listed
        answer = client.post("/api/chat", json={"question": "博士研究生安家补贴是多少？"}).json()
        assert "6万元" in answer["answer"], answer


def test_a_damaged_doc_is_refused_with_a_reason(tmp_path: Path) -> None:
    _soffice()
    bad = tmp_path / "损坏.doc"
    bad.write_bytes(legacy.OLE2 + os.urandom(20_000))
    started = time.monotonic()
    with pytest.raises(IngestError) as refused:
        parse_file(bad, tmp_path)
    assert "LibreOffice could not read it" in refused.value.message
    assert "已损坏" in refused.value.message_zh
    assert time.monotonic() - started < legacy.TIMEOUT_S


def test_a_hostile_or_broken_pptx_is_refused(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.pptx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("ppt/slides/slide1.xml", b"\0" * (60 * 1024 * 1024))
    with pytest.raises(IngestError, match="zip bomb"):
        parse_file(bomb, tmp_path)
    broken = tmp_path / "broken.pptx"
    with zipfile.ZipFile(broken, "w") as z:
        z.writestr("readme.txt", "no presentation here")
    with pytest.raises(IngestError, match="not a readable .pptx") as refused:
        parse_file(broken, tmp_path)
    assert refused.value.message_zh == "broken.pptx：无法读取的 PowerPoint 文件"


def _ours(marker: str) -> list[str]:
    """Processes whose command line names `marker` (our temporary folder)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker in cmdline and state != "Z":
            found.append(f"{proc.name} {cmdline}")
    return found


def test_a_conversion_past_its_timeout_leaves_nothing_running(
    tmp_path: Path, files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    temp = tmp_path / "t"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    monkeypatch.setattr(legacy, "TIMEOUT_S", 1.5)  # LibreOffice needs 2-5 s
    outcome: list[BaseException | list[Document]] = []

    def run() -> None:
        try:
            outcome.append(parse_file(files["doc"], files["doc"].parent))
        except BaseException as exc:  # noqa: BLE001 - the assertion below names it
            outcome.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    seen: list[str] = []
    while worker.is_alive() and not any("soffice" in p for p in seen):
        seen = _ours(str(temp))
        time.sleep(0.05)
    worker.join(30)
    assert any("soffice" in p for p in seen), "LibreOffice was never started"
    [error] = outcome
    assert isinstance(error, IngestError) and "longer than 1.5 s" in error.message
    assert "超过 1.5 秒" in error.message_zh
    deadline = time.monotonic() + 5
    while _ours(str(temp)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _ours(str(temp)) == []
    assert list(temp.iterdir()) == []  # its temporary folder is gone too


def test_a_converter_past_its_timeout_takes_what_it_started_with_it(tmp_path: Path) -> None:
    marker = f"isolate-marker-{tmp_path.name}-{os.getpid()}"
    with pytest.raises(IngestError, match="longer than 2 s"):
        convert(f"{TARGETS}:spawn", tmp_path / "x.doc", timeout_s=2, args=(marker,))
    deadline = time.monotonic() + 5
    while _ours(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _ours(marker) == []


def test_wps_and_et_saved_as_office_open_xml_are_read_too(tmp_path: Path) -> None:
    _soffice()
    _write_docx(tmp_path / "notice.wps")  # newer WPS versions can save OOXML under the old names
    _write_xlsx(tmp_path / "faq.et")
    [doc] = parse_file(tmp_path / "notice.wps", tmp_path)
    assert doc.title == TITLE and "博士：6万元。" in doc.text.splitlines()
    [entry] = parse_file(tmp_path / "faq.et", tmp_path)
    assert entry.doc_id == "faq#1" and "最高30万元" in entry.text


def test_without_libreoffice_the_reason_says_so(
    tmp_path: Path, files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no soffice on it
    for name, kind in (("wps", ".wps"), ("doc", ".doc"), ("et", ".et")):
        with pytest.raises(IngestError) as refused:
            parse_file(files[name], files[name].parent)
        assert "LibreOffice is not installed" in refused.value.message
        assert f"未安装 LibreOffice，无法读取 {kind} 文件" in refused.value.message_zh


def test_concurrent_conversions_use_profiles_of_their_own(files: dict[str, Path]) -> None:
    results: list[list[Document] | BaseException] = []

    def run(path: Path) -> None:
        try:
            results.append(parse_file(path, path.parent))
        except BaseException as exc:  # noqa: BLE001 - the assertion below names it
            results.append(exc)

    workers = [threading.Thread(target=run, args=(files[n],)) for n in ("doc", "wps")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(240)
    assert all(isinstance(r, list) and r[0].title == TITLE for r in results), results
    assert len(results) == 2
