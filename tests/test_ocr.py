"""OCR in ingest (issue #16): scanned PDFs and photographed notices made in the test (known
text drawn on images, put into a PDF without a text layer), read by RapidOCR in a child
process page by page, each passage knowing its page, pages cached by their image hash; bad
files refused or truncated with a reason."""

from __future__ import annotations

import json
import shutil
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.assistant import Assistant
from bot.config import Settings
from bot.embedding import Embedder
from bot.index import KnowledgeIndex
from ingest.chunking import ChunkingPolicy
from ingest.ocr import MAX_PIXELS, OcrContext
from ingest.parsers import parse_file
from ingest.pipeline import Ingestor, IngestReport
from tests.scans import page_image, scanned_pdf

pytest.importorskip("rapidocr_onnxruntime")

TITLE = "关于印发江岸区人才安家补贴实施办法的通知"
PAGE_1 = [
    "为吸引高层次人才在江岸区创新创业，区政府决定对新引进的博士给予一次性安家补贴6万元，"
    "硕士给予一次性安家补贴3万元。",
    "申请人应在入职后六个月内向区人才服务中心提交申请材料，逾期不予受理。",
]
PAGE_2 = [
    "人才公寓租金按市场价格的百分之五十收取，租期最长三年。",
    "本办法自2026年3月1日起施行，由区人才工作领导小组办公室负责解释。",
]
TEXT_PAGE = ["江岸区人才安家补贴实施办法（目录页）", "第一部分 补贴标准", "第二部分 人才公寓"]
SMALL = ChunkingPolicy(max_chars=50, overlap_chars=0, min_chars=10)
LEFT = ["左栏第一段：企业开办全程网上办理，一个工作日内办结营业执照。"]
RIGHT = ["右栏第一段：拿地即开工项目实行容缺受理，承诺制审批。"]


def _squash(text: str) -> str:
    return "".join(text.split())


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[dict]:
    """A three-page PDF — a text page, then two scanned pages — ingested once."""
    root = tmp_path_factory.mktemp("ocr")
    folder = root / "kb"
    folder.mkdir()
    pages = [
        None,
        page_image(
            PAGE_1,
            title=TITLE,
            header="江岸区人民政府文件",
            number="岸政发〔2026〕3号",
            footer="- 2 -",
        ),
        page_image(PAGE_2, footer="- 3 -", seed=2),
    ]
    scanned_pdf(folder / "安家补贴.pdf", pages, text_pages={0: TEXT_PAGE})
    settings = Settings(data_dir=root / "data")
    index = KnowledgeIndex.open(settings, embedder)
    seen: list[tuple[int, int, int, int]] = []
    # small passages, so that each page's text falls in passages of its own
    ingestor = Ingestor(index, SMALL, progress=False)
    original = ingestor._ocr

    def watched(report: IngestReport, warm: bool) -> OcrContext | None:
        context = original(report, warm)
        assert context is not None
        outer = context.on_page

        def on_page(name: str, page: int, done: int, total: int) -> None:
            if warm:  # the pass that reads: progress, and no writer lock held meanwhile
                seen.append((page, done, total, index.write_lock._depth))
            if outer:
                outer(name, page, done, total)

        context.on_page = on_page
        return context

    ingestor._ocr = watched  # type: ignore[method-assign]
    report = ingestor.run([folder])
    yield {
        "root": root,
        "folder": folder,
        "settings": settings,
        "index": index,
        "report": report,
        "progress": seen,
    }
    index.close()


def test_scanned_pages_are_read_by_ocr_with_progress_per_page(scanned: dict) -> None:
    report = scanned["report"]
    assert report.ok, report.failed
    assert report.ocr_pages == 2 and report.ocr_cached == 0
    # one step a page, while the index's writer lock is free for other changes
    assert scanned["progress"] == [(2, 1, 2, 0), (3, 2, 2, 0)]
    doc = scanned["index"].records.documents()[0]
    text = _squash(doc.text)
    for sentence in PAGE_1 + PAGE_2:
        assert _squash(sentence) in text, sentence
    assert "目录页" in text  # the text-layer page is kept as it is, not OCRed
    assert doc.ocr and doc.title == TITLE  # the red-header notice's 关于 line
    assert doc.doc_number == "岸政发〔2026〕3号"  # read off the scan, brackets normalised
    assert "- 2 -" not in doc.text and "-2-" not in doc.text  # page numbers removed
    confidences = json.loads(doc.ocr_pages)
    assert [p for p, _ in confidences] == [2, 3]
    assert all(0.9 < c <= 1 for _, c in confidences)


def test_every_passage_remembers_its_page(scanned: dict) -> None:
    chunks = scanned["index"].records.chunks()
    assert {c.page for c in chunks} == {1, 2, 3}

    def page_of(words: str) -> int:
        (chunk,) = [c for c in chunks if words in c.text]
        return chunk.page

    assert page_of("第二部分") == 1
    assert page_of("一次性安家补贴6万元") == 2
    assert page_of("百分之五十") == 3


def test_an_answer_from_a_scan_cites_its_page(scanned: dict, embedder: Embedder) -> None:
    bot = Assistant(scanned["settings"], embedder=embedder)
    try:
        answer = bot.ask("新引进的博士一次性安家补贴是多少？")
        assert answer.answered and "6万元" in answer.text
        public = answer.sources[0].public()
        assert public["doc_id"] == "安家补贴" and public["page"] == 2
        assert public["doc_number"] == "岸政发〔2026〕3号"
        named = bot.ask("岸政发(2026)3号中人才公寓租金怎么收？")
        assert named.answered and "百分之五十" in named.text
        assert named.sources[0].doc_id == "安家补贴" and named.sources[0].page == 3
    finally:
        bot.close()


def test_pages_are_ocred_once_whatever_file_they_are_in(scanned: dict) -> None:
    folder: Path = scanned["folder"]
    shutil.copy(folder / "安家补贴.pdf", folder / "安家补贴（副本）.pdf")
    try:
        report = Ingestor(scanned["index"], SMALL, progress=False).run([folder])
        assert report.ok, report.failed
        assert report.ocr_pages == 0 and report.ocr_cached == 2
    finally:
        (folder / "安家补贴（副本）.pdf").unlink()
        Ingestor(scanned["index"], SMALL, progress=False).run([folder])


def test_a_two_column_photo_is_read_column_by_column(tmp_path: Path) -> None:
    image = page_image(LEFT * 6 + RIGHT * 6, title="江岸区政务服务简报", columns=2, noise=False)
    path = tmp_path / "简报.png"
    image.save(path)
    (doc,) = parse_file(path, tmp_path, ocr=OcrContext())
    text = _squash(doc.text)
    assert doc.ocr and doc.title == "江岸区政务服务简报"
    left, right = text.find("左栏第一段"), text.find("右栏第一段")
    assert 0 < left < right
    # every left-column paragraph comes before the first right-column one
    assert text.rfind("左栏第一段") < right


def test_a_scan_with_a_typed_caption_over_it_is_still_read(tmp_path: Path) -> None:
    caption = "本扫描件由江岸区档案馆于二〇二六年三月五日扫描存档，文件编号 JA-2026-0031，共一页。"
    assert len(caption) > 30  # more text than a page needs to count as text
    path = scanned_pdf(
        tmp_path / "caption.pdf", [page_image(PAGE_2, noise=False)], overlay={0: caption}
    )
    (doc,) = parse_file(path, tmp_path, ocr=OcrContext())
    assert doc.ocr and "百分之五十" in doc.text


# --- bad files ---------------------------------------------------------------------------


def _png_claiming(path: Path, width: int, height: int) -> Path:
    """A tiny PNG whose header claims width × height pixels (an image bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
        + chunk(b"IEND", b"")
    )
    return path


def _ingest(tmp_path: Path, embedder: Embedder, **settings: object) -> IngestReport:
    index = KnowledgeIndex.open(Settings(data_dir=tmp_path / "data", **settings), embedder)
    try:
        return Ingestor(index, progress=False).run([tmp_path / "kb"])
    finally:
        index.close()


def test_bad_images_and_pdfs_are_refused_with_reasons_the_rest_indexed(
    tmp_path: Path, embedder: Embedder
) -> None:
    from pypdf import PdfWriter

    folder = tmp_path / "kb"
    folder.mkdir()
    _png_claiming(folder / "bomb.png", 50_000, 50_000)
    _png_claiming(folder / "huge.png", 10_000, 9_000)  # over our limit, under Pillow's
    assert 10_000 * 9_000 > MAX_PIXELS
    good = page_image(PAGE_2, noise=False)
    good.save(folder / "photo.png")
    (folder / "truncated.png").write_bytes((folder / "photo.png").read_bytes()[:3000])
    (folder / "fake.jpg").write_bytes(b"MZ\x90\x00 this is an executable")
    scanned_pdf(folder / "source.pdf", [None], text_pages={0: TEXT_PAGE})
    writer = PdfWriter(clone_from=folder / "source.pdf")
    writer.encrypt("secret-password")
    with open(folder / "locked.pdf", "wb") as fh:
        writer.write(fh)
    (folder / "source.pdf").unlink()
    (folder / "notes.md").write_text("# 办事须知\n\n企业开办一个工作日内办结。\n", encoding="utf-8")

    report = _ingest(tmp_path, embedder)
    reasons = {Path(f.path).name: (f.reason, f.reason_zh) for f in report.failed}
    assert set(reasons) == {
        "bomb.png",
        "huge.png",
        "truncated.png",
        "fake.jpg",
        "locked.pdf",
    }, reasons
    assert "10,000 × 9,000" in reasons["huge.png"][0]
    assert "2,500,000,000 pixels" in reasons["bomb.png"][0] and "像素" in reasons["bomb.png"][1]
    assert "damaged" in reasons["truncated.png"][0] and "损坏" in reasons["truncated.png"][1]
    assert "image" in reasons["fake.jpg"][0] and "图片" in reasons["fake.jpg"][1]
    assert "encrypted" in reasons["locked.pdf"][0] and "加密" in reasons["locked.pdf"][1]
    added = {Path(k).name for k in report.added}
    assert added == {"photo.png", "notes.md"}


def test_a_long_scan_is_truncated_at_the_page_limit_with_a_warning(
    tmp_path: Path, embedder: Embedder
) -> None:
    folder = tmp_path / "kb"
    folder.mkdir()
    page = page_image(PAGE_1, noise=False)
    blank = page_image([], noise=False)
    scanned_pdf(folder / "long.pdf", [page] + [blank] * 499)
    report = _ingest(tmp_path, embedder, ocr_max_pages=2)
    assert report.ok, report.failed
    assert report.ocr_pages == 2
    (warning,) = [w for w in report.warnings if "BOT_OCR_MAX_PAGES" in w.reason]
    assert "500 scanned pages" in warning.reason and "498" in warning.reason
    assert "500 页" in warning.reason_zh


def test_without_ocr_a_scan_is_refused_with_the_reason(tmp_path: Path, embedder: Embedder) -> None:
    folder = tmp_path / "kb"
    folder.mkdir()
    scanned_pdf(folder / "scan.pdf", [page_image(PAGE_1, noise=False)])
    page_image(PAGE_2, noise=False).save(folder / "photo.jpg")
    report = _ingest(tmp_path, embedder, ocr_max_pages=0)
    reasons = {Path(f.path).name: f.reason for f in report.failed}
    assert "scanned PDF" in reasons["scan.pdf"] and "OCR" in reasons["photo.jpg"]
