"""「我们公司能享受哪些政策」: the policies an enterprise described in chat is eligible for, cited."""

from __future__ import annotations

from typing import Any

from bot.models import Answer, Source
from bot.policies.catalog import Catalog
from bot.policies.eligibility import money, percent

MAX_ELIGIBLE = 10
MAX_POSSIBLE = 5
_FIELD_ZH = (
    ("registered_in", "注册地"),
    ("industry", "行业"),
    ("established", "成立"),
    ("established_years", "成立年限"),
    ("employees", "职工人数"),
    ("revenue_wan", "年营业收入"),
    ("rd_ratio", "研发投入占比"),
    ("qualifications", "资质"),
)


def describe(profile: dict[str, Any]) -> str:
    """注册地：江岸区；行业：软件；成立：2023年 …"""
    parts = []
    for key, label in _FIELD_ZH:
        if key not in profile:
            continue
        v = profile[key]
        if key == "established":
            shown = f"{v[:4]}年" + (f"{int(v[5:7])}月" if len(v) >= 7 else "")
        elif key == "established_years":
            shown = f"{v}年"
        elif key == "employees":
            shown = f"{v}人"
        elif key == "revenue_wan":
            shown = money(v)
        elif key == "rd_ratio":
            shown = percent(v)
        elif key == "qualifications":
            shown = "、".join(v) if v else "无"
        else:
            shown = str(v)
        parts.append(f"{label}：{shown}")
    return "；".join(parts)


def match_answer(profile: dict[str, Any], catalog: Catalog, hotline: str) -> Answer:
    rows = catalog.match(profile)
    eligible = [r for r in rows if r["status"] == "eligible"][:MAX_ELIGIBLE]
    # a policy of which nothing is known yet is no lead; one with conditions met is
    possible = [r for r in rows if r["status"] == "possible" and r["met"]][:MAX_POSSIBLE]
    said = describe(profile)
    sources: list[Source] = []
    lines = [f"根据您提供的信息（{said}），按知识库中政策的适用条件匹配："]

    def cite(row: dict[str, Any]) -> str:
        p = catalog.policy(row["doc_id"])
        assert p is not None
        d = p.document
        sources.append(
            Source(
                doc_id=d.doc_id,
                title=d.title,
                section="适用条件",
                snippet=(d.benefit or "；".join(row["met"]))[:120],
                url=d.url,
                score=1.0,
                category=d.category,
                department=d.department,
                contact=d.contact,
                doc_number=d.doc_number,
                issuer=d.issuer,
                issued=d.issued,
                updated=d.updated,
                sample=d.sample,
                valid_until=row["valid_until"] or "",
            )
        )
        return f"[{len(sources)}]"

    if eligible:
        lines.append("符合条件的政策：")
        for n, r in enumerate(eligible, 1):
            benefit = f"：{r['benefit']}" if r["benefit"] else ""
            lines.append(f"{n}. 《{r['title']}》{benefit}{cite(r)}")
    if possible:
        lines.append("可能符合、需要进一步确认的政策：")
        for n, r in enumerate(possible, 1):
            benefit = f"：{r['benefit']}" if r["benefit"] else ""
            check = "；".join(r["unknown"])
            lines.append(f"{n}. 《{r['title']}》{benefit}（请确认：{check}）{cite(r)}")
    result = {"profile": profile, "matches": rows}
    if not eligible and not possible:
        text = (
            f"根据您提供的信息（{said}），知识库中没有找到条件相符的现行政策。"
            f"您可以在「政策匹配」中补充更多企业信息，或咨询{hotline}。"
        )
        return Answer(
            text=text,
            answered=False,
            sources=[],
            contact=hotline,
            mode="match",
            refusal_reason="no_policy_matched",
            matches=result,
        )
    lines.append("以上为按政策文件所列条件自动匹配的结果，是否能享受以主管部门审核为准。")
    return Answer(
        text="\n".join(lines),
        answered=True,
        sources=sources,
        mode="match",
        confidence=1.0 if eligible else 0.5,
        matches=result,
    )
