"""Builders for real files of every supported format (used by several test modules)."""

from __future__ import annotations

import csv
from pathlib import Path


def write_markdown(
    path: Path, doc_id: str, title: str, body: str, category: str = "人才政策"
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"---\nid: {doc_id}\ntitle: {title}\ncategory: {category}\ndepartment: 区人才工作局\n"
        f"updated: 2026-05-08\ncontact: 027-5000-0001\nsample: true\n---\n# {title}\n{body}\n",
        encoding="utf-8",
    )
    return path


def write_docx(path: Path, title: str, sections: dict[str, str]) -> Path:
    import docx

    document = docx.Document()
    document.add_heading(title, level=0)
    for heading, text in sections.items():
        document.add_heading(heading, level=1)
        document.add_paragraph(text)
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "咨询电话"
    table.rows[0].cells[1].text = "027-5000-0002"
    document.save(str(path))
    return path


def write_pdf(path: Path, lines: list[str], title: str | None = None) -> Path:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    c = canvas.Canvas(str(path))
    if title:
        c.setTitle(title)
    c.setFont("STSong-Light", 12)
    y = 760
    for line in lines:
        c.drawString(60, y, line)
        y -= 20
    c.save()
    return path


def write_csv(
    path: Path,
    rows: list[tuple[str, ...]],
    header: tuple[str, ...] = ("question", "answer", "category"),
) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_xlsx(
    path: Path, rows: list[tuple[str, ...]], header: tuple[str, ...] = ("question", "answer")
) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(list(header))
    for row in rows:
        ws.append(list(row))
    wb.save(str(path))
    return path
