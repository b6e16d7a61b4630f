"""Tables as sentences: one per row, repeating the column headers.

A row of 人才类别 | 一次性安家补贴 | 每月租房补贴 reading 博士 | 6万元 | 3000元 becomes
「博士：一次性安家补贴6万元，每月租房补贴3000元。」, so a question about one row finds that
row's sentence and an answer quotes it whole (a table flattened to "a | b | c" lines loses
which number belongs to which column).

Cells are strings; `None` marks a cell covered by a merged neighbour (what pdfplumber and
openpyxl give, and what `docx_rows` makes of Word's spans): in a header it takes the text on
its left, in the row-label columns the text above.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

# Header cells of a serial-number column: the row's label is then the next column.
_SERIAL_HEADERS = {"序号", "编号", "序", "no", "no.", "#", "顺序号", "排序"}
_SERIAL = re.compile(r"^[（(]?\d{1,4}[)）.、]?$")
_NUMERIC = re.compile(
    r"^[-+−]?[¥￥$]?\d[\d,，.]*\s*(%|％|‰|元|万元|亿元|千元|万|亿|人|个|家|户|年|月|日|天|"
    r"个工作日|平方米|㎡|m²|亩|次|项|倍|小时)?$"
)
# Values standing for "nothing here": the field is left out of the sentence.
_BLANK = {"", "-", "--", "—", "——", "/", "／", "\\", "–", "－", "空", "N/A", "n/a"}
# A header ending in its unit: 补贴金额（万元） + 6 → 补贴金额6万元
_UNIT_HEADER = re.compile(r"^(.+?)\s*[（(]\s*([^（()）]{1,6})\s*[)）]$")
_CJK = r"\u3400-\u9fff\uf900-\ufaff"
FIELDS_PER_SENTENCE = 6  # a wider row is said in several sentences, each naming its label
_END_PUNCT = "。；;，,、：:"


def clean_cell(value: object) -> str:
    """A cell's text on one line: wrapped lines joined (no space between Chinese characters)."""
    if value is None:
        return ""
    text = str(value).replace("\u3000", " ").strip()
    if "\n" in text or "\r" in text:
        parts = [p.strip() for p in re.split(r"[\r\n]+", text) if p.strip()]
        text = ""
        for part in parts:
            if text and not (
                re.search(f"[{_CJK}，。、；：）]$", text) or re.match(f"[{_CJK}]", part)
            ):
                text += " "
            text += part
    return re.sub(r"[ \t]+", " ", text)


def _is_number(text: str) -> bool:
    return bool(_NUMERIC.match(text.replace(" ", "")))


def _grid(rows: Sequence[Sequence[object]]) -> list[list[str | None]]:
    """Rectangular rows (None kept as the merge mark), with empty rows and columns removed."""
    width = max((len(r) for r in rows), default=0)
    grid: list[list[str | None]] = []
    for row in rows:
        cells: list[str | None] = [None if c is None else clean_cell(c) for c in row]
        cells += [None] * (width - len(cells))
        if any(c for c in cells):
            grid.append(cells)
    keep = [j for j in range(width) if any(r[j] for r in grid)]
    return [[r[j] for j in keep] for r in grid]


def _looks_like_header(row: list[str | None]) -> bool:
    """Short labels, no numbers: a header row (a first row holding data is not)."""
    texts = [c for c in row if c]
    if len(texts) < 2 or len(texts) < (len(row) + 1) // 2:
        return False
    # 2025年 and 3月 head columns; 6万元 and 3000 are data
    return all(
        len(t) <= 24 and not (_is_number(t) and not re.search("[年月日]$", t)) and t[-1] != "。"
        for t in texts
    )


def _spans(row: list[str | None]) -> bool:
    """Whether a header row has a cell spanning columns (a merge mark or repeated text)."""
    return any(
        row[j] is None or (row[j] and row[j] == row[j - 1]) for j in range(1, len(row))
    ) and bool(row[0])


def _fill_left(row: list[str | None]) -> list[str]:
    out: list[str] = []
    for j, cell in enumerate(row):
        out.append(cell if cell else (out[j - 1] if j and cell is None else ""))
    return out


def _headers(grid: list[list[str | None]]) -> tuple[list[str], int]:
    """The column headers and how many rows they take (0: the table has none)."""
    if not grid or not _looks_like_header(grid[0]):
        return [], 0
    top = _fill_left(grid[0])
    used = 1
    # A second header row under a spanning cell: 补贴标准 over 安家补贴 | 租房补贴.
    if len(grid) > 2 and _spans(grid[0]) and _looks_like_header(grid[1]):
        below = grid[1]
        headers = []
        for j, parent in enumerate(top):
            child = below[j] or ""
            if not child or child == parent:
                headers.append(parent)
            elif not parent:
                headers.append(child)
            else:  # 补贴标准 over 安家补贴 → 补贴标准安家补贴; 2025年 over 申报数 → 2025年申报数
                headers.append(f"{parent}{child}")
        return headers, 2
    return top, used


def _label_column(headers: list[str], body: list[list[str | None]]) -> int:
    """The column naming each row: the first, or the next when the first is 序号."""
    width = len(body[0]) if body else len(headers)
    if width < 2:
        return 0
    first = headers[0].strip().lower() if headers else ""
    values = [r[0] for r in body if r[0]]
    return 1 if width > 2 and (first in _SERIAL_HEADERS or _counts(values, len(body))) else 0


def _counts(values: list[str], rows: int) -> bool:
    """1, 2, 3 … (or 34, 35 … on a continued page) down most rows: serial numbers, not years
    or amounts."""
    if not values or len(values) < max(2, rows // 2) or not all(_SERIAL.match(v) for v in values):
        return False
    numbers = [int(re.sub(r"\D", "", v)) for v in values]
    steps = sum(1 for a, b in zip(numbers, numbers[1:], strict=False) if b == a + 1)
    return numbers[0] < 1000 and steps >= len(numbers) - 1 - len(numbers) // 5


def _field(header: str, value: str) -> str:
    value = value.rstrip(_END_PUNCT)
    if not header or header == value:
        return value
    unit = _UNIT_HEADER.match(header)
    if unit and _is_number(value) and not re.search(r"[^\d.,，%\s]", value):
        return f"{unit.group(1)}{value}{unit.group(2)}"
    if _is_number(value) or re.match(r"^(约|最高|不超过|不低于|不少于|每[人年月户]|\d)", value):
        return f"{header}{value}"
    return f"{header}：{value}"


def row_sentences(rows: Sequence[Sequence[object]]) -> list[str]:
    """One sentence per data row of a table, each repeating the column headers.

    The first row is the header when it reads like one (short labels, no numbers), two rows
    when a header cell spans columns. A header row repeated inside the table (a table that
    continues on the next page) is skipped.
    """
    grid = _grid(rows)
    if not grid:
        return []
    width = len(grid[0])
    if width == 1:
        return [c for r in grid for c in r if c]
    titles: list[str] = []
    while len(grid) > 1 and width > 2 and len({c for c in grid[0] if c}) == 1:
        titles.append(next(c for c in grid[0] if c))  # a caption row spanning the table
        grid = grid[1:]
    if titles:
        return titles + row_sentences(grid)
    if width == 2:  # a two-column table is a list of label → value
        return _pairs(grid)
    headers, used = _headers(grid)
    body = grid[used:]
    if not body:  # a header alone is no more than a line of text
        return ["，".join(h for h in dict.fromkeys(headers) if h)]
    label = _label_column(headers, body)
    out: list[str] = []
    above: list[str] = [""] * width
    header_line = [h or "" for h in headers]
    for row in body:
        if headers and [c or "" for c in _fill_left(row)] == header_line:
            continue  # the header again (a page break inside the table)
        cells = [c or "" for c in row]
        for j in range(label + 1):  # merged label cells take the text above
            if row[j] is None or (not row[j] and any(cells[label + 1 :])):
                cells[j] = above[j]
        above = cells
        texts = [c for c in cells if c not in _BLANK]
        if len(dict.fromkeys(texts)) == 1:  # a row spanning the table: a group heading
            out.append(texts[0])
            continue
        name = cells[label]
        if headers and "年" in headers[label] and re.fullmatch(r"(19|20)\d{2}", name):
            name += "年"  # 年份 | 企业数 over 2024 | 120 → 2024年：企业数120
        # columns before the label (序号) are left out; group columns before it kept in front
        prefix = [cells[j] for j in range(label) if cells[j] and not _SERIAL.match(cells[j])]
        subject = "".join(dict.fromkeys([*prefix, name])) if name else ""
        fields = []
        for j in range(label + 1, width):
            value = cells[j]
            if value in _BLANK:
                continue
            fields.append(_field(headers[j] if headers else "", value))
        fields = list(dict.fromkeys(fields))  # a value merged across columns said once
        if not fields:
            if subject:
                out.append(subject.rstrip(_END_PUNCT) + "。")
            continue
        for start in range(0, len(fields), FIELDS_PER_SENTENCE):
            part = "，".join(fields[start : start + FIELDS_PER_SENTENCE])
            out.append(f"{subject}：{part}。" if subject else f"{part}。")
    return out


def _pairs(grid: list[list[str | None]]) -> list[str]:
    out = []
    start = 1 if _looks_like_header(grid[0]) and len(grid) > 1 and _generic_pair(grid[0]) else 0
    above = ""
    for row in grid[start:]:
        key = row[0] if row[0] is not None else above
        above = key or ""
        value = (row[1] or "").rstrip(_END_PUNCT)
        if not key:
            out.append(value + "。" if value else "")
        elif value in _BLANK:
            out.append(key)
        elif key == value:
            out.append(key)
        else:
            out.append(f"{key}：{value}。")
    return [s for s in out if s]


def _generic_pair(row: list[str | None]) -> bool:
    """项目 | 内容: a header naming the columns of a label → value table."""
    words = {"项目", "内容", "名称", "事项", "类别", "说明", "要求", "标准", "备注", "指标", "数值"}
    return all((c or "") in words or len(c or "") <= 4 for c in row)


def table_text(rows: Sequence[Sequence[object]]) -> str:
    """The table's row sentences, one per line."""
    return "\n".join(row_sentences(rows))


# --- Word -------------------------------------------------------------------------------


def docx_rows(table: Any) -> list[list[str | None]]:
    """A python-docx table's cells row by row, a cell spanning columns or rows given once
    (the other grid positions None)."""
    rows: list[list[str | None]] = []
    previous: list[Any] = []
    for row in table.rows:
        cells = list(row.cells)
        out: list[str | None] = []
        for j, cell in enumerate(cells):
            tc = cell._tc
            spans_left = j > 0 and cells[j - 1]._tc is tc
            spans_down = j < len(previous) and previous[j]._tc is tc
            out.append(None if spans_left or spans_down else cell.text)
        rows.append(out)
        previous = cells
    return rows


# --- PDF --------------------------------------------------------------------------------


def pdf_page_text(page: Any, carry: list[list[str | None]] | None = None) -> str:
    """A pdfplumber page's text in reading order, each table replaced by its row sentences.

    Text outside the tables is read band by band between them (by y position), text beside
    a table before it. `carry`: the previous page's last table rows, so a table continued
    on this page without its header repeated still gets the header (see `pdf_pages_text`).
    """
    return _page_text(page, carry)[0]


def pdf_pages_text(pages: Iterable[Any]) -> Iterator[str]:
    """`pdf_page_text` of each page, a table's header carried over a page break."""
    carry: list[list[str | None]] | None = None
    for page in pages:
        text, carry = _page_text(page, carry)
        yield text


def _page_text(
    page: Any, carry: list[list[str | None]] | None
) -> tuple[str, list[list[str | None]] | None]:
    found = sorted(page.find_tables(), key=lambda t: (t.bbox[1], t.bbox[0]))
    # at least two rows and two columns: a ruled box around a paragraph is not a table
    tables = [
        (t.bbox, rows)
        for t in found
        if len(rows := t.extract()) >= 2 and max((len(r) for r in rows), default=0) >= 2
    ]
    if not tables:
        return (page.extract_text() or "").strip(), None
    boxes = [bbox for bbox, _ in tables]

    def outside(obj: dict[str, Any]) -> bool:
        x = (obj["x0"] + obj["x1"]) / 2
        y = (obj["top"] + obj["bottom"]) / 2
        return not any(b[0] <= x <= b[2] and b[1] <= y <= b[3] for b in boxes)

    def band(y0: float, y1: float) -> str:
        def keep(obj: dict[str, Any]) -> bool:
            y = (obj["top"] + obj["bottom"]) / 2
            return y0 <= y < y1 and outside(obj)

        return (page.filter(keep).extract_text() or "").strip()

    parts: list[str] = []
    cursor = float(page.bbox[1])
    last_rows: list[list[str | None]] | None = None
    for n, (bbox, rows) in enumerate(tables):
        top, bottom = float(bbox[1]), float(bbox[3])
        if top > cursor:
            parts.append(band(cursor, top))
        beside = band(max(top, cursor), bottom)  # text next to the table, same height
        if beside:
            parts.append(beside)
        # above a continued table: nothing, or a running header or page number (two short
        # lines at most; strip_running_lines removes them later)
        above = [line for part in parts for line in part.splitlines() if line.strip()]
        furniture = len(above) <= 2 and all(len(line) <= 40 for line in above)
        if n == 0 and carry and furniture and _continues(rows, carry):
            headers, used = _headers(_grid(carry))
            if used:
                rows = [list(h) for h in _grid(carry)[:used]] + list(rows)
        parts.append(table_text(rows))
        last_rows = rows
        cursor = max(cursor, bottom)
    parts.append(band(cursor, float(page.bbox[3]) + 1))
    tail = parts[-1]
    # the header carries on only when the table ends the page (no body text after it)
    carry_out = last_rows if last_rows and len(tail) < 20 else None
    return "\n".join(p for p in parts if p), carry_out


def _continues(rows: list[list[Any]], previous: list[list[str | None]]) -> bool:
    """A table continuing the previous page's: as many columns, no header of its own."""
    grid = _grid(rows)
    before = _grid(previous)
    return (
        bool(grid)
        and bool(before)
        and len(grid[0]) == len(before[0])
        and not _looks_like_header(grid[0])
    )
