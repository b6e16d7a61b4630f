"""Reading order for OCR output: boxes of text from any engine (RapidOCR's quadrilaterals,
tesseract's TSV words) put top-to-bottom, and on a two-column page the left column before
the right one, with lines that span both columns (titles, red headers, signatures) kept in
their place between the column sections.

Pure Python, no OCR dependency: an engine adapter turns its result into `Box` tuples.
"""

from __future__ import annotations

from typing import NamedTuple


class Box(NamedTuple):
    """An axis-aligned box around one piece of recognised text (pixels, y down)."""

    x0: float
    y0: float
    x1: float
    y1: float
    text: str


def split_at_gaps(words: list[Box], gap: float = 1.5) -> list[Box]:
    """One engine line (word boxes, any order) as one box per run of words, cut where the
    space between two neighbouring words is wider than `gap` × the line's height — an engine
    that ran a line across a column gutter gives back one box per column."""
    words = sorted((w for w in words if w.text.strip()), key=lambda w: w.x0)
    if not words:
        return []
    height = max(w.y1 - w.y0 for w in words)
    runs: list[list[Box]] = [[words[0]]]
    for w in words[1:]:
        if w.x0 - max(r.x1 for r in runs[-1]) > gap * height:
            runs.append([w])
        else:
            runs[-1].append(w)
    return [
        Box(
            min(w.x0 for w in run),
            min(w.y0 for w in run),
            max(w.x1 for w in run),
            max(w.y1 for w in run),
            "".join(w.text for w in run),
        )
        for run in runs
    ]


def _find_gutter(boxes: list[Box]) -> float | None:
    """The x of an empty vertical band between two columns, or None for a single column.

    A gutter is an x in the middle 30–70 % of the text's width that no more than a fifth of
    the boxes cross (those are the spanning lines), with at least three boxes wholly on each
    side; of the candidates the one crossed by the fewest boxes, nearest the middle, wins."""
    if len(boxes) < 6:
        return None
    left = min(b.x0 for b in boxes)
    right = max(b.x1 for b in boxes)
    width = right - left
    if width <= 0:
        return None
    best: tuple[int, float, float] | None = None
    middle = left + width / 2
    steps = 80
    for i in range(int(steps * 0.3), int(steps * 0.7) + 1):
        x = left + width * i / steps
        crossing = sum(1 for b in boxes if b.x0 < x < b.x1)
        on_left = sum(1 for b in boxes if b.x1 <= x)
        on_right = sum(1 for b in boxes if b.x0 >= x)
        if crossing > len(boxes) / 5 or on_left < 3 or on_right < 3:
            continue
        key = (crossing, abs(x - middle), x)
        if best is None or key < best:
            best = key
    return None if best is None else best[2]


def _lines(boxes: list[Box]) -> list[list[Box]]:
    """Boxes grouped into text lines (a box joins a line when its vertical centre lies within
    the line's first box's height), lines top-to-bottom, boxes left-to-right."""
    lines: list[list[Box]] = []
    for b in sorted(boxes, key=lambda b: (b.y0 + b.y1) / 2):
        centre = (b.y0 + b.y1) / 2
        if lines:
            first = lines[-1][0]
            half = max(first.y1 - first.y0, 1) / 2
            if abs(centre - (first.y0 + first.y1) / 2) <= half:
                lines[-1].append(b)
                continue
        lines.append([b])
    return [sorted(line, key=lambda b: b.x0) for line in lines]


def reading_order(boxes: list[Box], joiner: str = "") -> list[str]:
    """The text lines of a page in reading order.

    Single column: lines top-to-bottom. Two columns (a gutter found from the boxes' x
    positions): going down the page, every run of column boxes between two spanning lines is
    read left column first, then right column; the spanning lines stay where they are."""
    boxes = [b for b in boxes if b.text.strip()]
    gutter = _find_gutter(boxes)
    if gutter is None:
        return [joiner.join(b.text for b in line) for line in _lines(boxes)]
    out: list[str] = []
    section: list[Box] = []

    def flush() -> None:
        left = [b for b in section if (b.x0 + b.x1) / 2 < gutter]
        right = [b for b in section if (b.x0 + b.x1) / 2 >= gutter]
        for column in (left, right):
            out.extend(joiner.join(b.text for b in line) for line in _lines(column))
        section.clear()

    for b in sorted(boxes, key=lambda b: (b.y0 + b.y1) / 2):
        if b.x0 < gutter < b.x1:
            flush()
            out.append(b.text)
        else:
            section.append(b)
    flush()
    return out
