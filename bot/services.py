"""Service guides (办事指南, `kind: service`): one item an enterprise applies for, in fields.

A guide's fields are its sections, found by heading (DESIGN.md "Service guides"): 申请材料 →
`materials`, 办理时限 → `time_limit` … A field is the whole section, sub-headings included,
so a question about it can be answered with all of it — every material, every step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.answering.structure import heading_of, physical_lines
from bot.models import Document, web_url

# field → the headings that name it (DESIGN.md); first the contract's, then common variants
FIELD_HEADINGS: dict[str, tuple[str, ...]] = {
    "audience": ("办理对象", "适用对象", "服务对象", "申请对象", "实施对象", "适用范围"),
    "conditions": ("受理条件", "申请条件", "办理条件", "申报条件", "准予许可的条件"),
    "materials": (
        "申请材料",
        "所需材料",
        "提交材料",
        "申报材料",
        "办理材料",
        "材料清单",
        "申请材料目录",
    ),
    "steps": ("办理流程", "办理程序", "办事流程", "申请流程", "办理步骤", "申报流程"),
    "time_limit": ("办理时限", "承诺时限", "法定时限", "承诺办结时限", "法定办结时限"),
    "fee": ("收费标准", "收费情况", "是否收费", "收费依据及标准"),
    "location": ("办理地点", "办理窗口", "受理地点", "受理窗口", "办公地点"),
    "hours": ("办理时间", "办公时间", "受理时间", "工作时间"),
    "phone": ("咨询电话", "咨询方式", "联系电话", "联系方式", "咨询途径", "监督电话"),
    "online": ("网上办理", "在线办理", "网上办理地址", "网办地址", "办理方式"),
    "basis": ("办理依据", "设定依据", "实施依据", "法律依据", "政策依据"),
}
FIELD_LABELS = {
    "audience": "办理对象",
    "conditions": "受理条件",
    "materials": "申请材料",
    "steps": "办理流程",
    "time_limit": "办理时限",
    "fee": "收费标准",
    "location": "办理地点",
    "hours": "办理时间",
    "phone": "咨询电话",
    "online": "网上办理",
    "basis": "办理依据",
}
FIELDS = tuple(FIELD_LABELS)
_NAME_TO_FIELD = {h: f for f, hs in FIELD_HEADINGS.items() for h in hs}
_TRIM = re.compile(r"[\s：:（(）)]+$|^[\s]+")
_URL = re.compile(r"https?://[^\s，。；、）)\]】]+")


def field_of_heading(heading: str) -> str:
    """The field a heading names ('' if none): 三、申请材料 / 所需材料清单 / 办理时限（工作日）."""
    # 三、申请材料 → 申请材料: the numbering dropped, as parse_fields reads headings
    numbered = heading_of("## " + heading.strip())
    h = _TRIM.sub("", (numbered[1] if numbered else heading).replace(" ", ""))
    if h in _NAME_TO_FIELD:
        return _NAME_TO_FIELD[h]
    # a heading that starts with a name and adds a few words (申请材料清单, 办理时限说明)
    best = ""
    for name in _NAME_TO_FIELD:
        if h.startswith(name) and len(h) - len(name) <= 4 and len(name) > len(best):
            best = name
    return _NAME_TO_FIELD[best] if best else ""


@dataclass(frozen=True)
class ServiceField:
    name: str  # materials, steps …
    heading: str  # as the document writes it
    text: str  # the whole section, one line per line of the document


@dataclass(frozen=True)
class ServiceGuide:
    doc_id: str
    title: str
    department: str
    fields: dict[str, ServiceField] = field(default_factory=dict)
    url: str = ""
    contact: str = ""
    updated: str = ""
    sample: bool = False

    @property
    def online_url(self) -> str:
        f = self.fields.get("online")
        m = _URL.search(f.text) if f else None
        return m.group(0) if m else web_url(self.url)

    def public(self) -> dict[str, object]:
        return {
            "id": self.doc_id,
            "title": self.title,
            "department": self.department,
            "fields": {name: f.text for name, f in self.fields.items()},
            "headings": {name: f.heading for name, f in self.fields.items()},
            "online_url": self.online_url,
            "url": web_url(self.url),
            "contact": self.contact,
            "updated": self.updated,
            "sample": self.sample,
        }


def parse_fields(text: str) -> dict[str, ServiceField]:
    """The fields of a guide's text, in document order; a field's section runs to the next
    heading of its own level or above (its sub-headings are part of it)."""
    out: dict[str, ServiceField] = {}
    open_field: tuple[str, str, int] | None = None  # field, heading, level
    body: list[str] = []

    def close() -> None:
        if open_field is not None:
            name, heading, _ = open_field
            content = "\n".join(line for line in body if line.strip()).strip()
            if content and name not in out:
                out[name] = ServiceField(name, heading, content)

    for line in physical_lines(text):
        head = heading_of(line)
        if head is not None:
            level, title = head
            if level == 1:
                continue
            name = field_of_heading(title)
            if open_field is not None and level > open_field[2] and not name:
                body.append(title + "：" if not title.endswith(("：", ":")) else title)
                continue  # a sub-heading inside the field
            close()
            open_field, body = ((name, title, level) if name else None), []
            continue
        if open_field is not None:
            body.append(line)
    close()
    return out


def other_headings(text: str) -> list[str]:
    """Headings at the level of the guide's fields that name no field (申清材料, 收费情况说明书):
    shown to staff, so that a typo in a heading is caught. All headings below the title
    when no field was found."""
    heads = [h for h in map(heading_of, physical_lines(text)) if h is not None and h[0] > 1]
    levels = [level for level, title in heads if field_of_heading(title)]
    top = min(levels) if levels else None
    out: list[str] = []
    for level, title in heads:
        if (top is None or level <= top) and not field_of_heading(title) and title not in out:
            out.append(title)
    return out


def guide(doc: Document) -> ServiceGuide:
    return ServiceGuide(
        doc.doc_id,
        doc.title,
        doc.department,
        parse_fields(doc.text),
        url=doc.url,
        contact=doc.contact,
        updated=doc.updated,
        sample=doc.sample,
    )
