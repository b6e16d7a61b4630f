"""Eligibility conditions of a policy (the `eligibility:` grammar of DESIGN.md) and matching.

A policy's conditions are a list; every entry must hold. Each is checked against an
enterprise profile and lands in `met`, `unmet` or `unknown` (the profile does not say) as a
short Chinese sentence, so an enterprise reads why — never only a score.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from typing import Any

KEYS = (
    "registered_in",
    "established_years",
    "industry",
    "qualifications",
    "employees",
    "revenue_wan",
    "rd_ratio",
)
_RANGES = {"established_years", "employees", "revenue_wan", "rd_ratio"}
_NAMES_ZH = {
    "registered_in": "注册地",
    "established_years": "成立年限",
    "industry": "所属行业",
    "qualifications": "企业资质",
    "employees": "职工人数",
    "revenue_wan": "年营业收入",
    "rd_ratio": "研发投入占比",
}
MAX_VALUES = 50  # names in one condition


class EligibilityError(ValueError):
    """A condition that does not follow the grammar; says which entry and why, in both languages."""

    def __init__(self, message: str, message_zh: str) -> None:
        super().__init__(message)
        self.message = message
        self.message_zh = message_zh


@dataclass(frozen=True)
class Condition:
    key: str
    values: tuple[str, ...] = ()  # registered_in, industry, qualifications
    mode: str = "any"  # qualifications: any / all
    low: float | None = None  # ranges, inclusive
    high: float | None = None

    def plain(self) -> dict[str, Any]:
        """The canonical grammar form (what `parse` reads back)."""
        if self.key in _RANGES:
            bounds: dict[str, float | int] = {}
            for name, v in (("min", self.low), ("max", self.high)):
                if v is not None:
                    bounds[name] = int(v) if float(v).is_integer() else v
            return {self.key: bounds}
        if self.key == "qualifications":
            return {self.key: {self.mode: list(self.values)}}
        return {self.key: list(self.values) if len(self.values) > 1 else self.values[0]}

    def sentence(self) -> str:
        """The condition as an enterprise reads it: 注册地在江岸区, 成立不超过5年 …"""
        k = self.key
        if k == "registered_in":
            return "注册地在" + "或".join(self.values)
        if k == "industry":
            return (
                "属于" + "、".join(self.values) + ("行业之一" if len(self.values) > 1 else "行业")
            )
        if k == "qualifications":
            if len(self.values) == 1:
                return f"具有{self.values[0]}资质"
            return (
                "同时具有" + "和".join(self.values)
                if self.mode == "all"
                else "具有" + "或".join(self.values)
            ) + "资质"
        lo, hi = self.low, self.high
        if k == "established_years":
            return _span("成立", lo, hi, "年", low_word="满", high_word="不超过")
        if k == "employees":
            return _span("职工人数", lo, hi, "人")
        if k == "revenue_wan":
            return _span("年营业收入", lo, hi, "", fmt=money)
        return _span("研发投入占营业收入比例", lo, hi, "", fmt=percent)


def money(wan: float) -> str:
    """500 → 500万元, 20000 → 2亿元, 12500 → 1.25亿元."""
    if wan >= 10000:
        return f"{_num(wan / 10000)}亿元"
    return f"{_num(wan)}万元"


def percent(share: float) -> str:
    return f"{_num(share * 100)}%"


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.4g}"


def _span(
    subject: str,
    lo: float | None,
    hi: float | None,
    unit: str,
    *,
    fmt: Any = None,
    low_word: str = "不少于",
    high_word: str = "不超过",
) -> str:
    show = fmt or (lambda v: f"{_num(v)}{unit}")
    if lo is not None and hi is not None:
        return (
            f"{subject}{show(lo)}至{show(hi)}"
            if subject != "成立"
            else f"成立满{show(lo)}且不超过{show(hi)}"
        )
    if lo is not None:
        word = "不低于" if fmt is not None else low_word
        return f"{subject}{word}{show(lo)}"
    return f"{subject}{high_word}{show(hi)}"


# --- the grammar ---------------------------------------------------------------------
def _names(value: Any, where: str, key: str) -> tuple[str, ...]:
    where_zh = f"第{int(where[12:-1]) + 1}条适用条件"
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise EligibilityError(
            f"{where}: {key} must be a name or a non-empty list of names",
            f"{where_zh}：{key}（{_NAMES_ZH[key]}）应为名称或非空的名称列表",
        )
    if len(items) > MAX_VALUES:
        raise EligibilityError(
            f"{where}: {key} lists more than {MAX_VALUES} names",
            f"{where_zh}：{key} 的名称超过{MAX_VALUES}个",
        )
    out = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (str, int)) or not str(item).strip():
            raise EligibilityError(
                f"{where}: {key} has an entry that is not a name: {item!r}",
                f"{where_zh}：{key}（{_NAMES_ZH[key]}）中有无效的名称：{item!r}",
            )
        if len(str(item)) > 50:
            raise EligibilityError(
                f"{where}: {key}: a name is over 50 characters",
                f"{where_zh}：{key} 中的名称超过50字",
            )
        out.append(str(item).strip())
    return tuple(dict.fromkeys(out))


def _bound(bounds: dict[str, Any], name: str, where: str, key: str, where_zh: str) -> float | None:
    v = bounds.get(name)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or math.isnan(v) or math.isinf(v):
        raise EligibilityError(
            f"{where}: {key}.{name} must be a number, not {v!r}",
            f"{where_zh}：{key}（{_NAMES_ZH[key]}）的 {name} 必须是数字",
        )
    if v < 0:
        raise EligibilityError(
            f"{where}: {key}.{name} must not be negative",
            f"{where_zh}：{key}（{_NAMES_ZH[key]}）的 {name} 不能为负数",
        )
    if key == "rd_ratio" and v > 1:
        raise EligibilityError(
            f"{where}: rd_ratio is a share between 0 and 1 (3% is 0.03), not {v}",
            f"{where_zh}：rd_ratio（研发投入占比）是0到1之间的小数（3%写作0.03）",
        )
    return float(v)


def _condition(entry: Any, n: int) -> Condition:
    where = f"eligibility[{n}]"
    if not isinstance(entry, dict) or len(entry) != 1:
        raise EligibilityError(
            f"{where}: each condition is one `key: value` pair (e.g. `- employees: {{min: 10}}`)",
            f"第{n + 1}条适用条件：每条条件必须是一个“键: 值”（例如 - employees: {{min: 10}}）",
        )
    ((key, value),) = entry.items()
    where_zh = f"第{n + 1}条适用条件"
    if key not in KEYS:
        raise EligibilityError(
            f"{where}: unknown condition {key!r}; known: {', '.join(KEYS)}",
            f"{where_zh}：未知的条件 {key!r}（可用：{'、'.join(KEYS)}）",
        )
    if key in _RANGES:
        if not isinstance(value, dict) or not value or set(value) - {"min", "max"}:
            raise EligibilityError(
                f"{where}: {key} takes {{min: …, max: …}} (either or both)",
                f"{where_zh}：{key}（{_NAMES_ZH[key]}）的写法是 {{min: …, max: …}}（至少一个）",
            )
        lo = _bound(value, "min", where, key, where_zh)
        hi = _bound(value, "max", where, key, where_zh)
        if lo is not None and hi is not None and lo > hi:
            raise EligibilityError(
                f"{where}: {key}: min {lo:g} is above max {hi:g}",
                f"{where_zh}：{key}（{_NAMES_ZH[key]}）的 min 大于 max",
            )
        return Condition(key, low=lo, high=hi)
    if key == "qualifications":
        mode = "any"
        if isinstance(value, dict):
            if len(value) != 1 or next(iter(value)) not in ("any", "all"):
                raise EligibilityError(
                    f"{where}: qualifications takes {{any: […]}} or {{all: […]}}",
                    f"{where_zh}：qualifications（企业资质）的写法是 {{any: […]}} 或 {{all: […]}}",
                )
            ((mode, value),) = value.items()
        return Condition(key, _names(value, where, key), mode=mode)
    return Condition(key, _names(value, where, key))


def parse(raw: Any) -> tuple[Condition, ...]:
    """Conditions from a front-matter `eligibility:` value; `EligibilityError` says what is wrong."""
    if raw is None:
        return ()
    if isinstance(raw, dict):  # a mapping of conditions reads the same as the list
        raw = [{k: v} for k, v in raw.items()]
    if not isinstance(raw, list):
        raise EligibilityError(
            "eligibility must be a list of conditions", "适用条件（eligibility）必须是条件列表"
        )
    if len(raw) > len(KEYS) * 4:
        raise EligibilityError("eligibility has too many conditions", "适用条件过多")
    return tuple(_condition(entry, n) for n, entry in enumerate(raw))


def dumps(conditions: tuple[Condition, ...]) -> str:
    return json.dumps([c.plain() for c in conditions], ensure_ascii=False) if conditions else ""


def loads(text: str) -> tuple[Condition, ...]:
    return parse(json.loads(text)) if text else ()


# --- matching ------------------------------------------------------------------------
_QUALIFICATION_ALIASES = {
    "高企": "高新技术企业",
    "国高": "高新技术企业",
    "国家高新技术企业": "高新技术企业",
    "国家级高新技术企业": "高新技术企业",
    "高新企业": "高新技术企业",
    "专精特新企业": "专精特新",
    "专精特新中小企业": "专精特新",
    "省级专精特新": "专精特新",
    "省级专精特新中小企业": "专精特新",
    "小巨人": "专精特新小巨人",
    "国家级专精特新小巨人": "专精特新小巨人",
    "专精特新小巨人企业": "专精特新小巨人",
    "科小": "科技型中小企业",
    "科技型企业": "科技型中小企业",
    "规上": "规上企业",
    "规模以上企业": "规上企业",
    "规模以上工业企业": "规上企业",
    "规上工业企业": "规上企业",
}
# holding the first means holding the second too
_IMPLIES = {"专精特新小巨人": ("专精特新",)}
_INDUSTRY_ALIASES = {
    "ai": "人工智能",
    "it": "信息技术",
    "电商": "电子商务",
    "外贸": "对外贸易",
    "饭店": "餐饮",
    "餐馆": "餐饮",
    "餐厅": "餐饮",
}


def qualification(name: str) -> str:
    n = name.strip().replace(" ", "")
    return _QUALIFICATION_ALIASES.get(n, n)


def _held(names: list[str]) -> set[str]:
    held = {qualification(n) for n in names}
    for n in list(held):
        held.update(_IMPLIES.get(n, ()))
    return held


def _core(name: str, suffixes: str) -> str:
    n = name.strip().lower().replace(" ", "")
    n = _INDUSTRY_ALIASES.get(n, n)
    while len(n) > 2 and n[-1] in suffixes:
        n = n[:-1]
    return n


def _same_place(a: str, b: str) -> bool:
    x, y = _core(a, "省市区县"), _core(b, "省市区县")
    return bool(x and y) and (x in y or y in x)


def _same_industry(a: str, b: str) -> bool:
    x, y = _core(a, "业行类"), _core(b, "业行类")
    return len(x) >= 2 and len(y) >= 2 and (x in y or y in x)


@dataclass
class Outcome:
    status: str  # eligible / possible / ineligible
    met: list[str] = field(default_factory=list)
    unmet: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)


def whole_years(start: dt.date, today: dt.date) -> int:
    """Whole years from `start` to `today` (a company founded 2021-12-07 is 5 on 2026-12-07)."""
    years = today.year - start.year - ((today.month, today.day) < (start.month, start.day))
    return max(0, years)


def _age_range(profile: dict[str, Any], today: dt.date) -> tuple[int, int] | None:
    """The enterprise's age in whole years as a range (a founding year alone spans two ages)."""
    if profile.get("established_years") is not None:
        y = int(profile["established_years"])
        return y, y
    est = profile.get("established")
    if not est:
        return None
    if len(est) == 4:  # a year only
        return (
            whole_years(dt.date(int(est), 12, 31), today),
            whole_years(dt.date(int(est), 1, 1), today),
        )
    if len(est) == 7:  # a month
        y, m = int(est[:4]), int(est[5:7])
        last = dt.date(y + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1)
        return whole_years(last, today), whole_years(dt.date(y, m, 1), today)
    d = dt.date.fromisoformat(est)
    y = whole_years(d, today)
    return y, y


def _within(v: float, c: Condition) -> bool:
    return (c.low is None or v >= c.low) and (c.high is None or v <= c.high)


def check(c: Condition, profile: dict[str, Any], today: dt.date) -> bool | None:
    """True (met), False (unmet) or None (the profile does not say)."""
    if c.key == "registered_in":
        place = profile.get("registered_in")
        return None if not place else any(_same_place(place, v) for v in c.values)
    if c.key == "industry":
        ind = profile.get("industry")
        return None if not ind else any(_same_industry(ind, v) for v in c.values)
    if c.key == "qualifications":
        if profile.get("qualifications") is None:
            return None
        held = _held(list(profile["qualifications"]))
        wanted = [qualification(v) for v in c.values]
        return all(w in held for w in wanted) if c.mode == "all" else any(w in held for w in wanted)
    if c.key == "established_years":
        ages = _age_range(profile, today)
        if ages is None:
            return None
        lo_ok, hi_ok = _within(ages[0], c), _within(ages[1], c)
        return lo_ok if lo_ok == hi_ok else None  # the founding date decides: ask for it
    v = profile.get(c.key)
    return None if v is None else _within(float(v), c)


def evaluate(
    conditions: tuple[Condition, ...], profile: dict[str, Any], today: dt.date | None = None
) -> Outcome:
    today = today or dt.date.today()
    out = Outcome("eligible")
    if not conditions:
        out.unknown.append("政策文件未列出可自动核对的适用条件，请阅读原文或咨询主管部门")
    for c in conditions:
        verdict = check(c, profile, today)
        (out.met if verdict else out.unknown if verdict is None else out.unmet).append(c.sentence())
    out.status = "ineligible" if out.unmet else "possible" if out.unknown else "eligible"
    return out
