"""Markdown to plain sentences for indexing: headings kept, tables and emphasis flattened."""

from __future__ import annotations

import re

_TABLE_RULE = re.compile(r"^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?$")
_EMPHASIS = re.compile(r"(\*\*|__|\*|`)(.+?)\1")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


_GENERIC_HEADER = re.compile(r"(标准|内容|说明|备注|要求|金额|数额|额度|详情|具体)$")
_COUNTER_HEADER = re.compile(r"^(序号|编号|No\.?|#)$", re.I)


def _row_sentence(header: list[str], row: list[str]) -> str:
    """One table row as 「label：value」: the first cell names the row, the others say what it gets.

    | 学历 | 安家补贴 | → 「博士：安家补贴6万元」; with more columns each value keeps its
    header (「A类人才：租金标准为免租金，面积上限120平方米」); a generic header (标准, 内容)
    is left out (「落户奖励：实缴注册资本1亿元以上的奖励500万元」).
    """
    cells = list(zip(header, row, strict=False))
    if len(cells) > 1 and _COUNTER_HEADER.match(cells[0][0]) and cells[0][1].isdigit():
        cells = cells[1:]  # a 序号 column carries nothing
    cells = [(h, c) for h, c in cells if c]
    if not cells:
        return ""
    label, rest = cells[0][1], cells[1:]
    if not rest:
        return f"{label}。"
    parts = []
    for h, c in rest:
        if not h or _GENERIC_HEADER.search(h) and len(rest) == 1:
            parts.append(c)
        elif c[:1].isdigit() or c.startswith(("最高", "不超过", "每", "按")):
            parts.append(f"{h}{c}")
        else:
            parts.append(f"{h}为{c}")
    return f"{label}：" + "，".join(parts) + "。"


def _table_rows(header: list[str], rows: list[list[str]]) -> list[str]:
    """Each row becomes one line of its own, so it can be found and quoted on its own."""
    return [s for s in (_row_sentence(header, row) for row in rows) if s]


def flatten(markdown: str) -> str:
    """Plain text with `#` headings preserved (the chunker splits on them)."""
    lines = markdown.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        is_table = (
            line.startswith("|") and i + 1 < len(lines) and _TABLE_RULE.match(lines[i + 1].strip())
        )
        if is_table:
            header = _cells(line)
            rows = []
            i += 2
            while i < len(lines) and lines[i].strip().startswith("|"):
                rows.append(_cells(lines[i]))
                i += 1
            out.extend(_table_rows(header, rows))
            continue
        line = re.sub(r"^>\s?", "", line)
        line = _LINK.sub(r"\1", _EMPHASIS.sub(r"\2", line))
        out.append(line)
        i += 1
    return "\n".join(out).strip()
