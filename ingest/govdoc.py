"""A government document's (红头文件) particulars read off its text: 文号, issuer, date, title.

   江岸区人民政府文件                     ← issuer (the red header: 「…文件」)
   岸政发〔2026〕3号                      ← doc_number (any bracket spelling → 〔〕)
   江岸区人民政府关于印发……的通知          ← title (may take two lines)
   …正文…
   江岸区人民政府                         ← issuer (the signature, before the date)
   2026年3月5日 / 二〇二六年三月五日        ← issued (ISO date)
   附件1                                  ← an attachment: a "## 附件1 <title>" section

`enrich` fills the Document's fields (front matter that set them wins) and turns the
attachments into sections.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Any

from bot.doc_numbers import numbers_in, own_number, parse_doc_number
from bot.models import Document

_CJK = "\u3400-\u9fff"
_RED_HEADER = re.compile(rf"^([{_CJK}、（）()]{{4,40}}?)\s*文\s*件$")
_ORG_END = re.compile(
    r"(政府|办公室|委员会|委|局|厅|部|中心|院|会|处|办|所|公司|街道办事处|管委会|领导小组|集团|室|署|站)$"
)
_DATE = re.compile(r"((?:19|20)\d{2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_CN_DIGITS = {"〇": 0, "零": 0, "○": 0, "Ｏ": 0, "O": 0, "o": 0, "0": 0}
_CN_DIGITS.update({c: i for i, c in enumerate("一二三四五六七八九", start=1)})
_CN_DATE = re.compile(
    r"([〇零○Ｏ一二三四五六七八九Oo0]{4})\s*年\s*([一二三四五六七八九十]{1,3})\s*月"
    r"\s*([一二三四五六七八九十]{1,3})\s*日"
)
_KINDS = "通知|意见|办法|决定|批复|规定|方案|通报|公告|通告|报告|函|细则|规划|计划|纪要|决议|请示|规则|措施|指引|条例"
_TITLE = re.compile(rf"^[{_CJK}\w（）()〔〕“”《》、·\-—\s]{{0,30}}关于.{{2,80}}的(?:{_KINDS})$")
_TITLE_END = re.compile(rf"(?:{_KINDS})$")
# An attachment's own start: 「附件1」, 「附件 2：标题」, 「附件」 alone (not the 附件：1.… list).
_ATTACHMENT = re.compile(r"^附\s*件\s*(\d{1,2})?\s*[:：]?\s*(.*)$")
_LABELLED = {
    "doc_number": re.compile(r"^(?:文\s*号|发文字号)\s*[:：]\s*(.+)$"),
    "issuer": re.compile(r"^(?:发文机关|发布机构|发文单位|发布机关)\s*[:：]\s*(.+)$"),
    "issued": re.compile(r"^(?:成文日期|发文日期|发布日期|印发日期)\s*[:：]\s*(.+)$"),
}
HEAD_LINES = 25  # the 文号, red header and title are within a document's first lines
TAIL_LINES = 25  # the signature and date within its last lines before the attachments


def chinese_date(text: str) -> str:
    """二〇二六年三月五日 → 2026-03-05 ('' when it is not a real date)."""
    m = _CN_DATE.search(text)
    if not m:
        return ""
    year = int("".join(str(_CN_DIGITS[c]) for c in m.group(1)))
    return _iso(year, _cn_number(m.group(2)), _cn_number(m.group(3)))


def _cn_number(text: str) -> int:
    """一 … 三十一."""
    if "十" not in text:
        return _CN_DIGITS.get(text, 0)
    tens, _, ones = text.partition("十")
    return (_CN_DIGITS.get(tens, 0) if tens else 1) * 10 + (_CN_DIGITS.get(ones, 0) if ones else 0)


def _iso(year: int, month: int, day: int) -> str:
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return ""


def parse_date(text: str) -> str:
    """A date in Arabic or Chinese numerals as ISO ('' when none)."""
    m = _DATE.search(text)
    if m:
        return _iso(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    return chinese_date(text)


def date_line(line: str) -> str:
    """The date a line gives when it is nothing else (a signature's date): 2026年3月5日,
    （二〇二六年三月五日）; '' for a date inside a sentence (2025年3月1日至4月15日。)."""
    bare = re.sub(r"\s+", "", line).strip("（()）")
    if _DATE.fullmatch(bare) or _CN_DATE.fullmatch(bare):
        return parse_date(bare)
    return ""


@dataclasses.dataclass
class Particulars:
    doc_number: str = ""
    issuer: str = ""
    issued: str = ""
    title: str = ""


def read_particulars(text: str) -> Particulars:
    """The 文号, issuer, date of issue and title a document's text states."""
    lines = [line.strip() for line in text.splitlines()]
    filled = [(i, line.lstrip("# ").strip()) for i, line in enumerate(lines) if line.strip()]
    found = Particulars()
    head = filled[:HEAD_LINES]
    for _, line in filled[: HEAD_LINES * 2]:  # a web page's info table: 文号：… 成文日期：…
        for key, pattern in _LABELLED.items():
            m = pattern.match(line)
            if m and not getattr(found, key):
                value = m.group(1).strip()
                if key == "doc_number":
                    number = parse_doc_number(value)
                    value = str(number) if number else ""
                elif key == "issued":
                    value = parse_date(value)
                setattr(found, key, value)
    for _, line in head:
        if not found.doc_number:
            number = own_number(line)
            if number:
                found.doc_number = str(number)
        red = _RED_HEADER.match(line)
        if red and not found.issuer:
            found.issuer = red.group(1)
    found.title = _title(head)
    body_end = _attachments_start(filled)
    tail = filled[:body_end][-TAIL_LINES:]
    for k in range(len(tail) - 1, -1, -1):
        _, line = tail[k]
        date = date_line(line)
        if not date:
            continue
        found.issued = found.issued or date
        if not found.issuer:
            found.issuer = _signature(tail[:k])
        break
    return found


def _title(head: list[tuple[int, str]]) -> str:
    for n, (_, line) in enumerate(head):
        if "关于" not in line or len(line) > 90:
            continue
        if _TITLE.match(line):
            return line
        # a title printed on two (or three) lines
        joined = line
        for _, more in head[n + 1 : n + 3]:
            joined += more
            if _TITLE.match(joined):
                return joined
            if len(joined) > 90:
                break
    return ""


def _signature(lines: list[tuple[int, str]]) -> str:
    """The issuing body named just above the date (the last organisation line)."""
    for _, line in reversed(lines[-3:]):
        line = re.sub(r"[（(]\s*(?:盖章|印章|章)\s*[)）]", "", line).strip()
        if 3 <= len(line) <= 30 and _ORG_END.search(line) and not re.search(r"[。，；：]", line):
            return line
    return ""


def _attachments_start(filled: list[tuple[int, str]]) -> int:
    """Position (in `filled`) of the first attachment's own start, or len(filled)."""
    return next((k for k in range(len(filled)) if _attachment_heading(filled, k)), len(filled))


def _attachment_heading(filled: list[tuple[int, str]], k: int) -> tuple[str, str, bool] | None:
    """(number, title, title on the next line) when line k starts an attachment's body."""
    line = filled[k][1]
    m = _ATTACHMENT.match(line)
    if not m or k < 3:
        return None
    number, rest = m.group(1) or "", m.group(2).strip()
    if rest and (re.match(r"^\d{1,2}\s*[.．、]", rest) or not number):
        return None  # 附件：1．申报表 — the list of attachments under the main text
    if len(rest) > 40 or re.search(r"[。；]", rest):
        return None
    # the list form 附件1：… 附件2：… on consecutive lines, before the signature and date
    after = [line for _, line in filled[k + 1 : k + 3]]
    if rest and after and _ATTACHMENT.match(after[0]) and not parse_date("".join(after)):
        return None
    if k + 1 >= len(filled):
        return None
    if rest:
        return number, rest, False
    nxt = filled[k + 1][1]
    if len(nxt) <= 40 and not re.search(r"[。；：:]$", nxt) and not _ATTACHMENT.match(nxt):
        return number, nxt, True
    return number, "", False


def _with_attachment_sections(text: str) -> str:
    """The text with each attachment's first line(s) made a `## 附件N 标题` heading."""
    lines = text.splitlines()
    filled = [
        (i, line.strip().lstrip("# ").strip()) for i, line in enumerate(lines) if line.strip()
    ]
    replace: dict[int, str] = {}
    drop: set[int] = set()
    start = _date_position(filled)
    for k in range(start, len(filled)):
        found = _attachment_heading(filled, k)
        if not found:
            continue
        number, title, next_line = found
        replace[filled[k][0]] = "## " + f"附件{number} {title}".strip()
        if next_line:
            drop.add(filled[k + 1][0])
    if not replace:
        return text
    return "\n".join(replace.get(i, line) for i, line in enumerate(lines) if i not in drop)


def _date_position(filled: list[tuple[int, str]]) -> int:
    """Where attachments may start: after the signature's date when there is one."""
    first = _attachments_start(filled)
    for k in range(first - 1, -1, -1):
        if date_line(filled[k][1]):
            return k + 1
    return 0


def enrich(doc: Document, *, retitle: bool = True) -> Document:
    """The document with its 文号, issuer, date of issue and title filled where its text states
    them (values already set, e.g. by front matter, are kept) and its attachments as sections.

    `retitle`: whether a 红头文件's own title (关于……的通知) replaces the parsed one (not for
    Markdown, whose title staff wrote)."""
    if doc.kind == "faq":
        return doc
    found = read_particulars(doc.text)
    changes: dict[str, Any] = {}
    for key in ("doc_number", "issuer", "issued"):
        if not getattr(doc, key) and getattr(found, key):
            changes[key] = getattr(found, key)
    official = bool(found.doc_number or found.issuer)
    if retitle and found.title and official and found.title not in doc.title:
        changes["title"] = found.title
    text = _with_attachment_sections(doc.text) if official and retitle else doc.text
    number = parse_doc_number(doc.doc_number)
    if number and number not in numbers_in(text):  # front matter's number: searchable too
        lines = text.split("\n")
        at = 1 if lines and lines[0].startswith("# ") else 0
        text = "\n".join([*lines[:at], f"文号：{number}", *lines[at:]])
    if text != doc.text:
        changes["text"] = text
    return dataclasses.replace(doc, **changes) if changes else doc
