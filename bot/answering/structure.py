"""A document's own structure, as answers need it: sections, lines, lists and their items.

Headings are Markdown (`##`, `###`) or the official Chinese kind on a line of their own
(一、申请条件 · 第二章 支持措施 · （一）申报材料). A *block* is a run of lines that belong
together: a list (its lead-in line ending in "：" and every item: - …, 1. …, （1）…, ①…),
a run of 「label：value」 rows (a table, a contact card), or one paragraph. An answer that
quotes a block quotes it whole and keeps its lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from bot.answering.aspects import heading_aspects
from bot.text import split_sentences

_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_CN_NUMERAL = "一二三四五六七八九十"
# 第二章 / 第三条 / 第1节 alone: the number of a chapter or an article, which goes with its text
_ORDINAL = re.compile(r"^第[一二三四五六七八九十百零〇\d]+[章节条款部分编]$")
# 一、 / 第二章 / （一）: the number of an official Chinese heading
_CN_NUMBER = rf"[{_CN_NUMERAL}]{{1,3}}[、.．]|第[{_CN_NUMERAL}百零〇\d]+[章节部分编]|（[{_CN_NUMERAL}]{{1,3}}）|\([{_CN_NUMERAL}]{{1,3}}\)"
# 一、申请条件 / 第二章 支持措施 / （一）申报材料 — short, no sentence punctuation
_CN_HEADING = re.compile(rf"^(?:{_CN_NUMBER})\s*([^。；;，,！？!?]{{2,30}})$")
# the number a Markdown heading may carry too (## 二、支持内容, ## 3. 办理流程)
_NUMBERING = re.compile(rf"^(?:{_CN_NUMBER}|\d{{1,2}}[、.．](?!\d))\s*")
_SUB_HEADING = re.compile(rf"^(?:（[{_CN_NUMERAL}]{{1,3}}）|\([{_CN_NUMERAL}]{{1,3}}\))")
_ITEM = re.compile(
    r"^(?:[-*•·▪●○]\s*|\d{1,2}[.．](?!\d)\s*|\d{1,2}[、)）]\s*|[（(]\d{1,2}[)）]\s*|[①-⑳]\s*|"
    rf"（[{_CN_NUMERAL}]{{1,3}}）)"
)
_ROW = re.compile(r"^[^：:。；;！？!?]{1,24}[：:]\s*\S")
_INTRO = re.compile(r"[：:]\s*$")
# A space between two pieces of Chinese text is a paragraph break in flattened notices.
_PARAGRAPH_SPACE = re.compile(
    r"(?<=[\u3400-\u9fff”）)】。；：:])[ \t\u3000]+(?=[\u3400-\u9fff“（(【]|\d{1,2}[.．、](?!\d))"
    # 。 3以下检查项目停检：— an item numbered by a bare digit after a full stop
    r"|(?<=[。；：:！？])[ \t\u3000]+(?=\d[\u3400-\u9fff])"
)


@dataclass(frozen=True)
class Section:
    heading: str  # innermost heading ('' before the first one)
    context: str  # every heading above and including it: "支持措施 申报材料"
    aspects: frozenset[str]  # what the heading names (aspects.heading_aspects)
    start: int  # first line
    end: int  # one past the last line


@dataclass(frozen=True)
class Line:
    text: str
    section: int
    block: int
    item: bool  # a list item or a 「label：value」 row
    sentences: tuple[str, ...]


@dataclass(frozen=True)
class Layout:
    sections: tuple[Section, ...]
    lines: tuple[Line, ...]
    blocks: tuple[tuple[int, int], ...]  # (first line, one past the last) of each block

    def block_lines(self, block: int) -> tuple[Line, ...]:
        start, end = self.blocks[block]
        return self.lines[start:end]

    def section_lines(self, section: int) -> tuple[Line, ...]:
        s = self.sections[section]
        return self.lines[s.start : s.end]


def heading_of(line: str) -> tuple[int, str] | None:
    """(level, text) when the line is a heading; level 1 is the document title."""
    m = _MD_HEADING.match(line)
    if m:
        # "## 二、支持内容": the section is 支持内容, as with an unmarked 二、支持内容 line
        title = m.group(2).strip()
        return len(m.group(1)), _NUMBERING.sub("", title).strip() or title
    m = _CN_HEADING.match(line)
    if m:
        return (3 if _SUB_HEADING.match(line) else 2), m.group(1).strip()
    return None


def physical_lines(text: str) -> list[str]:
    out: list[str] = []
    for raw in text.splitlines():
        if _MD_HEADING.match(raw.strip()):
            out.append(raw.strip())  # "## 第三章 申报与审核" is one heading
            continue
        parts = [p.strip() for p in _PARAGRAPH_SPACE.split(raw.strip()) if p.strip()]
        for n, part in enumerate(parts):
            if n and _ORDINAL.match(parts[n - 1]):
                out[-1] += " " + part  # 第二章 补贴标准 · 第三条 安家补贴标准如下：
            else:
                out.append(part)
    return out


@lru_cache(maxsize=2048)
def layout(text: str) -> Layout:
    """Sections, lines and blocks of a document's text (cached: documents are immutable)."""
    sections: list[Section] = []
    lines: list[Line] = []
    raw_lines: list[tuple[str, int, bool]] = []
    stack: list[tuple[int, str]] = []
    current = -1
    for text_line in physical_lines(text):
        head = heading_of(text_line)
        if head is not None:
            level, title = head
            if level == 1:
                continue  # the document title; every answer cites it anyway
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, title))
            if current >= 0:
                sections[current] = _close(sections[current], len(raw_lines))
            sections.append(
                Section(
                    title, " ".join(t for _, t in stack), heading_aspects(title), len(raw_lines), -1
                )
            )
            current = len(sections) - 1
            continue
        if current < 0:
            sections.append(Section("", "", frozenset(), 0, -1))
            current = 0
        item = bool(_ITEM.match(text_line) or _ROW.match(text_line))
        raw_lines.append((text_line, current, item))
    if current >= 0:
        sections[current] = _close(sections[current], len(raw_lines))
    sections = [s for s in sections if s.end > s.start]
    # re-number sections after dropping empty ones
    section_of = {}
    for n, s in enumerate(sections):
        for i in range(s.start, s.end):
            section_of[i] = n
    blocks: list[tuple[int, int]] = []
    i = 0
    while i < len(raw_lines):
        sec = section_of[i]
        text_line, _, item = raw_lines[i]
        j = i + 1
        if item or (_INTRO.search(text_line) and j < len(raw_lines) and raw_lines[j][2]):
            # a list: its lead-in and every item that follows in the same section
            while j < len(raw_lines) and raw_lines[j][2] and section_of[j] == sec:
                j += 1
        blocks.append((i, j))
        i = j
    block_of = {n: b for b, (s, e) in enumerate(blocks) for n in range(s, e)}
    for n, (text_line, _, item) in enumerate(raw_lines):
        lines.append(
            Line(text_line, section_of[n], block_of[n], item, tuple(split_sentences(text_line)))
        )
    return Layout(tuple(sections), tuple(lines), tuple(blocks))


def _close(section: Section, end: int) -> Section:
    return Section(section.heading, section.context, section.aspects, section.start, end)


def render(lines: list[Line] | tuple[Line, ...]) -> str:
    """Lines as the answer shows them: one line each, as the document has them."""
    return "\n".join(line.text for line in lines)
