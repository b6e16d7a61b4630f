"""Answers from service guides: the asked field of one item, whole (every material, every step).

「食品经营许可要带什么材料」 asks the `materials` field of the 食品经营许可 guide: the answer is
that section as the guide writes it, however long, cited. The guide must be about what was
asked (the focus check of issue #11 runs against the guide), else the ordinary answer path
decides.
"""

from __future__ import annotations

import re

from bot.answering.aspects import asked_aspects
from bot.answering.extractive import Evidence, ExtractiveAnswerer
from bot.answering.focus import FocusChecker
from bot.models import Answer, DocumentHit, Retrieval
from bot.services import FIELD_LABELS, FIELDS, ServiceGuide
from bot.text import normalize

# asked aspect → the guide fields that answer it, best first
_FIELDS_OF_ASPECT = {
    "materials": ("materials",),
    "steps": ("steps",),
    "time": ("time_limit",),
    "fee": ("fee",),
    "place": ("location",),
    "hours": ("hours",),
    "phone": ("phone",),
    "contact": ("phone",),
    "online": ("online",),
    "conditions": ("conditions", "audience"),
}
_BASIS = re.compile(
    r"依据|根据(什么|哪个|哪些|啥)|(哪个|什么|哪些|啥)(法规|法律|文件|规定)(规定|要求)?的|法律法规|法规"
)
_AUDIENCE = re.compile(
    r"谁(可以|能|能够|需要|要)|哪些(企业|单位|人|主体|公司)(可以|能|需要|要)|什么(样的)?(企业|单位|人|主体|公司)(可以|能|需要|要)"
    r"|适用(于)?(哪些|什么)|办理对象|服务对象|适用对象|面向(哪些|谁)"
)
# words that, in a question, only say which field is asked (去线下哪里办, 在线办理的网址)
_FIELD_WORDS = {
    "location": "线下 现场 窗口 地方 地址 大厅 哪儿 哪里 实体",
    "online": "网址 网站 链接 线上 网上 手机 app 小程序 平台 入口 系统 电脑 在线",
    "basis": "法律 法规 文件 规定 依据 条例 政策 根据",
    "phone": "电话 号码 热线 咨询 客服 座机",
    "steps": "步骤 流程 程序 手续 办法 环节",
    "materials": "资料 材料 东西 证件 清单",
    "hours": "上班 下班 周末 周六 周日 时间 几点 中午 午休 星期",
    "time_limit": "几天 多久 时限 工作日",
    "fee": "费用 收费 钱",
    "conditions": "条件 资格 要求 门槛",
    "audience": "对象 范围 主体",
}
SCORE_RATIO = 0.6  # a guide below the first hit must score at least this share of it
# the share of the question's (weighted) subject words the guide must have: on a small
# knowledge base every word is "generic" and the focus check passes on one shared word
# (宠物门店房租补贴 asked, a pet-grooming guide's 办理对象 answered)
MIN_COVERAGE = 0.5


def asked_fields(question: str) -> list[str]:
    """The guide fields a question asks, in the order of DESIGN.md's table."""
    text = normalize(question)
    wanted: set[str] = set()
    for aspect in asked_aspects(text).aspects:
        fields = _FIELDS_OF_ASPECT.get(aspect)
        if fields:
            wanted.add(fields[0])
    if _BASIS.search(text):
        wanted.add("basis")
    if _AUDIENCE.search(text):
        wanted.discard("conditions")
        wanted.add("audience")
    return [f for f in FIELDS if f in wanted]


def _present(guide: ServiceGuide, fields: list[str]) -> list[str]:
    """The asked fields the guide has (audience and conditions stand in for each other)."""
    out = []
    for f in fields:
        if f in guide.fields:
            out.append(f)
        elif f in ("audience", "conditions"):
            other = "conditions" if f == "audience" else "audience"
            if other in guide.fields and other not in out:
                out.append(other)
    return out


def field_answer(
    question: str,
    found: Retrieval,
    guides: dict[str, ServiceGuide],
    focus: FocusChecker | None,
    fields: list[str] | None = None,
) -> Answer | None:
    """The asked fields of the guide the question is about, or None (the ordinary path answers)."""
    fields = asked_fields(question) if fields is None else fields
    if not fields or not found.hits:
        return None
    top = found.hits[0].score
    for rank, hit in enumerate(found.hits[:3]):
        guide = guides.get(hit.document.doc_id)
        if guide is None:
            if hit.document.kind == "faq":
                continue  # an FAQ row above the guide: the guide is still the document
            return None  # another document ranks first: the ordinary path weighs it
        if hit.score < SCORE_RATIO * top:
            continue
        present = _present(guide, fields)
        if len(present) < len(fields):
            # the guide the question is about does not say (all of) it: no neighbour's
            # field, and no half answer (企业开办全流程要多久 with no 办理时限: the ordinary path)
            return None
        if focus is not None:
            cues = {w for f in fields for w in _FIELD_WORDS.get(f, "").split()}
            terms = [
                t
                for t in focus.terms(question)
                if t.word not in cues and not (set(asked_fields(t.word)) & set(fields))
            ]
            check = focus.check(terms, [guide.title, hit.document.text], hit.document.text)
            if not check.passed or (terms and check.coverage < MIN_COVERAGE):
                continue
        return _answer(guide, present, hit, found, rank, [t.word for t in terms] if focus else [])
    return None


_ASPECT_OF_FIELD = {
    fields[0]: aspect for aspect, fields in _FIELDS_OF_ASPECT.items() if aspect != "contact"
}


def _answer(
    guide: ServiceGuide,
    present: list[str],
    hit: DocumentHit,
    found: Retrieval,
    rank: int,
    focus_words: list[str],
) -> Answer:
    parts = []
    for f in present:
        field = guide.fields[f]
        # one field: its text (the source card names the section); several: each labelled
        parts.append(f"{field.heading}：\n{field.text}" if len(present) > 1 else field.text)
    text = "\n".join(parts) + "[1]"
    doc = hit.document
    cited = ExtractiveAnswerer._source(
        hit,
        cited_text=guide.fields[present[0]].text,
        section="、".join(guide.fields[f].heading for f in present),
    )
    further = [ExtractiveAnswerer._source(h) for i, h in enumerate(found.hits) if i != rank]
    return Answer(
        text=text,
        answered=True,
        sources=[cited, *further],
        retrieved=found.hits,
        mode="service",
        confidence=1.0,
        evidence=Evidence(
            focus=focus_words,
            aspects=[_ASPECT_OF_FIELD.get(f, FIELD_LABELS[f]) for f in present],
            aspect_matched="section",
            section="、".join(guide.fields[f].heading for f in present),
            doc_id=doc.doc_id,
            confidence=1.0,
        ),
        service={
            **guide.public(),
            "asked": present,
            "labels": {f: FIELD_LABELS[f] for f in guide.fields},
        },
    )
