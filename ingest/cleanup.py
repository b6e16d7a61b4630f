"""Text read off pages, cleaned: running headers and page numbers, broken lines, widths.

A PDF or a scan gives each page's lines as printed: 「- 3 -」 under every page, the
document's short title over every page, a sentence broken wherever the line was full, and
digits or letters typed full-width (２０２６). Left in, the page furniture lands in the
middle of passages and the broken lines split sentences the answers quote.
"""

from __future__ import annotations

import re
from collections import Counter

# Page numbers: - 3 -, — 3 —, 第3页 共10页, 第 3 页/共 10 页, 3/10, Page 3 of 10, a lone number.
_PAGE_NUMBER = re.compile(
    r"^\s*(?:"
    r"[-—–－―~～·•]*\s*\d{1,4}\s*[-—–－―~～·•]*"
    r"|第\s*\d{1,4}\s*页\s*(?:[,，/／、]?\s*共\s*\d{1,4}\s*页)?"
    r"|共\s*\d{1,4}\s*页\s*[,，/／、]?\s*第\s*\d{1,4}\s*页"
    r"|\d{1,4}\s*[/／]\s*\d{1,4}"
    r"|page\s*\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?"
    r")\s*$",
    re.IGNORECASE,
)
# A page number set apart by dashes or 第…页 is one even on a single page; a lone number
# or 3/10 only when it is where the other pages have theirs.
_PAGE_NUMBER_SURE = re.compile(r"^\s*(?:[-—–－―]+\s*\d{1,4}\s*[-—–－―]+|第\s*\d{1,4}\s*页.*)\s*$")
EDGE_LINES = 2  # lines at the top and at the bottom of a page looked at
_DIGITS = re.compile(r"\d+")


def _shape(line: str) -> str:
    """What repeats from page to page: the line without spaces, its number masked when it
    has one (a page's own number); a line with several numbers (a table row) kept as is."""
    line = re.sub(r"\s+", "", line)
    found = _DIGITS.findall(line)
    if len(found) > 1 or any(len(n) >= 5 for n in found):
        return line  # a table row, a phone number, an amount: not a page's own number
    return _DIGITS.sub("#", line)


def _edges(lines: list[str]) -> list[int]:
    """Indexes of the first and last non-empty lines of a page (EDGE_LINES of each)."""
    filled = [i for i, line in enumerate(lines) if line.strip()]
    return sorted(set(filled[:EDGE_LINES] + filled[-EDGE_LINES:]))


def strip_running_lines(pages: list[str]) -> list[str]:
    """The pages without running headers, footers and page numbers.

    A line at the top or bottom of a page goes when the same line (numbers allowed to
    differ) is at the top or bottom of most pages, or when it is a page number.
    """
    split = [page.splitlines() for page in pages]
    counts: Counter[str] = Counter()
    for lines in split:
        counts.update({_shape(lines[i]) for i in _edges(lines)})
    filled = sum(1 for lines in split if any(line.strip() for line in lines))
    most = max(2, (filled + 1) // 2 + (1 if filled > 3 else 0))
    out = []
    for lines in split:
        drop = set()
        for i in _edges(lines):
            line = lines[i].strip()
            # a sentence (。) is text, however alike its neighbours on other pages
            repeated = filled >= 2 and counts[_shape(line)] >= most and not line.endswith("。")
            number = _PAGE_NUMBER.match(line) and (filled >= 2 or _PAGE_NUMBER_SURE.match(line))
            if repeated or number:
                drop.add(i)
        out.append("\n".join(line for i, line in enumerate(lines) if i not in drop).strip("\n"))
    return out


# Where a sentence may end: a line ending so is not joined to the next.
_ENDS = "。！？；：!?;:”」』…）)】>"
# A line starting one of these begins a heading, a list item or a new block.
_STARTS = re.compile(
    r"^\s*(?:"
    r"#|[-*+•●○■□▲△◆◇★☆√※]"
    r"|[一二三四五六七八九十百]+[、.．]"
    r"|[（(][一二三四五六七八九十\d０-９]+[)）]"
    r"|[\d０-９]+(?:[.．][\d０-９]+)*[、.．)）]"
    r"|[①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳]"
    r"|第[一二三四五六七八九十百零\d]+[条章节部分款项]"
    r"|附件|附表|附录|抄送|主题词|联系人|联系电话|印发|发布日期"
    r"|[\u3000\t]|\s{2,}"  # an indented line begins a paragraph
    r")"
)
# A document's title line (江岸区人民政府关于……的通知) or a red header (……文件).
_HEADING_LINE = re.compile(
    r"^(?:.{0,30}关于.{2,80}的(?:通知|意见|办法|决定|批复|规定|方案|函|公告|通告|报告|通报|措施|细则)"
    r"|.{2,30}文件)$"
)
_DATE_LINE = re.compile(
    r"^[\d〇零一二三四五六七八九十○Ｏ]{2,4}\s*年\s*[\d一二三四五六七八九十]{1,3}\s*月"
)


def _width(text: str) -> int:
    """Printed width: a Chinese character counts two, an ASCII one."""
    return sum(1 if ord(ch) < 0x2E80 else 2 for ch in text)


def join_broken_lines(text: str) -> str:
    """Lines broken inside a sentence joined back.

    A line is joined to the next when it runs (nearly) the full width of the text's long
    lines and does not end a sentence, and the next line does not begin a heading, a list
    item, an indented paragraph or a block of its own. Headings, short title lines, table
    sentences (they end in 。) and Markdown headings stay on their lines.
    """
    lines = text.split("\n")
    widths = sorted(_width(line.strip()) for line in lines if _width(line.strip()) >= 30)
    if len(widths) >= 3:
        full = widths[int(len(widths) * 0.75)] * 0.85
    else:
        full = 40.0  # too few long lines to measure: about 20 Chinese characters
    out: list[str] = []
    for line in lines:
        if out and _joins(out[-1], line, full):
            prev = out[-1].rstrip()
            nxt = line.strip()
            space = " " if prev[-1:].isascii() and nxt[:1].isascii() and prev[-1:].isalnum() else ""
            out[-1] = prev + space + nxt
        else:
            out.append(line)
    return "\n".join(out)


def _joins(prev: str, nxt: str, full: float) -> bool:
    p, n = prev.strip(), nxt.strip()
    if not p or not n or p.endswith(tuple(_ENDS)):
        return False
    if _STARTS.match(nxt) or _DATE_LINE.match(n) or "|" in n or "|" in p:
        return False
    if p.startswith("#") or _HEADING_LINE.match(p):
        return False
    if _width(n) < full * 0.5 and not any(ch in n for ch in _INNER_MARKS):
        return False  # a short line without punctuation is a heading or label of its own
    return _width(p) >= full


_INNER_MARKS = "。！？；，、：,;:!?"


# Full-width ASCII letters and digits (Ａ–Ｚ, ａ–ｚ, ０–９) and the ideographic space.
_FULL = {c: c - 0xFEE0 for c in range(0xFF10, 0xFF1A)}
_FULL.update({c: c - 0xFEE0 for c in range(0xFF21, 0xFF3B)})
_FULL.update({c: c - 0xFEE0 for c in range(0xFF41, 0xFF5B)})
_FULL[0x3000] = 0x20
_CJK = r"\u3400-\u9fff\uf900-\ufaff"
_HALF_PUNCT = re.compile(rf"(?<=[{_CJK}])\s?([,;:])\s?(?=[{_CJK}\d])|(?<=\d)([,;])(?=[{_CJK}])")
_TO_FULL = {",": "，", ";": "；", ":": "："}
_PARENS = re.compile(r"\(([^()\n]{0,40}?)\)")


def normalise_width(text: str) -> str:
    """Full-width letters, digits and spaces made half-width; a half-width comma, colon,
    semicolon or pair of parentheses among Chinese characters made full-width."""
    text = text.translate(_FULL)
    text = _HALF_PUNCT.sub(lambda m: _TO_FULL[m.group(1) or m.group(2)], text)

    def paren(m: re.Match[str]) -> str:
        inner = m.group(1)
        before = text[m.start() - 1] if m.start() else ""
        after = text[m.end()] if m.end() < len(text) else ""
        chinese = re.search(f"[{_CJK}]", inner) or any(
            re.match(f"[{_CJK}]", c) for c in (before, after) if c
        )
        if not chinese or "://" in inner:
            return m.group(0)
        return f"（{inner}）"

    text = _PARENS.sub(paren, text)
    return re.sub(r"[ \t]+$", "", text, flags=re.M)
