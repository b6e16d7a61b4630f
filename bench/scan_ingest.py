"""A scanned PDF through the real ingest: how long a 30-page 盖章扫描件 takes, how much memory
it needs, and how much of its text comes out right.

    python bench/scan_ingest.py [--pages 30] [--keep DIR]

Makes the pages of `bench/ocr.py` (A4 at 200 dpi with known text: single-column,
two-column and scan-like pages with red headers and stamps), puts them into one PDF as
pictures with no text layer (reportlab), and runs `python -m ingest` on it in a fresh data
folder — the same command staff run, with the OCR cache empty. Then runs it again on a copy
of the file under another name: every page comes from the OCR cache. Prints wall time,
pages per second, the peak RSS of the largest process (the ingest itself, or an OCR child),
and the character accuracy of the indexed text against the known text (whitespace
removed, NFKC), page by page as the passages cite them.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import ocr as pages_bench  # noqa: E402  (bench/ocr.py: the page generator and the metric)


def make_pdf(path: Path, count: int) -> list[str]:
    """The PDF of `count` generated pages; the known text of each."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    with tempfile.TemporaryDirectory() as tmp:
        pages = pages_bench.generate(Path(tmp), count)
        c = canvas.Canvas(str(path), pagesize=A4)
        for page in pages:
            with open(page["path"], "rb") as fh:
                c.drawImage(ImageReader(io.BytesIO(fh.read())), 0, 0, width=A4[0], height=A4[1])
            c.showPage()
        c.save()
    return [p["ref"] for p in pages]


def _pairs(text: str) -> set[str]:
    s = pages_bench.squash(text, nfkc=True)
    return {s[i : i + 2] for i in range(len(s) - 1)}


def ingest(data: Path, folder: Path) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "ingest", "--data-dir", str(data), str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    if done.returncode:
        sys.exit(f"ingest failed:\n{done.stderr[-3000:]}")
    return seconds, done.stdout.strip().splitlines()[-1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=30)
    ap.add_argument("--keep", help="keep the PDF and the data folder here")
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory()
    work = Path(args.keep or tmp.name)
    folder = work / "kb"
    folder.mkdir(parents=True, exist_ok=True)
    pdf = folder / "扫描件.pdf"
    t = time.perf_counter()
    refs = make_pdf(pdf, args.pages)
    print(
        f"{args.pages} pages → {pdf.name} ({pdf.stat().st_size // 1024} KB) in {time.perf_counter() - t:.1f} s"
    )

    data = work / "data"
    shutil.rmtree(data, ignore_errors=True)
    first, summary = ingest(data, folder)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"first ingest: {first:.1f} s, {args.pages / first:.3f} pages/s; {summary}")

    db = sqlite3.connect(data / "records.sqlite3")
    chunks = db.execute("SELECT page, text FROM chunks ORDER BY ordinal").fetchall()
    (text,) = db.execute("SELECT text FROM documents").fetchone()
    db.close()
    # a passage's page is right when no page's known text shares more of its character pairs
    # than the page it names (the generator reuses paragraphs: a tie is right)
    ref_pairs = [_pairs(ref) for ref in refs]
    right = sum(
        1
        for page, body in chunks
        if 1 <= page <= len(refs)
        and len(_pairs(body) & ref_pairs[page - 1])
        >= max(len(_pairs(body) & pairs) for pairs in ref_pairs)
    )
    e_doc, size_doc = pages_bench.accuracy("".join(refs), text, nfkc=True)

    shutil.copy(pdf, folder / "扫描件（副本）.pdf")
    again, summary_again = ingest(data, folder)
    print(f"a copy, every page from the OCR cache: {again:.1f} s; {summary_again}")
    print(
        f"\n| pages | first ingest | pages/s | peak RSS (largest process) | cached re-ingest |"
        f" character accuracy | passages citing the right page |\n"
        f"|---:|---:|---:|---:|---:|---:|---:|\n"
        f"| {args.pages} | {first:.0f} s | {args.pages / first:.3f} | {peak_mb:,.0f} MB |"
        f" {again:.1f} s | {100 * (1 - e_doc / size_doc):.1f} % | {right} of {len(chunks)} |"
    )
    print(f"\ncores: {os.cpu_count()}")


if __name__ == "__main__":
    main()
