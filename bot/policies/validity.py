"""When a policy is in force: `valid_from` / `valid_until` from front matter, or read off its text.

Official documents state their term in a handful of ways — 「有效期至2025年12月31日」,
「自2023年1月1日起施行，有效期3年」, 「执行期限为2024年1月1日至2026年12月31日」. A date
read off the text is a guess that staff confirm in `/admin`; until they reject it, it is
used, because presenting an expired policy as current is the worse mistake.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from bot.policies.profile import number

_DATE = r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日"
_DATE_ISO = r"(\d{4})[-./](\d{1,2})[-./](\d{1,2})"
_ANY_DATE = rf"(?:{_DATE}|{_DATE_ISO})"
_YEARS = r"([0-9]+|[一二两三四五六七八九十]+)\s*年"

# 有效期至2025年12月31日 · 有效期截至… · 有效期到… · 执行至… · …止
_UNTIL = re.compile(
    rf"(?:有效期|执行期|实施期|施行期)(?:限)?(?:为|是)?(?:至|到|截至|截止到?)\s*{_ANY_DATE}"
)
# 有效期为2024年1月1日至2026年12月31日 · 执行期限：…至… · 自…起至…止
_RANGE = re.compile(
    rf"(?:有效期|执行期限?|实施期限?|施行期限?|有效期限)[为是：:\s]*(?:自|从)?\s*{_ANY_DATE}\s*(?:起)?\s*(?:至|到|—|-|~)\s*{_ANY_DATE}"
    rf"|自\s*{_ANY_DATE}\s*起?至\s*{_ANY_DATE}\s*止"
)
# 自2023年1月1日起施行，有效期3年 (the term counts from the start date)
_FROM_FOR = re.compile(
    rf"自\s*{_ANY_DATE}\s*起(?:施行|实施|执行|生效)[^。；]{{0,12}}?有效期(?:限)?(?:为)?\s*{_YEARS}"
)
# 有效期3年 …, 自2023年1月1日起施行 (the other order)
_FOR_FROM = re.compile(
    rf"有效期(?:限)?(?:为)?\s*{_YEARS}[^。]{{0,20}}?自\s*{_ANY_DATE}\s*起(?:施行|实施|执行|生效)"
)
_FROM = re.compile(rf"自\s*{_ANY_DATE}\s*起(?:施行|实施|执行|生效)")


@dataclass(frozen=True)
class Validity:
    valid_from: str = ""  # ISO date, "" when unknown
    valid_until: str = ""
    phrase: str = ""  # the words of the text it was read from ("" for front matter)

    def __bool__(self) -> bool:
        return bool(self.valid_from or self.valid_until)


def _number(text: str) -> int:
    """3 · 三 · 十二 → 3, 3, 12 (0 when it is no number)."""
    n = number(text)
    return int(n) if n is not None else 0


def _date(groups: tuple[str | None, ...]) -> dt.date | None:
    """The first complete (year, month, day) among the groups."""
    parts = [g for g in groups if g is not None]
    if len(parts) < 3:
        return None
    try:
        return dt.date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        return None


def _plus_years(start: dt.date, years: int) -> dt.date:
    """The last day of a term of whole years starting on `start` (2023-01-01 + 3 → 2025-12-31)."""
    try:
        end = start.replace(year=start.year + years)
    except ValueError:  # 29 February
        end = start.replace(year=start.year + years, day=28)
    return end - dt.timedelta(days=1)


def from_text(text: str) -> Validity:
    """The term a document states in its own words, or an empty `Validity`."""
    flat = text.replace("\u3000", " ")
    m = _RANGE.search(flat)
    if m:
        groups = m.groups()
        first = _date(groups[:6]) or _date(groups[12:18])
        second = _date(groups[6:12]) or _date(groups[18:24])
        if first and second and first <= second:
            return Validity(first.isoformat(), second.isoformat(), m.group(0).strip())
    m = _FROM_FOR.search(flat)
    if m:
        start = _date(m.groups()[:6])
        years = _number(m.group(7))
        if start and 0 < years <= 50:
            return Validity(
                start.isoformat(), _plus_years(start, years).isoformat(), m.group(0).strip()
            )
    m = _FOR_FROM.search(flat)
    if m:
        years = _number(m.group(1))
        start = _date(m.groups()[1:7])
        if start and 0 < years <= 50:
            return Validity(
                start.isoformat(), _plus_years(start, years).isoformat(), m.group(0).strip()
            )
    m = _UNTIL.search(flat)
    if m:
        until = _date(m.groups())
        if until:
            start_m = _FROM.search(flat)
            start = _date(start_m.groups()) if start_m else None
            return Validity(
                start.isoformat() if start and start <= until else "",
                until.isoformat(),
                m.group(0).strip(),
            )
    return Validity()


def parse_date(value: object) -> dt.date:
    """A front-matter date: a YAML date or an ISO `YYYY-MM-DD` string; ValueError otherwise."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        return dt.date.fromisoformat(value.strip())
    raise ValueError(f"not a date (YYYY-MM-DD): {value!r}")


def status(valid_from: str, valid_until: str, today: dt.date | None = None) -> str:
    """'expired' (today after valid_until), 'pending' (before valid_from) or 'current'."""
    today = today or dt.date.today()
    if valid_until and today > dt.date.fromisoformat(valid_until):
        return "expired"
    if valid_from and today < dt.date.fromisoformat(valid_from):
        return "pending"
    return "current"


def chinese_date(iso: str) -> str:
    """2025-12-31 → 2025年12月31日."""
    d = dt.date.fromisoformat(iso)
    return f"{d.year}年{d.month}月{d.day}日"
