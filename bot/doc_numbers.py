"""Issuing numbers (文号) of government documents: 岸政发〔2026〕3号 in any bracket spelling.

Used by the ingest (a document's own number, ingest/govdoc.py) and by retrieval (a question
naming a number finds that document first), so both read the number the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CJK = "\u3400-\u9fff"
# the brackets around the year, as typed, as printed and as OCR misreads them
_OPEN = r"[〔［\[【(（〈<《{｛﹝]"
_CLOSE = r"[〕］\]】)）〉>》}｝﹞]"
# the code, the year in brackets, the number, 号
_NUMBER = re.compile(
    rf"([{_CJK}]{{1,16}}?)\s*{_OPEN}\s*((?:19|20)\d{{2}})\s*{_CLOSE}\s*第?\s*(\d{{1,4}})\s*号"
)
# in a question: the brackets may be missing (岸政发2026年3号) and so may 号
_MENTION = re.compile(
    rf"([{_CJK}]{{1,20}})\s*(?:{_OPEN}\s*((?:19|20)\d{{2}})\s*{_CLOSE}|((?:19|20)\d{{2}})\s*年?)"
    r"\s*第?\s*(\d{1,4})\s*号?"
)
# What a code ends with: 岸政发, 鄂政办函, 岸人社字, 岸政规, 岸政令 …
_CODE_END = re.compile(r"(发|函|字|规|文|令|复|呈|报|通|纪|电|办|告|备)$")
# Words that run into a code in a sentence: 根据岸政发 → 岸政发
_LEADING = ("根据", "按照", "依据", "印发", "详见", "请问", "问", "的", "和", "与", "及", "见")
MAX_CODE = 8


@dataclass(frozen=True)
class DocNumber:
    """岸政发〔2026〕3号 → code 岸政发, year 2026, number 3."""

    code: str
    year: int
    number: int

    def __str__(self) -> str:
        return f"{self.code}〔{self.year}〕{self.number}号"


def code_of(run: str) -> str:
    """The code at the end of a run of Chinese characters ('' when it is none)."""
    run = re.sub(r"\s+", "", run)
    if not _CODE_END.search(run):
        return ""
    for word in _LEADING:
        if word in run:
            run = run.rsplit(word, 1)[1]
    return run[-MAX_CODE:]


def numbers_in(text: str) -> list[DocNumber]:
    """Every 文号 in the text, normalised, in order."""
    out = []
    for m in _NUMBER.finditer(text):
        code = code_of(m.group(1))
        if code:
            out.append(DocNumber(code, int(m.group(2)), int(m.group(3))))
    return out


def cited_numbers(text: str) -> list[DocNumber]:
    """Every 文号 the text gives or cites, also without brackets (岸政发2026年5号) — what a
    question may name without being told the knowledge base lacks it."""
    out = numbers_in(text)
    for m in _MENTION.finditer(text):
        if m.group(2) or not m.group(0).rstrip().endswith("号"):
            continue  # bracketed ones are numbers_in's; without 号 it is no 文号
        code = code_of(m.group(1))
        if code:
            out.append(DocNumber(code, int(m.group(3)), int(m.group(4))))
    return out


def parse_doc_number(text: str) -> DocNumber | None:
    """The first 文号 in the text, normalised."""
    found = numbers_in(text)
    return found[0] if found else None


def own_number(line: str) -> DocNumber | None:
    """The 文号 a line gives as the document's own: the line starts with it (a number cited
    in a sentence, 根据岸政发〔2020〕1号…, is not); a short tail (签发人：…) is allowed."""
    line = line.strip()
    m = _NUMBER.match(line)
    if not m or len(line) - m.end() > 12:
        return None
    run = re.sub(r"\s+", "", m.group(1))
    if code_of(run) != run:
        return None
    return DocNumber(run, int(m.group(2)), int(m.group(3)))


# What a question naming a document says about wanting that document, not about its content
ABOUT_DOCUMENT = re.compile(
    r"主要内容|具体内容|内容|讲了|讲的|说了|说的|规定了|规定|文件|通知|这个|这份|该|一下|介绍|解读|有关"
)


def without_mention(question: str, number: DocNumber) -> str:
    """The question with its mention of this 文号 (and words asking for the document) cut
    out: what it asks of the document (岸政发〔2026〕3号由谁负责解释 → 由谁负责解释)."""
    for m in _MENTION.finditer(question):
        year = int(m.group(2) or m.group(3))
        before = re.sub(r"\s+", "", m.group(1))
        if (
            year == number.year
            and int(m.group(4)) == number.number
            and before.endswith(number.code)
        ):
            # the code's characters end group 1 (spaces inside it are rare enough to ignore)
            start = max(m.start(1), m.end(1) - len(number.code))
            question = question[:start] + " " + question[m.end() :]
            break
    return ABOUT_DOCUMENT.sub(" ", question)


def mentions(question: str, *, explicit: bool = False) -> list[tuple[str, int, int]]:
    """(the characters before, year, number) of each 文号-like mention in a question;
    `explicit`: only those with the year in brackets or ending in 号 (not 年报2026年3月)."""
    out = []
    for m in _MENTION.finditer(question):
        if explicit and not (m.group(2) or m.group(0).rstrip().endswith("号")):
            continue
        year = m.group(2) or m.group(3)
        out.append((re.sub(r"\s+", "", m.group(1)), int(year), int(m.group(4))))
    return out


def names(mention: tuple[str, int, int], number: DocNumber) -> bool:
    """Whether a question's mention names this 文号."""
    before, year, n = mention
    return year == number.year and n == number.number and before.endswith(number.code)
