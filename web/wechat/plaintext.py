"""Answers as WeChat shows them: plain text, short source marks, parts within a byte limit.

WeChat renders no Markdown, and a text message holds at most ~2048 bytes of UTF-8. The
answer's `[n]` markers become 〔1〕〔2〕… (renumbered in order of first use) that point at a
short source list at the end: 「来源：」, then per cited source 〔n〕标题（章节） and its
http(s) address on the next line.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence

from bot.models import Source, web_url

_MARKER = re.compile(r"[\[【](\d{1,3})[\]】]")
_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^(\s*)[-*+•]\s+(.*)$")
_ORDERED = re.compile(r"^(\s*)(\d{1,3})[.)、]\s+(.*)$")
_QUOTE = re.compile(r"^\s*>\s?")
_RULE = re.compile(r"^\s*([-*_])(\s*\1){2,}\s*$")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]*)[^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]*)[^)]*\)")
_AUTOLINK = re.compile(r"<(https?://[^>\s]+)>")
_BOLD = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_ITALIC = re.compile(r"(?<![*A-Za-z0-9])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![*A-Za-z0-9])")
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
_CODE = re.compile(r"`+([^`\n]+?)`+")
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>~])")
_SURROGATE = re.compile("[\ud800-\udfff]")
_SENTENCE_END = "。！？；!?;"
_CLOSERS = "”’」』）)】》\"'"
# Characters a cut must not fall before: they belong to the character in front of them.
_JOINERS = {"\u200d", "\ufe0e", "\ufe0f"}

SourceLike = Mapping[str, object] | Source


def _inline(text: str) -> str:
    text = _BREAK.sub("\n", text)
    text = _IMAGE.sub(lambda m: m.group(1), text)
    text = _LINK.sub(_link, text)
    text = _AUTOLINK.sub(lambda m: m.group(1), text)
    text = _CODE.sub(lambda m: m.group(1), text)
    text = _BOLD.sub(lambda m: m.group(2), text)
    text = _STRIKE.sub(lambda m: m.group(1), text)
    text = _ITALIC.sub(lambda m: m.group(1), text)
    return _ESCAPE.sub(lambda m: m.group(1), text)


def _link(m: re.Match[str]) -> str:
    label, url = m.group(1).strip(), web_url(m.group(2))
    if _MARKER.fullmatch(f"[{label}]"):  # "[1](…)": a citation marker written as a link
        return f"[{label}]"
    if not url or url == label:
        return url or label
    return f"{label}（{url}）"


def _cells(line: str) -> list[str]:
    body = line.strip()
    body = body[1:] if body.startswith("|") else body
    body = body[:-1] if body.endswith("|") else body
    return [_inline(c.strip()) for c in body.split("|")]


def _markdown_to_lines(text: str) -> list[str]:
    lines: list[str] = []
    in_code = False
    header: list[str] | None = None
    raw = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for i, line in enumerate(raw):
        if _FENCE.match(line):
            in_code = not in_code
            continue
        if in_code:
            lines.append(line.rstrip())
            continue
        if line.strip().startswith("|") or (header is not None and "|" in line):
            following = raw[i + 1] if i + 1 < len(raw) else ""
            if _TABLE_RULE.match(line):
                continue
            cells = _cells(line)
            if header is None and _TABLE_RULE.match(following):
                header = cells
                continue
            if header and len(header) == len(cells):
                pairs = [f"{h}：{c}" if h else c for h, c in zip(header, cells, strict=True)]
                lines.append("；".join(p for p in pairs if p.strip("：")))
            else:
                lines.append("  ".join(c for c in cells if c))
            continue
        header = None
        if _RULE.match(line):
            lines.append("")
            continue
        line = _QUOTE.sub("", line)
        if m := _HEADING.match(line):
            title = _inline(m.group(1))
            lines.append(title if title.startswith("【") else f"【{title}】")
        elif m := _ORDERED.match(line):
            lines.append("  " * (len(m.group(1)) // 2) + f"{m.group(2)}. {_inline(m.group(3))}")
        elif m := _BULLET.match(line):
            lines.append("  " * (len(m.group(1)) // 2) + f"· {_inline(m.group(2))}")
        else:
            lines.append(_inline(line).rstrip())
    return lines


def _source_fields(source: SourceLike) -> tuple[str, str, str]:
    if isinstance(source, Source):
        return source.title, source.section, web_url(source.url)
    title, section, url = (source.get(k) for k in ("title", "section", "url"))
    return str(title or ""), str(section or ""), web_url(str(url or ""))


def plain_text(text: str, sources: Sequence[SourceLike]) -> str:
    """The answer as WeChat plain text, its `[n]` markers as 〔n〕 and the sources listed."""
    body = "\n".join(_markdown_to_lines(text or ""))
    cited: list[int] = []

    def mark(m: re.Match[str]) -> str:
        n = int(m.group(1))
        if not 1 <= n <= len(sources):
            return ""
        if n not in cited:
            cited.append(n)
        return f"〔{cited.index(n) + 1}〕"

    body = _MARKER.sub(mark, body)
    body = re.sub(r"[ \t]+\n", "\n", body)
    body = re.sub(r"\n{3,}", "\n\n", body).strip()
    listed = cited or list(range(1, len(sources) + 1))
    if not listed:
        return body
    entries = ["来源："]
    for number, index in enumerate(listed, start=1):
        title, section, url = _source_fields(sources[index - 1])
        label = title or "（无标题）"
        if section and section != title:
            label += f"（{section}）"
        entries.append(f"〔{number}〕{label}")
        if url:
            entries.append(url)
    return f"{body}\n\n" + "\n".join(entries) if body else "\n".join(entries)


def _encodable(text: str) -> str:
    """`text` without lone surrogates (they have no UTF-8 form), each replaced by U+FFFD."""
    return _SURROGATE.sub("\ufffd", text)


def _utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def _boundary(window: str, floor: int) -> int:
    """Where to cut `window` (which is already short enough): the last paragraph break at or
    past `floor`, else the last line break, else the last sentence end; 0 when none."""
    for sep in ("\n\n", "\n"):
        at = window.rfind(sep)
        if at >= floor and at > 0:
            return at
    best = 0
    for i, ch in enumerate(window):
        if ch in _SENTENCE_END:
            end = i + 1
            while end < len(window) and window[end] in _CLOSERS:
                end += 1
            if end >= floor:
                best = end
    return best


def _cut(text: str, limit: int) -> tuple[str, str]:
    """(head of at most `limit` UTF-8 bytes, the rest), cut at the best boundary."""
    window = text.encode("utf-8")[:limit].decode("utf-8", errors="ignore")
    if len(window) == len(text):
        return text, ""
    at = _boundary(window, len(window) // 2) or _boundary(window, 1)
    if at <= 0:  # no boundary at all: a hard cut, kept off a joiner or combining mark
        at = len(window)
        while at > 1 and (text[at] in _JOINERS or unicodedata.combining(text[at])):
            at -= 1
    return text[:at], text[at:]


def split_bytes(text: str, limit: int = 2000) -> list[str]:
    """`text` in parts of at most `limit` UTF-8 bytes, cut at paragraph, line or sentence
    ends where possible, never inside a character; parts stripped, none empty."""
    if limit < 4:
        raise ValueError("a part must hold at least one character (4 bytes)")
    parts: list[str] = []
    rest = _encodable(text).strip()
    while rest:
        head, rest = _cut(rest, limit)
        head, rest = head.strip(), rest.strip()
        if head:
            parts.append(head)
    return parts


def reply_parts(
    answer_text: str,
    sources: Sequence[SourceLike],
    *,
    limit: int = 2000,
    more_prompt: str = "回复“继续”查看更多",
) -> list[str]:
    """The answer as plain-text messages: every part but the last fits `limit` bytes with
    "\\n\\n" + `more_prompt` appended (the caller appends it); the last fits `limit`."""
    suffix = _utf8_len("\n\n" + more_prompt)
    if limit - suffix < 4:
        raise ValueError("the limit leaves no room beside the more prompt")
    parts: list[str] = []
    rest = _encodable(plain_text(answer_text, sources))
    while rest and _utf8_len(rest) > limit:
        head, rest = _cut(rest, limit - suffix)
        head, rest = head.strip(), rest.strip()
        if head:
            parts.append(head)
    if rest:
        parts.append(rest)
    return parts
