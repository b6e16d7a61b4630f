"""OCR of page images: scanned PDF pages and photographed notices (issue #16).

The engine is RapidOCR (`rapidocr-onnxruntime`), whose PP-OCRv4 Chinese detection and
recognition models ship inside its wheel, so nothing is downloaded at run time. On 20
generated notice pages it read 99.2 % of the characters, tesseract's chi_sim 87.8 %
(docs/EVALUATION.md, `bench/ocr.py`).

Every page is recognised in a child process (ingest/isolate.py) with a memory and a time
limit, one page at a time, so a hostile image cannot take the server down and a long scan
shows progress page by page. What a page gave is kept in the records database by the hash
of the page image and the engine (`ocr_pages`): the same page is never recognised twice.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from tqdm import tqdm

from bot.errors import IngestError

log = logging.getLogger(__name__)

ENGINE = "rapidocr-1.4.4-ppocrv4"  # part of the cache key: another engine reads again
# An image may claim at most this many pixels (a 50,000 × 50,000 PNG is 2.5 billion):
# A4 at 600 dpi is 35 million, a 50-megapixel photo 50 million.
MAX_PIXELS = 80_000_000
# Larger images are scaled down before recognition: the models gain nothing from more
# than ~300 dpi on A4, and time grows with the pixels.
MAX_SIDE = 3500
PAGE_TIMEOUT_S = 240.0
PAGE_MEMORY_MB = 2560  # RapidOCR peaked at 1.1 GB on an A4 page at 200 dpi
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


@dataclass(frozen=True)
class PageText:
    """What OCR read off one page: lines in reading order and the mean confidence (0–1)."""

    text: str
    confidence: float


class OcrCache(Protocol):
    def ocr_pages(self, keys: Iterable[str]) -> dict[str, tuple[str, float]]: ...

    def put_ocr_page(self, key: str, text: str, confidence: float) -> None: ...


@dataclass
class OcrContext:
    """What the parsers need to OCR: the page limit, the cache and whether to show progress."""

    max_pages: int = 200
    cache: OcrCache | None = None
    progress: bool = False
    # called after each page: (file name, page number, pages done, pages to do)
    on_page: Callable[[str, int, int, int], None] | None = None
    recognised: int = field(default=0)  # pages OCRed (not from the cache) by this context
    cached: int = field(default=0)
    failed: dict[int, IngestError] = field(default_factory=dict)  # page → why it was skipped


def available() -> bool:
    """Whether the OCR engine is installed."""
    import importlib.util

    return importlib.util.find_spec("rapidocr_onnxruntime") is not None


def image_size(path: Path) -> tuple[int, int]:
    """Width and height from the image's header, without decoding it; IngestError for an
    unreadable image or one claiming more than MAX_PIXELS (an image bomb)."""
    import warnings

    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # checked below
            with Image.open(path) as img:
                width, height = img.size
    except Image.DecompressionBombError as exc:  # Pillow's own guard: twice its limit
        claimed = re.search(r"\((\d+) pixels\)", str(exc))
        said = f"{int(claimed.group(1)):,}" if claimed else "too many"
        raise IngestError(
            f"{path.name}: the image claims {said} pixels, more than"
            f" {MAX_PIXELS // 1_000_000} million (an image bomb?); refused",
            message_zh=f"{path.name}：图片声称有 {said} 像素，超过"
            f" {MAX_PIXELS // 1_000_000} 百万像素上限，已拒绝",
        ) from None
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise IngestError(
            f"{path.name}: not a readable image ({exc.__class__.__name__})",
            message_zh=f"{path.name}：图片已损坏或格式无法识别",
        ) from None
    if width * height > MAX_PIXELS:
        raise IngestError(
            f"{path.name}: the image claims {width:,} × {height:,} pixels, more than"
            f" {MAX_PIXELS // 1_000_000} million (an image bomb?); refused",
            message_zh=f"{path.name}：图片尺寸为 {width:,} × {height:,} 像素，超过"
            f" {MAX_PIXELS // 1_000_000} 百万像素上限，已拒绝",
        )
    return width, height


def page_key(path: Path) -> str:
    """The cache key of a page image: the engine and the hash of the image file's bytes."""
    return f"{ENGINE}:{hashlib.sha256(path.read_bytes()).hexdigest()}"


def recognise(path: Path, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """OCR one image (run in the child process): {"text", "confidence"}."""
    import numpy as np
    from PIL import Image, ImageOps

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    image_size(path)
    try:
        with Image.open(path) as opened:
            img = ImageOps.exif_transpose(opened).convert("RGB")
    except (OSError, ValueError, SyntaxError) as exc:  # truncated or corrupt pixel data
        raise IngestError(
            f"{path.name}: the image data is damaged ({exc.__class__.__name__})",
            message_zh=f"{path.name}：图片数据已损坏，无法识别",
        ) from None
    side = max(img.size)
    if side > MAX_SIDE:
        scale = MAX_SIDE / side
        img = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))))
    pixels = np.asarray(img)[:, :, ::-1]  # RapidOCR reads OpenCV's BGR order
    threads = int((options or {}).get("threads") or min(2, os.cpu_count() or 1))
    from rapidocr_onnxruntime import RapidOCR

    from ingest.ocr_layout import Box, reading_order

    engine = RapidOCR(intra_op_num_threads=threads, inter_op_num_threads=1)
    result, _ = engine(pixels)
    boxes: list[Box] = []
    weight = 0.0
    total = 0
    for quad, text, score in result or []:
        xs = [float(pt[0]) for pt in quad]
        ys = [float(pt[1]) for pt in quad]
        boxes.append(Box(min(xs), min(ys), max(xs), max(ys), str(text)))
        weight += float(score) * len(text)
        total += len(text)
    return {
        "text": "\n".join(reading_order(boxes)),
        "confidence": round(weight / total, 4) if total else 0.0,
    }


def ocr_images(
    name: str, images: list[tuple[int, Path]], context: OcrContext
) -> dict[int, PageText]:
    """OCR page images ((page number, image file) pairs), from the cache where it has them,
    page by page with a progress bar; {page number: PageText}."""
    from ingest.isolate import convert

    keys = {n: page_key(p) for n, p in images}
    known = context.cache.ocr_pages(keys.values()) if context.cache else {}
    out: dict[int, PageText] = {}
    bar = tqdm(
        total=len(images),
        desc=f"OCR {name}"[:40],
        unit="页",
        disable=not context.progress or not images,
    )
    try:
        for done, (number, image) in enumerate(images, start=1):
            key = keys[number]
            if key in known:
                text, confidence = known[key]
                context.cached += 1
            else:
                started = time.perf_counter()
                try:
                    result = convert(
                        "ingest.ocr:recognise",
                        image,
                        timeout_s=PAGE_TIMEOUT_S,
                        memory_mb=PAGE_MEMORY_MB,
                        options={},
                    )
                except IngestError as exc:  # this page only: the others are still read
                    context.failed[number] = exc
                    result = None
                if result is not None:
                    text, confidence = str(result["text"]), float(result["confidence"])
                    context.recognised += 1
                    if context.cache:
                        context.cache.put_ocr_page(key, text, confidence)
                    log.debug("OCR %s page %d: %.1f s", name, number, time.perf_counter() - started)
            if number not in context.failed:
                out[number] = PageText(text, confidence)
            bar.update(1)
            if context.on_page:
                context.on_page(name, number, done, len(images))
    finally:
        bar.close()
    return out


def pages_json(confidences: dict[int, float]) -> str:
    """The `ocr_pages` field of a document: [[page, confidence], …] as JSON."""
    return json.dumps([[n, round(c, 3)] for n, c in sorted(confidences.items())])
