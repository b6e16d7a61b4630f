"""PDF: the text layer page by page (tables as sentences), and OCR for scanned pages.

`read` and `render` run in a child process (ingest/isolate.py): pdfminer and pdfium parse
whatever bytes they are given, and a hostile PDF must cost a bounded time and memory. The
parent (`parse`) decides which pages need OCR — no text layer, or only a few characters
(a stamped scan with a printed page number) — renders just those, and reads them through
ingest/ocr.py, page by page, from the cache where it can.
"""

from __future__ import annotations

import logging
import re
import tempfile
from pathlib import Path
from typing import Any

from bot.errors import IngestError

log = logging.getLogger(__name__)

# A page whose text layer has fewer visible characters than this is read by OCR; so is a
# page mostly covered by pictures with little text (a scan with a typed header or a stamp
# caption laid over it).
MIN_PAGE_CHARS = 30
PICTURE_PAGE_CHARS = 200
PICTURE_SHARE = 0.5
RENDER_DPI = 200
MAX_RENDER_SIDE = 3500  # pixels: a poster-sized page is rendered smaller
READ_TIMEOUT_S = 120.0
READ_MEMORY_MB = 1536
_VISIBLE = re.compile(r"\S")


def visible_chars(text: str) -> int:
    return len(_VISIBLE.findall(text))


def _refusal_encrypted(path: Path) -> IngestError:
    return IngestError(
        f"{path.name}: the PDF is encrypted (password protected); save an unprotected copy"
        " and upload that",
        message_zh=f"{path.name}：PDF 已加密（需要密码），请另存为未加密的副本后再上传",
    )


def read(path: Path, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """The text layer of every page (child process): {"pages": [...], "title"}.

    Stops past `max_chars` of text (BOT_MAX_FILE_CHARS); refuses an encrypted PDF."""
    import pdfplumber
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.pdfparser import PDFSyntaxError
    from pdfplumber.utils.exceptions import PdfminerException

    from ingest.tables import pdf_pages_text

    max_chars = (options or {}).get("max_chars")
    pages: list[str] = []
    pictured: list[int] = []  # pages mostly covered by pictures (1-based)
    try:
        with pdfplumber.open(str(path)) as pdf:
            size = 0
            # tables as row sentences, a table's header carried over a page break
            texts = pdf_pages_text(pdf.pages)
            for number, (page, text) in enumerate(zip(pdf.pages, texts, strict=True), start=1):
                pages.append(text)
                if _picture_share(page) >= PICTURE_SHARE:
                    pictured.append(number)
                size += len(text)
                page.close()  # its layout objects: a long file's pages would pile up
                if max_chars is not None and size > max_chars:
                    from ingest.parsers import too_much_text

                    raise too_much_text(path.name, None, int(max_chars))
            title = str((pdf.metadata or {}).get("Title") or "")
    except (PDFPasswordIncorrect, PDFEncryptionError):
        raise _refusal_encrypted(path) from None
    except PdfminerException as exc:
        cause = exc.args[0] if exc.args else exc
        if isinstance(cause, (PDFPasswordIncorrect, PDFEncryptionError)):
            raise _refusal_encrypted(path) from None
        raise IngestError(
            f"{path.name}: not a readable PDF ({cause.__class__.__name__})",
            message_zh=f"{path.name}：无法读取的 PDF 文件",
        ) from None
    except (PDFSyntaxError, ValueError, KeyError, TypeError, AssertionError) as exc:
        raise IngestError(
            f"{path.name}: not a readable PDF ({exc.__class__.__name__})",
            message_zh=f"{path.name}：无法读取的 PDF 文件",
        ) from None
    return {"pages": pages, "title": title.strip(), "pictured": pictured}


def _picture_share(page: Any) -> float:
    """How much of the page its pictures cover (0–1; overlaps counted once at most)."""
    area = float(page.width * page.height) or 1.0
    covered = 0.0
    for image in page.images:
        x0, x1 = max(0.0, float(image["x0"])), min(float(page.width), float(image["x1"]))
        top, bottom = max(0.0, float(image["top"])), min(float(page.height), float(image["bottom"]))
        covered += max(0.0, x1 - x0) * max(0.0, bottom - top)
    return min(1.0, covered / area)


def render(path: Path, options: dict[str, Any]) -> list[str]:
    """Render the given pages (1-based) to PNG files in `folder` (child process)."""
    import pypdfium2 as pdfium

    folder = Path(options["folder"])
    dpi = float(options.get("dpi") or RENDER_DPI)
    out: list[str] = []
    pdf = pdfium.PdfDocument(str(path))
    try:
        for number in options["pages"]:
            page = pdf[number - 1]
            width, height = page.get_size()  # points
            scale = dpi / 72
            scale = min(scale, MAX_RENDER_SIDE / max(width, height, 1))
            image = page.render(scale=scale, grayscale=True).to_pil()
            target = folder / f"page-{number:04d}.png"
            image.save(target)
            out.append(target.name)
            page.close()
    finally:
        pdf.close()
    return out


def parse(
    path: Path, max_chars: int | None, context: Any
) -> tuple[list[str], str, dict[int, float], list[IngestError]]:
    """(the text of each page, the PDF's title, {page: OCR confidence}, notes) — `context` is
    an `ingest.ocr.OcrContext` or None (no OCR: scanned pages stay empty)."""
    from ingest import ocr
    from ingest.isolate import convert

    layer = convert(
        "ingest.pdf:read",
        path,
        timeout_s=READ_TIMEOUT_S,
        memory_mb=READ_MEMORY_MB,
        options={"max_chars": max_chars},
    )
    pages = [str(p) for p in layer["pages"]]
    title = str(layer.get("title") or "")
    notes: list[IngestError] = []
    pictured = {int(n) for n in layer.get("pictured", [])}
    scanned = [
        n
        for n, text in enumerate(pages, start=1)
        if visible_chars(text) < MIN_PAGE_CHARS
        or (n in pictured and visible_chars(text) < PICTURE_PAGE_CHARS)
    ]
    if not scanned:
        return pages, title, {}, notes
    if context is None or not ocr.available():
        if all(visible_chars(p) == 0 for p in pages):
            raise IngestError(
                f"{path.name}: a scanned PDF (no text layer), and OCR is not available",
                message_zh=f"{path.name}：这是扫描件（没有文字层），当前未启用文字识别（OCR）",
            )
        return pages, title, {}, notes
    if len(scanned) > context.max_pages:
        left = len(scanned) - context.max_pages
        notes.append(
            IngestError(
                f"{path.name}: {len(scanned)} scanned pages; only the first {context.max_pages}"
                f" were read (BOT_OCR_MAX_PAGES), {left} skipped",
                message_zh=f"{path.name}：共有 {len(scanned)} 页扫描页，只识别了前"
                f" {context.max_pages} 页（见设置 BOT_OCR_MAX_PAGES），其余 {left} 页未识别",
            )
        )
        scanned = scanned[: context.max_pages]
    with tempfile.TemporaryDirectory(prefix="bot-ocr-") as tmp:
        names = convert(
            "ingest.pdf:render",
            path,
            timeout_s=READ_TIMEOUT_S + 2 * len(scanned),
            memory_mb=READ_MEMORY_MB,
            options={"folder": tmp, "pages": scanned, "dpi": RENDER_DPI},
        )
        images = [(n, Path(tmp) / name) for n, name in zip(scanned, names, strict=True)]
        read_pages = ocr.ocr_images(path.name, images, context)
    confidences: dict[int, float] = {}
    for number, found in read_pages.items():
        if visible_chars(found.text) > visible_chars(pages[number - 1]):
            pages[number - 1] = found.text
            confidences[number] = found.confidence
    for number, exc in sorted(context.failed.items()):
        notes.append(
            IngestError(
                f"{path.name}: page {number} could not be read: {exc.message}",
                message_zh=f"{path.name}：第 {number} 页无法识别：{exc.message_zh}",
            )
        )
    context.failed.clear()
    return pages, title, confidences, notes
