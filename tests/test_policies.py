"""Policies: the eligibility grammar and matcher, terms read off the text, profiles read off chat.

Pure functions with a fixed `today`; the index, the chat and the HTTP API are in
test_policy_api.py.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from bot.policies import eligibility, validity
from bot.policies.eligibility import EligibilityError, evaluate, parse
from bot.policies.profile import describes_enterprise, extract
from tests.policy_corpus import years_ago

TODAY = dt.date(2026, 6, 15)


def _status(raw: list[dict[str, Any]], profile: dict[str, Any], today: dt.date = TODAY) -> str:
    return evaluate(parse(raw), profile, today).status


def _verdict(raw: dict[str, Any], profile: dict[str, Any], today: dt.date = TODAY) -> str:
    """met / unmet / unknown for one condition."""
    out = evaluate(parse([raw]), profile, today)
    return "met" if out.met else "unmet" if out.unmet else "unknown"


# --- the matcher -------------------------------------------------------------------------
SOFTWARE = [
    {"registered_in": "江岸区"},
    {"established_years": {"max": 5}},
    {"industry": ["软件和信息技术服务业", "人工智能"]},
    {"qualifications": {"any": ["高新技术企业", "科技型中小企业"]}},
    {"employees": {"min": 10}},
    {"revenue_wan": {"min": 500, "max": 20000}},
    {"rd_ratio": {"min": 0.03}},
]
FULL = {
    "registered_in": "江岸区",
    "established": "2023-04-01",
    "industry": "软件",
    "qualifications": ["科技型中小企业"],
    "employees": 30,
    "revenue_wan": 800,
    "rd_ratio": 0.05,
}


def test_three_statuses_with_every_condition_kind() -> None:
    out = evaluate(parse(SOFTWARE), FULL, TODAY)
    assert out.status == "eligible" and len(out.met) == 7 and not out.unmet and not out.unknown
    # one field missing from the profile: unknown, so possible (not ineligible)
    partial = {k: v for k, v in FULL.items() if k != "rd_ratio"}
    out = evaluate(parse(SOFTWARE), partial, TODAY)
    assert out.status == "possible" and not out.unmet
    assert out.unknown == ["研发投入占营业收入比例不低于3%"]
    # one unmet beats any number of unknowns
    out = evaluate(parse(SOFTWARE), {"registered_in": "江汉区"}, TODAY)
    assert out.status == "ineligible" and out.unmet == ["注册地在江岸区"] and len(out.unknown) == 6
    # the empty profile knows nothing
    assert _status(SOFTWARE, {}) == "possible"


def test_sentences_are_short_chinese() -> None:
    sentences = evaluate(parse(SOFTWARE), FULL, TODAY).met
    assert sentences == [
        "注册地在江岸区",
        "成立不超过5年",
        "属于软件和信息技术服务业、人工智能行业之一",
        "具有高新技术企业或科技型中小企业资质",
        "职工人数不少于10人",
        "年营业收入500万元至2亿元",
        "研发投入占营业收入比例不低于3%",
    ]
    assert all(len(s) <= 30 for s in sentences)


@pytest.mark.parametrize(
    ("condition", "profile", "verdict"),
    [
        # registered_in: the district, however it is written
        ({"registered_in": "江岸区"}, {"registered_in": "江岸区"}, "met"),
        ({"registered_in": "江岸区"}, {"registered_in": "武汉市江岸区"}, "met"),
        ({"registered_in": "江岸区"}, {"registered_in": "江汉区"}, "unmet"),
        ({"registered_in": "江岸区"}, {}, "unknown"),
        # industry: one of
        ({"industry": ["软件和信息技术服务业", "人工智能"]}, {"industry": "软件"}, "met"),
        ({"industry": ["软件和信息技术服务业", "人工智能"]}, {"industry": "人工智能"}, "met"),
        ({"industry": ["软件和信息技术服务业", "人工智能"]}, {"industry": "餐饮"}, "unmet"),
        ({"industry": "软件和信息技术服务业"}, {}, "unknown"),
        # qualifications: any / all, with the usual abbreviations
        (
            {"qualifications": {"any": ["高新技术企业", "专精特新"]}},
            {"qualifications": ["专精特新"]},
            "met",
        ),
        ({"qualifications": {"any": ["高新技术企业"]}}, {"qualifications": ["高企"]}, "met"),
        ({"qualifications": {"any": ["高新技术企业"]}}, {"qualifications": []}, "unmet"),
        (
            {"qualifications": {"all": ["高新技术企业", "专精特新"]}},
            {"qualifications": ["高新技术企业"]},
            "unmet",
        ),
        (
            {"qualifications": {"all": ["高新技术企业", "专精特新"]}},
            {"qualifications": ["国家高新技术企业", "专精特新小巨人"]},
            "met",
        ),
        ({"qualifications": ["科技型中小企业"]}, {"qualifications": ["科小"]}, "met"),
        ({"qualifications": {"all": ["高新技术企业"]}}, {}, "unknown"),
        # employees: min is inclusive, one below is unmet
        ({"employees": {"min": 10}}, {"employees": 10}, "met"),
        ({"employees": {"min": 10}}, {"employees": 9}, "unmet"),
        ({"employees": {"max": 300}}, {"employees": 300}, "met"),
        ({"employees": {"max": 300}}, {"employees": 301}, "unmet"),
        ({"employees": {"min": 10}}, {}, "unknown"),
        # revenue_wan: both bounds inclusive
        ({"revenue_wan": {"min": 500, "max": 20000}}, {"revenue_wan": 500}, "met"),
        ({"revenue_wan": {"min": 500, "max": 20000}}, {"revenue_wan": 20000}, "met"),
        ({"revenue_wan": {"min": 500, "max": 20000}}, {"revenue_wan": 499.9}, "unmet"),
        ({"revenue_wan": {"min": 500, "max": 20000}}, {"revenue_wan": 20001}, "unmet"),
        # rd_ratio: a share
        ({"rd_ratio": {"min": 0.03}}, {"rd_ratio": 0.03}, "met"),
        ({"rd_ratio": {"min": 0.03}}, {"rd_ratio": 0.029}, "unmet"),
        ({"rd_ratio": {"min": 0.03}}, {}, "unknown"),
    ],
)
def test_each_condition_kind(condition: dict, profile: dict, verdict: str) -> None:
    assert _verdict(condition, profile) == verdict


def test_established_years_boundaries() -> None:
    five = {"established_years": {"max": 5}}
    # founded exactly five years ago today: 5 whole years, max 5 holds
    assert _verdict(five, {"established": years_ago(5, TODAY).isoformat()}) == "met"
    # a day short of six years is still 5 whole years
    short = years_ago(6, TODAY) + dt.timedelta(days=1)
    assert _verdict(five, {"established": short.isoformat()}) == "met"
    # six years today: one over
    assert _verdict(five, {"established": years_ago(6, TODAY).isoformat()}) == "unmet"
    # min is inclusive too: exactly 3 years meets {min: 3}, a day less does not
    three = {"established_years": {"min": 3}}
    assert _verdict(three, {"established": "2023-06-15"}) == "met"
    assert _verdict(three, {"established": "2023-06-16"}) == "unmet"
    # an age stated directly (成立三年) and a founding year alone
    assert _verdict(five, {"established_years": 5}) == "met"
    assert _verdict(five, {"established_years": 6}) == "unmet"
    assert _verdict(five, {"established": "2023"}) == "met"  # 2 or 3 years
    assert _verdict(five, {"established": "2019"}) == "unmet"  # 6 or 7
    assert _verdict(five, {"established": "2020"}) == "unknown"  # 5 or 6: the date decides
    assert _verdict(five, {}) == "unknown"


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ([{"established_years": {"max": "five"}}], "established_years.max must be a number"),
        ([{"turnover": {"min": 5}}], "unknown condition 'turnover'"),
        ([{"employees": 10}], "employees takes {min: …, max: …}"),
        ([{"employees": {"min": 10, "most": 50}}], "employees takes"),
        ([{"revenue_wan": {"min": -1}}], "revenue_wan.min must not be negative"),
        ([{"revenue_wan": {"min": 900, "max": 100}}], "min 900 is above max 100"),
        ([{"rd_ratio": {"min": 3}}], "rd_ratio is a share between 0 and 1"),
        ([{"qualifications": {"some": ["高新技术企业"]}}], "{any: […]} or {all: […]}"),
        ([{"industry": []}], "industry must be a name or a non-empty list"),
        ([{"registered_in": "江岸区", "employees": {"min": 1}}], "one `key: value` pair"),
        ("江岸区", "must be a list"),
        ([{"industry": [f"行业{n}" for n in range(60)]}], "more than 50 names"),
    ],
)
def test_malformed_conditions_say_what_is_wrong(raw: Any, says: str) -> None:
    with pytest.raises(EligibilityError) as err:
        parse(raw)
    assert says in err.value.message
    assert err.value.message_zh  # and in Chinese, for /admin


def test_conditions_round_trip_through_storage() -> None:
    conditions = parse(SOFTWARE)
    assert eligibility.loads(eligibility.dumps(conditions)) == conditions
    assert parse(None) == () and eligibility.dumps(()) == ""


# --- validity read off the text ----------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "valid_from", "valid_until"),
    [
        ("本办法有效期至2025年12月31日。", "", "2025-12-31"),
        ("本办法自2022年1月1日起施行，有效期3年。", "2022-01-01", "2024-12-31"),
        ("本细则自2023年3月1日起实施，有效期两年。", "2023-03-01", "2025-02-28"),
        ("有效期为2024年1月1日至2026年12月31日。", "2024-01-01", "2026-12-31"),
        ("本办法自2023年1月1日起施行，有效期至2025年12月31日。", "2023-01-01", "2025-12-31"),
        ("本办法由区发改局负责解释。", "", ""),
    ],
)
def test_term_read_off_the_text(text: str, valid_from: str, valid_until: str) -> None:
    found = validity.from_text("## 附则\n" + text)
    assert (found.valid_from, found.valid_until) == (valid_from, valid_until)
    assert bool(found.phrase) == bool(valid_until)


def test_validity_status_and_date_words() -> None:
    assert validity.status("", "2025-12-31", dt.date(2025, 12, 31)) == "current"  # its last day
    assert validity.status("", "2025-12-31", dt.date(2026, 1, 1)) == "expired"
    assert validity.status("2026-07-01", "", TODAY) == "pending"
    assert validity.chinese_date("2025-12-31") == "2025年12月31日"
    assert validity.chinese_date("2026-01-05") == "2026年1月5日"


# --- profiles read off a chat message -----------------------------------------------------
DESCRIPTIONS: list[tuple[str, dict[str, Any]]] = [
    (
        "我们是2023年在江岸区注册的软件公司，30人，是科技型中小企业，能申请哪些补贴？",
        {
            "registered_in": "江岸区",
            "industry": "软件",
            "established": "2023",
            "employees": 30,
            "qualifications": ["科技型中小企业"],
        },
    ),
    (
        "公司在江汉区，做人工智能的，成立三年了，五十个员工，去年营收800万，研发投入占5%，有啥政策？",
        {
            "registered_in": "江汉区",
            "industry": "人工智能",
            "established_years": 3,
            "employees": 50,
            "revenue_wan": 800,
            "rd_ratio": 0.05,
        },
    ),
    (
        "我司位于江岸区，主要做生物医药，2019年3月成立，员工120人左右，年营业收入1.2亿，"
        "是高新技术企业和专精特新企业。",
        {
            "registered_in": "江岸区",
            "industry": "生物医药",
            "established": "2019-03",
            "employees": 120,
            "revenue_wan": 12000,
            "qualifications": ["高新技术企业", "专精特新"],
        },
    ),
    (
        "我们是一家餐饮企业，开了两年多，30来人，营业额300万，能享受什么优惠？",
        {"industry": "餐饮", "established_years": 2, "employees": 30, "revenue_wan": 300},
    ),
    (
        "我们公司注册在武昌区，做跨境电商，去年成立的，还不是高企。",
        {
            "registered_in": "武昌区",
            "industry": "跨境电商",
            "established": "2025",
            "qualifications": [],  # said, and negated: known to hold none
        },
    ),
    (
        "江岸区的一家集成电路设计公司，成立5年，规上企业，研发费用占比百分之八，年销售收入两亿",
        {
            "registered_in": "江岸区",
            "industry": "集成电路",
            "established_years": 5,
            "revenue_wan": 20000,
            "rd_ratio": 0.08,
            "qualifications": ["规上企业"],
        },
    ),
    (
        "我们是科技型中小企业，也是国家高新技术企业，在江岸区注册，研发投入占营收的4.5%，能申请什么？",
        {
            "registered_in": "江岸区",
            "rd_ratio": 0.045,
            "qualifications": ["科技型中小企业", "高新技术企业"],
        },
    ),
    (
        "我们做物流的，注册于2020年，员工大概200多人，年收入5000万元。",
        {"industry": "物流", "established": "2020", "employees": 200, "revenue_wan": 5000},
    ),
    (
        "小公司，在洪山区，软件开发，成立一年，8个人，年营业额80万。",
        {
            "registered_in": "洪山区",
            "industry": "软件开发",
            "established_years": 1,
            "employees": 8,
            "revenue_wan": 80,
        },
    ),
    (
        "我们是专精特新小巨人企业，主营智能制造，职工人数350人，产值3.5亿元，成立十年了，注册地为江岸区。",
        {
            "registered_in": "江岸区",
            "industry": "智能制造",
            "established_years": 10,
            "employees": 350,
            "revenue_wan": 35000,
            "qualifications": ["专精特新小巨人"],
        },
    ),
]


@pytest.mark.parametrize(("text", "expected"), DESCRIPTIONS, ids=[str(n) for n in range(10)])
def test_profile_read_off_a_description(text: str, expected: dict[str, Any]) -> None:
    assert extract(text, TODAY) == expected


def test_profile_reads_only_what_is_said() -> None:
    assert extract("施工许可证要带什么材料？多久能办好？", TODAY) == {}
    assert extract("我们还没有高新技术企业资质，员工30来人", TODAY) == {
        "employees": 30,
        "qualifications": [],
    }
    # a year in the future is no founding year
    assert "established" not in extract("我们2030年成立的公司", TODAY)


def test_a_description_that_asks_is_a_match_question() -> None:
    text, _ = DESCRIPTIONS[0]
    assert describes_enterprise(text, extract(text, TODAY))
    # facts without the question, and the question without facts, are not
    fact = "我们是2023年在江岸区注册的软件公司，30人。"
    assert not describes_enterprise(fact, extract(fact, TODAY))
    ask = "能申请哪些补贴？"
    assert not describes_enterprise(ask, extract(ask, TODAY))


def test_an_unquoted_impossible_date_is_named(tmp_path: Path) -> None:
    from bot.errors import IngestError
    from ingest.parsers import parse_markdown

    doc = tmp_path / "bad-date.md"
    doc.write_text(
        "---\nid: bad-date\nkind: policy\nvalid_until: 2023-02-30\n---\n# 补贴办法\n正文。\n",
        encoding="utf-8",
    )
    with pytest.raises(IngestError) as caught:
        parse_markdown(doc, tmp_path)
    assert "valid_until" in str(caught.value) and "2023-02-30" in str(caught.value)
    assert "不存在" in caught.value.message_zh
