"""Policies end to end: ingest checks, expiry in chat, the matcher over HTTP, staff endpoints.

One index of test-written policies (tests/policy_corpus.py) per module, served by the app
with a staff log-in; public endpoints are called with the same client.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.assistant import Assistant
from bot.config import Settings
from bot.embedding import Embedder
from bot.index import KnowledgeIndex
from ingest.pipeline import Ingestor, IngestReport
from tests.policy_corpus import BAD, CHAT_PROFILE_QUESTION, GOOD, day, write, years_ago
from web.app import create_app

PASSWORD = "policy-pass-1"
PROFILE = {  # the chat question's enterprise, as the API takes it
    "registered_in": "江岸区",
    "industry": "软件和信息技术服务业",
    "established": "2023-04-01",
    "employees": 30,
    "qualifications": ["科技型中小企业"],
}
EXPIRED = {"rent-2023", "loan-interest", "talent-housing-old"}


@dataclass
class Served:
    client: TestClient
    bot: Assistant
    report: IngestReport


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("policies")
    kb = write(tmp / "kb", {**GOOD, **BAD})
    settings = Settings(data_dir=tmp / "data", admin_user="root", admin_password=PASSWORD)
    index = KnowledgeIndex.open(settings, embedder)
    report = Ingestor(index, progress=False).run([kb])
    index.close()
    bot = Assistant(settings, embedder=embedder)
    with TestClient(create_app(settings, bot)) as client:
        res = client.post("/api/admin/login", json={"username": "root", "password": PASSWORD})
        client.headers["Authorization"] = f"Bearer {res.json()['token']}"
        yield Served(client, bot, report)
    bot.close()


@pytest.fixture(scope="module")
def client(served: Served) -> TestClient:
    return served.client


def _match(client: TestClient, profile: dict[str, Any]) -> dict[str, dict[str, Any]]:
    res = client.post("/api/policies/match", json={"profile": profile})
    assert res.status_code == 200, res.text
    return {m["doc_id"]: m for m in res.json()["matches"]}


def _ask(client: TestClient, question: str) -> dict[str, Any]:
    res = client.post("/api/chat", json={"question": question})
    assert res.status_code == 200, res.text
    return res.json()  # type: ignore[no-any-return]


def _failure(report: IngestReport, name: str) -> str:
    reasons = [f.reason for f in report.failed if Path(f.path).name == name]
    assert reasons, f"{name} did not fail: {report.failed}"
    return reasons[0]


# --- ingest ------------------------------------------------------------------------------
def test_malformed_front_matter_fails_its_file_only(served: Served) -> None:
    report = served.report
    assert {Path(f.path).name for f in report.failed} == set(BAD)
    assert "established_years.max must be a number, not 'five'" in _failure(report, "bad-years.md")
    assert "unknown condition 'turnover'" in _failure(report, "bad-key.md")
    assert "valid_until must be a date" in _failure(report, "bad-until.md")
    assert "valid_until must be a date" in _failure(report, "bad-until-quoted.md")
    # an unquoted impossible date is refused by the YAML reader itself: the file still fails
    assert "bad-until-plain.md" in _failure(report, "bad-until-plain.md")
    zh = {Path(f.path).name: f.reason_zh for f in report.failed}
    assert "适用条件" in zh["bad-years.md"] and "成立年限" in zh["bad-years.md"]
    # every other file of the same run is indexed
    assert {Path(p).name for p in report.added} == set(GOOD)
    docs = served.bot.retriever.documents
    assert {"software-growth", "exhibit", "green-retrofit"} <= set(docs)
    assert not {"bad-years", "bad-key", "bad-until"} & set(docs)


def test_terms_read_off_the_text_are_warned_of(served: Served) -> None:
    warned = {Path(w.path).name: w.reason for w in served.report.warnings}
    assert set(warned) == {"housing.md", "exhibit.txt"}
    assert "有效期至2025年12月31日" in warned["housing.md"] and "2025-12-31" in warned["housing.md"]
    assert "2024-12-31" in warned["exhibit.txt"]
    docs = served.bot.retriever.documents
    assert (docs["exhibit"].valid_from, docs["exhibit"].valid_until) == ("2022-01-01", "2024-12-31")
    assert docs["software-growth"].validity_phrase == ""  # front matter needs no confirming


# --- expiry in chat ------------------------------------------------------------------------
def test_expired_by_text_is_said_with_its_date(client: TestClient) -> None:
    answer = _ask(client, "会展活动补贴是多少？")
    assert answer["answered"] and answer["sources"][0]["doc_id"] == "exhibit"
    assert answer["sources"][0]["expired"] and answer["sources"][0]["valid_until"] == "2024-12-31"
    text = answer["answer"]
    assert "已失效" in text and "2024年12月31日" in text
    assert "待工作人员确认" in text  # a date read off the text says so until staff confirm it
    assert "20%" in text  # the content is still shown, after the warning


def test_expired_by_front_matter_is_said_with_its_date(client: TestClient) -> None:
    answer = _ask(client, "创业担保贷款贴息怎么申请？")
    assert answer["answered"] and answer["sources"][0]["doc_id"] == "loan-interest"
    assert answer["sources"][0]["expired"]
    assert "已失效" in answer["answer"] and "2025年12月31日" in answer["answer"]


def test_current_policy_preferred_over_expired_one(served: Served) -> None:
    question = "软件企业办公用房租金补贴标准是多少？"
    # the expired 2023 version matches the question best ...
    raw = [h.document.doc_id for h in served.bot.retriever.search(question, k=5).hits]
    assert raw.index("rent-2023") < raw.index("rent-2026")
    # ... yet the answer is the version in force
    answer = _ask(served.client, question)
    assert answer["answered"] and answer["sources"][0]["doc_id"] == "rent-2026"
    assert "30%" in answer["answer"] and "50%" not in answer["answer"]
    assert "已失效" not in answer["answer"]
    older = [s for s in answer["sources"] if s["doc_id"] == "rent-2023"]
    assert all(s["expired"] and s["valid_until"] == "2025-12-31" for s in older)


# --- the matcher over HTTP -----------------------------------------------------------------
def test_match_statuses_order_and_sentences(client: TestClient) -> None:
    res = client.post("/api/policies/match", json={"profile": PROFILE})
    assert res.status_code == 200
    rows = res.json()["matches"]
    by_id = {r["doc_id"]: r for r in rows}
    assert by_id["software-growth"]["status"] == "eligible"
    assert by_id["rent-2026"]["status"] == "eligible"
    assert by_id["rd-subsidy"]["status"] == "possible"  # revenue and R&D share not given
    assert by_id["hitech-award"]["status"] == "ineligible"
    assert by_id["hitech-award"]["unmet"] == ["同时具有高新技术企业和专精特新资质"]
    assert by_id["rd-subsidy"]["unknown"] == [
        "年营业收入500万元至2亿元",
        "研发投入占营业收入比例不低于3%",
    ]
    growth = by_id["software-growth"]
    assert growth["benefit"] == "最高补贴50万元" and growth["valid_until"] == day(400)
    assert "注册地在江岸区" in growth["met"] and not growth["unmet"] and not growth["unknown"]
    # expired policies are left out, however well they fit
    assert not EXPIRED & set(by_id)
    # eligible first, ineligible last
    order = [{"eligible": 0, "possible": 1, "ineligible": 2}[r["status"]] for r in rows]
    assert order == sorted(order)


def test_match_founding_boundary_today(client: TestClient) -> None:
    five = years_ago(5).isoformat()
    six = years_ago(6).isoformat()
    assert (
        _match(client, {**PROFILE, "established": five})["software-growth"]["status"] == "eligible"
    )
    older = _match(client, {**PROFILE, "established": six})["software-growth"]
    assert older["status"] == "ineligible" and older["unmet"] == ["成立不超过5年"]
    # without the founding date the age is unknown: possible, not ineligible
    no_date = {k: v for k, v in PROFILE.items() if k != "established"}
    growth = _match(client, no_date)["software-growth"]
    assert growth["status"] == "possible" and growth["unknown"] == ["成立不超过5年"]


def test_match_empty_profile_is_all_possible(client: TestClient) -> None:
    rows = _match(client, {})
    assert rows and all(r["status"] == "possible" for r in rows.values())


def _long_qualifications() -> list[str]:
    return ["高新技术企业"] * 10_000


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"profile": {"employees": "many"}}, "employees"),
        ({"profile": {"employees": -3}}, "employees"),
        ({"profile": {"revenue_wan": -1}}, "revenue_wan"),
        ({"profile": {"rd_ratio": 5}}, "rd_ratio"),
        ({"profile": {"established": "2023-02-30"}}, "established"),
        ({"profile": {"established": "2023/02/01"}}, "established"),
        ({"profile": {"established": day(1)}}, "established"),
        ({"profile": {"turnover": 100}}, "turnover"),
        ({"profile": {}, "debug": True}, "debug"),
        ({"profile": {"qualifications": _long_qualifications()}}, "qualifications"),
        ({"profile": {"qualifications": "高新技术企业"}}, "qualifications"),
        ({}, "profile"),
    ],
    ids=[
        "type",
        "negative-employees",
        "negative-revenue",
        "ratio-over-1",
        "impossible-date",
        "date-format",
        "future-founding",
        "unknown-profile-key",
        "unknown-top-key",
        "10000-qualifications",
        "qualifications-not-list",
        "no-profile",
    ],
)
def test_match_refuses_bad_profiles_naming_the_field(
    client: TestClient, body: dict[str, Any], field: str
) -> None:
    res = client.post("/api/policies/match", json=body)
    assert res.status_code == 422, res.text
    data = res.json()
    assert field in data["error"]["message"]
    assert any(field in map(str, d["loc"]) for d in data["detail"])
    assert len(res.content) < 5000  # the 10,000 names are not echoed back


# --- chat: an enterprise describing itself ----------------------------------------------
def test_chat_description_is_matched_and_cited(client: TestClient) -> None:
    answer = _ask(client, CHAT_PROFILE_QUESTION)
    assert answer["answered"] and answer["mode"] == "match"
    text = answer["answer"]
    for title, benefit in (
        ("江岸区软件企业成长补贴", "最高补贴50万元"),
        ("江岸区软件企业办公用房租金补贴（2026版）", "租金补贴30%"),
    ):
        assert f"《{title}》：{benefit}" in text
    assert "高新技术企业认定奖励" not in text  # ineligible
    assert "2023版" not in text and "创业担保" not in text  # expired
    cited = [s["doc_id"] for s in answer["sources"]]
    assert cited[:2] == ["software-growth", "rent-2026"]
    assert not EXPIRED & set(cited)
    assert "[1]" in text and "[2]" in text
    # the structured result: the profile read off the question and the matches
    matches = answer["matches"]
    assert matches["profile"] == {
        "registered_in": "江岸区",
        "industry": "软件",
        "established": "2023",
        "employees": 30,
        "qualifications": ["科技型中小企业"],
    }
    status = {m["doc_id"]: m["status"] for m in matches["matches"]}
    assert status["software-growth"] == "eligible" and status["hitech-award"] == "ineligible"


def test_ordinary_questions_carry_no_matches(client: TestClient) -> None:
    answer = _ask(client, "软件企业办公用房租金补贴标准是多少？")
    assert answer["mode"] != "match" and "matches" not in answer


# --- staff ---------------------------------------------------------------------------------
def _admin_policies(client: TestClient) -> dict[str, Any]:
    res = client.get("/api/admin/policies")
    assert res.status_code == 200, res.text
    return res.json()  # type: ignore[no-any-return]


def test_admin_lists_terms_to_confirm_and_expiring(client: TestClient) -> None:
    data = _admin_policies(client)
    confirm = {t["doc_id"]: t for t in data["to_confirm"]}
    assert set(confirm) == {"talent-housing-old", "exhibit"}
    housing = confirm["talent-housing-old"]
    assert housing["phrase"] == "有效期至2025年12月31日" and housing["valid_until"] == "2025-12-31"
    assert housing["source"] == "text" and housing["status"] == "expired"
    assert confirm["exhibit"]["valid_from"] == "2022-01-01"
    # within 30 days: the one ending in 10 days, not the one ending in 40
    expiring = {e["doc_id"]: e for e in data["expiring"]}
    assert set(expiring) == {"green-retrofit"}
    assert expiring["green-retrofit"]["days_left"] == 10
    assert expiring["green-retrofit"]["valid_until"] == day(10)
    assert expiring["green-retrofit"]["title"] == "绿色低碳改造奖励"
    policies = {p["doc_id"]: p for p in data["policies"]}
    assert policies["rent-2023"]["status"] == "expired"
    assert policies["software-growth"]["status"] == "current"
    assert policies["software-growth"]["conditions_source"] == "document"
    assert "loan-interest" in data["without_conditions"]


def _review(client: TestClient, doc_id: str, verdict: str, phrase: str) -> Any:
    return client.post(f"/api/admin/validity/{doc_id}", json={"verdict": verdict, "phrase": phrase})


def test_staff_confirm_or_reject_a_term_read_off_the_text(client: TestClient) -> None:
    phrase = {t["doc_id"]: t["phrase"] for t in _admin_policies(client)["to_confirm"]}
    # confirmed: the term stands and is no longer called a guess
    res = _review(client, "talent-housing-old", "confirmed", phrase["talent-housing-old"])
    assert res.status_code == 200 and res.json()["valid_until"] == "2025-12-31"
    confirm = {t["doc_id"]: t for t in _admin_policies(client)["to_confirm"]}
    assert confirm["talent-housing-old"]["source"] == "text_confirmed"
    # rejected: the policy has no term, so it is not said to be expired
    res = _review(client, "exhibit", "rejected", phrase["exhibit"])
    assert res.status_code == 200 and res.json()["valid_until"] is None
    answer = _ask(client, "会展活动补贴是多少？")
    assert answer["sources"][0]["doc_id"] == "exhibit" and not answer["sources"][0]["expired"]
    assert "已失效" not in answer["answer"]
    # confirmed after all: expired again
    assert _review(client, "exhibit", "confirmed", phrase["exhibit"]).status_code == 200
    answer = _ask(client, "会展活动补贴是多少？")
    assert "已失效" in answer["answer"] and "待工作人员确认" not in answer["answer"]
    # a stale phrase, a document without a term read off its text, a bad verdict
    assert _review(client, "exhibit", "confirmed", "有效期至2030年1月1日").status_code == 422
    assert _review(client, "software-growth", "confirmed", "x").status_code == 404
    assert _review(client, "exhibit", "maybe", phrase["exhibit"]).status_code == 422


def test_staff_edit_conditions_changes_matching(client: TestClient) -> None:
    url = "/api/admin/policies/hitech-award/eligibility"
    assert _match(client, PROFILE)["hitech-award"]["status"] == "ineligible"
    # a malformed block is refused with the reason, and nothing changes
    bad = client.put(url, json={"eligibility": [{"established_years": {"max": "five"}}]})
    assert bad.status_code == 422
    assert "established_years.max must be a number" in bad.json()["error"]["message"]
    assert "成立年限" in bad.json()["error"]["message_zh"]
    unknown = client.put(url, json={"eligibility": [{"turnover": {"min": 1}}]})
    assert unknown.status_code == 422 and "turnover" in unknown.json()["error"]["message"]
    assert _match(client, PROFILE)["hitech-award"]["status"] == "ineligible"
    # a good block takes effect at once
    good = [{"registered_in": "江岸区"}, {"qualifications": {"any": ["科技型中小企业"]}}]
    res = client.put(url, json={"eligibility": good})
    assert res.status_code == 200, res.text
    assert res.json()["conditions_source"] == "staff"
    assert res.json()["conditions"] == ["注册地在江岸区", "具有科技型中小企业资质"]
    row = _match(client, PROFILE)["hitech-award"]
    assert row["status"] == "eligible" and row["met"] == [
        "注册地在江岸区",
        "具有科技型中小企业资质",
    ]
    # and chat answers with it too
    assert "高新技术企业认定奖励" in _ask(client, CHAT_PROFILE_QUESTION)["answer"]
    # DELETE restores the document's own conditions
    res = client.delete(url)
    assert res.status_code == 200 and res.json()["conditions_source"] == "document"
    assert _match(client, PROFILE)["hitech-award"]["status"] == "ineligible"
    # only policies have conditions
    assert (
        client.put("/api/admin/policies/nope/eligibility", json={"eligibility": []}).status_code
        == 404
    )
    assert client.delete("/api/admin/policies/exhibit/eligibility").status_code == 404


def test_policy_ending_soon_is_still_offered(client: TestClient) -> None:
    row = _match(client, PROFILE)["green-retrofit"]  # ends in 10 days: in force today
    assert row["valid_until"] == day(10) and row["status"] == "possible"
