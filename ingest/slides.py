"""The text of a PowerPoint .pptx, slide by slide (python-pptx), run through `ingest.isolate`.

Each slide becomes a Markdown heading "## 第N页 <its title>" followed by its text in reading
order (shapes top to bottom, then left to right; groups opened), a table's rows as sentences
repeating the column headers like a .docx table's (ingest/tables.py), and the speaker notes as "备注：…". The package was
checked against zip bombs by the parent (`check_zip`) before this child process was started;
here the child's memory and time limits stop what the directory did not reveal.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bot.errors import IngestError

MAX_SLIDES = 2000


def _shapes(shapes: Any) -> Iterator[Any]:
    """Shapes in reading order, the members of groups in their place."""
    ordered = sorted(shapes, key=lambda s: ((s.top or 0) // 45720, s.left or 0))  # 0.05 in rows
    for shape in ordered:
        if getattr(shape, "shapes", None) is not None and shape.shape_type == 6:  # a group
            yield from _shapes(shape.shapes)
        else:
            yield shape


def _shape_lines(shape: Any) -> list[str]:
    lines: list[str] = []
    if getattr(shape, "has_table", False) and shape.has_table:
        from ingest.tables import row_sentences

        rows = [[c.text.strip() for c in row.cells] for row in shape.table.rows]
        lines.extend(row_sentences(rows))
    elif getattr(shape, "has_text_frame", False) and shape.has_text_frame:
        for para in shape.text_frame.paragraphs:
            text = "".join(run.text for run in para.runs).strip() or para.text.strip()
            if text:
                lines.append(text)
    return lines


def read(path: Path) -> dict[str, str]:
    """`{"title", "text"}` of the presentation."""
    import pptx
    from pptx.exc import PackageNotFoundError

    try:
        deck = pptx.Presentation(str(path))
    except (PackageNotFoundError, KeyError, ValueError, OSError) as exc:
        raise IngestError(
            f"{path.name}: not a readable .pptx file ({exc.__class__.__name__})",
            message_zh=f"{path.name}：无法读取的 PowerPoint 文件",
        ) from exc
    if len(deck.slides) > MAX_SLIDES:
        raise IngestError(
            f"{path.name}: more than {MAX_SLIDES} slides",
            message_zh=f"{path.name}：幻灯片超过 {MAX_SLIDES} 页",
        )
    first_title = ""
    out: list[str] = []
    for number, slide in enumerate(deck.slides, start=1):
        title_shape = slide.shapes.title
        title = " ".join(title_shape.text.split()) if title_shape is not None else ""
        first_title = first_title or title
        body: list[str] = []
        for shape in _shapes(slide.shapes):
            if title_shape is not None and shape.shape_id == title_shape.shape_id:
                continue
            body.extend(_shape_lines(shape))
        if slide.has_notes_slide:
            notes = slide.notes_slide.notes_text_frame
            text = notes.text.strip() if notes is not None else ""
            if text:
                body.append("备注：" + " ".join(text.split()))
        if title or body:
            out.append(f"## 第{number}页 {title}".rstrip())
            out.extend(body)
            out.append("")
    props_title = (deck.core_properties.title or "").strip()
    return {"title": props_title or first_title, "text": "\n".join(out).strip()}
