"""Markdown to plain sentences for indexing: headings kept, tables and emphasis flattened."""

from __future__ import annotations

import re

_TABLE_RULE = re.compile(r"^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?$")
_EMPHASIS = re.compile(r"(\*\*|__|\*|`)(.+?)\1")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _table_rows(header: list[str], rows: list[list[str]]) -> list[str]:
    """Each row becomes one sentence naming its columns, so it can be cited on its own."""
    out = []
    for row in rows:
        pairs = [f"{h}：{c}" if h and c else c for h, c in zip(header, row, strict=False) if c]
        if pairs:
            out.append("，".join(pairs) + "。")
    return out


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
