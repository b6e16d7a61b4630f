"""Staff FAQ entries, insight and the hit test over HTTP, with the real embedder and index."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.assistant import Assistant
from bot.audit import AuditLog
from bot.config import Settings
from bot.embedding import Embedder
from bot.index import KnowledgeIndex
from ingest.faqbook import FaqBook, FaqFields
from ingest.pipeline import Ingestor
from tests.conftest import staff_client
from tests.fixtures_files import write_csv, write_markdown

PASSWORD = "s3cret-pass"
ENTRY = {
    "question": "江岸区的人才驿站可以免费住几天？",
    "alternatives": ["来江岸找工作的毕业生能在人才驿站免费住多久"],
    "answer": "来江岸求职的高校毕业生可在青年人才驿站免费入住7天，每人每年一次。",
    "category": "人才政策",
    "department": "区人社局",
    "contact": "区人社局 027-0000-0000",
}
# Neither the entry's question nor its alternative, word for word.
PARAPHRASE = "找工作的毕业生在江岸人才驿站能免费住几天？"


def _settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", admin_user="root", admin_password=PASSWORD)


@pytest.fixture()
def kb(tmp_path: Path, embedder: Embedder) -> Settings:
    write_markdown(
        tmp_path / "kb" / "startup.md",
        "startup",
        "企业开办指南",
        "## 时限\n企业开办全流程一个工作日办结，营业执照和公章当天领取。",
    )
    settings = _settings(tmp_path)
    index = KnowledgeIndex.open(settings, embedder)
    Ingestor(index, progress=False).run([tmp_path / "kb"])
    index.close()
    return settings


def _client(settings: Settings, embedder: Embedder) -> Iterator[TestClient]:
    return staff_client(settings, embedder, "root", PASSWORD)


@pytest.fixture()
def client(kb: Settings, embedder: Embedder) -> Iterator[TestClient]:
    yield from _client(kb, embedder)


def _ask(client: TestClient, question: str) -> dict:
    return client.post("/api/chat", json={"question": question}).json()  # type: ignore[no-any-return]


def test_faq_entry_is_answered_first_and_cited(client: TestClient) -> None:
    assert _ask(client, PARAPHRASE)["mode"] != "faq"
    created = client.post("/api/admin/faq", json=ENTRY)
    assert created.status_code == 201, created.text
    entry = created.json()
    assert entry["version"] == 1 and entry["doc_id"] == f"faq-{entry['id']}"

    got = _ask(client, PARAPHRASE)  # live at once, no restart
    assert got["mode"] == "faq" and got["answered"]
    assert got["answer"] == ENTRY["answer"] + "[1]"
    assert got["sources"][0]["doc_id"] == entry["doc_id"]
    assert got["sources"][0]["title"] == ENTRY["question"]
    # A question on another topic still goes through retrieval.
    other = _ask(client, "企业开办要几个工作日办结？")
    assert other["mode"] == "extractive" and other["sources"][0]["doc_id"] == "startup"
    # Same topic, different intent (time vs money) is not answered from the entry.
    assert _ask(client, "江岸区的人才驿站住一天收费多少钱？")["mode"] != "faq"

    listed = client.get("/api/admin/faq").json()
    assert [e["question"] for e in listed] == [ENTRY["question"]]
    assert listed[0]["alternatives"] == ENTRY["alternatives"]
    docs = {d["doc_id"]: d for d in client.get("/api/admin/documents").json()}
    assert docs[entry["doc_id"]]["origin"] == "faq"


def test_faq_table_rows_match_by_their_alternative_phrasings(
    tmp_path: Path, embedder: Embedder
) -> None:
    (tmp_path / "kb").mkdir()
    write_csv(
        tmp_path / "kb" / "faq.csv",
        [("江岸区的人才驿站可以免费住几天？", "免费入住7天。", "来江岸找工作能在驿站白住几天")],
        header=("question", "answer", "alternatives"),
    )
    settings = _settings(tmp_path)
    index = KnowledgeIndex.open(settings, embedder)
    Ingestor(index, progress=False).run([tmp_path / "kb"])
    index.close()
    bot = Assistant(settings, embedder=embedder)
    try:
        got = bot.ask("来江岸找工作的能在驿站白住几天")
        assert (got.mode, got.text, got.sources[0].doc_id) == ("faq", "免费入住7天。[1]", "faq#1")
    finally:
        bot.close()


def test_faq_edit_conflict_validation_and_delete(client: TestClient) -> None:
    entry = client.post("/api/admin/faq", json=ENTRY).json()
    url = f"/api/admin/faq/{entry['id']}"
    changed = {**ENTRY, "answer": "青年人才驿站可免费入住14天。", "base_version": 1}
    first = client.put(url, json=changed)
    assert first.status_code == 200 and first.json()["version"] == 2
    assert _ask(client, PARAPHRASE)["answer"] == "青年人才驿站可免费入住14天。[1]"

    # A second editor who also started from version 1 must not erase the first edit.
    stale = client.put(url, json={**ENTRY, "answer": "三天。", "base_version": 1})
    assert stale.status_code == 409
    assert "已被他人修改" in stale.json()["error"]["message_zh"]
    assert _ask(client, PARAPHRASE)["answer"] == "青年人才驿站可免费入住14天。[1]"

    # a second entry for the same question: its own reason (nobody else edited anything)
    duplicate = client.post("/api/admin/faq", json={**ENTRY, "alternatives": []})
    assert duplicate.status_code == 409
    error = duplicate.json()["error"]
    assert error["code"] == "duplicate" and "已被他人修改" not in error["message_zh"]
    assert error["message_zh"].startswith(f"已有相同问题的问答：“{ENTRY['question']}”")
    assert "already asks this question" in error["message"]
    assert client.post("/api/admin/faq", json={**ENTRY, "answer": ""}).status_code == 422
    assert client.post("/api/admin/faq", json={**ENTRY, "question": "？？"}).status_code == 422
    assert client.put("/api/admin/faq/999", json=changed).status_code == 404

    assert client.delete(url).status_code == 200
    assert _ask(client, PARAPHRASE)["mode"] != "faq"
    assert client.get("/api/admin/faq").json() == []
    actions = [
        (a["action"], a["old_version"], a["new_version"])
        for a in client.get("/api/admin/audit").json()
        if a["action"].startswith("faq")
    ]
    assert actions == [("faq_delete", 2, None), ("faq_update", 1, 2), ("faq_create", None, 1)]


def test_faq_table_and_index_agree_after_a_crash(kb: Settings, embedder: Embedder) -> None:
    for c in _client(kb, embedder):
        entry = c.post("/api/admin/faq", json=ENTRY).json()
    # Killed after the table changed but before the index did: simulate both directions.
    db = sqlite3.connect(kb.records_path)
    db.execute("UPDATE faq_entries SET answer='驿站免费住10天。' WHERE id=?", (entry["id"],))
    db.execute(
        "INSERT INTO faq_entries (question, alternatives, answer, category, department, contact,"
        " url, version, updated_by, updated_at) VALUES"
        " ('江岸区创业担保贷款最高能贷多少？', '[]', '个人最高50万元。', '金融支持', '', '', '', 1,"
        " 'root', 0)"
    )
    db.commit()
    db.close()
    for c in _client(kb, embedder):  # start again: the index catches up with the table
        assert _ask(c, PARAPHRASE)["answer"] == "驿站免费住10天。[1]"
        assert c.get("/api/admin/audit").json()[0]["action"] == "faq_sync"
        assert _ask(c, "江岸区创业担保贷款最高可以贷多少？")["answer"] == "个人最高50万元。[1]"


def test_insight_groups_unanswered_and_disliked_questions(client: TestClient) -> None:
    unanswered = [
        "江岸区游艇俱乐部有补贴吗？",
        "江岸区游艇俱乐部有没有补贴",
        "火星移民签证怎么办理？",
    ]
    for question in unanswered:
        assert _ask(client, question)["answered"] is False, question
    _ask(client, "企业开办要几个工作日办结？")
    _ask(client, "企业开办要几个工作日办结？")
    for question in ("企业开办全流程几个工作日办结？", "企业开办全流程要几个工作日办结"):
        answer = _ask(client, question)
        assert answer["answered"], question
        client.post(
            "/api/feedback",
            json={"question": question, "answer": answer["answer"], "rating": "down"},
        )

    got = client.get("/api/admin/insight", params={"days": 7}).json()
    assert got["asked"] == 7 and got["unanswered_total"] == 3
    first = got["unanswered"][0]
    assert first["count"] == 2 and first["faq"] is None
    assert {first["question"], *first["examples"]} == set(unanswered[:2])
    assert got["unanswered"][1]["count"] == 1
    assert len(got["disliked"]) == 1 and got["disliked"][0]["count"] == 2
    assert got["disliked"][0]["answer"]
    top = got["top"][0]
    # The four wordings of one question are one group, named by its most frequent wording.
    assert (top["question"], top["count"], top["answered"]) == (
        "企业开办要几个工作日办结？",
        4,
        1.0,
    )
    assert len(top["examples"]) == 2

    # "Add an FAQ answer" for the group: the group's wordings become the entry's phrasings.
    entry = client.post(
        "/api/admin/faq",
        json={
            "question": first["question"],
            "alternatives": first["examples"],
            "answer": "江岸区暂无游艇俱乐部专项补贴。",
        },
    ).json()
    after = client.get("/api/admin/insight", params={"days": 7}).json()
    assert after["unanswered"][0]["faq"] == entry["doc_id"]
    assert _ask(client, "江岸区游艇俱乐部有补贴吗")["mode"] == "faq"


def test_hit_test_shows_chunks_with_scores_and_logs_nothing(client: TestClient) -> None:
    client.post("/api/admin/faq", json=ENTRY)
    got = client.post("/api/admin/hit-test", json={"question": "企业开办几个工作日办结？"})
    assert got.status_code == 200
    body = got.json()
    assert body["answered"] and body["mode"] == "extractive"
    best = body["hits"][0]
    assert best["doc_id"] == "startup" and best["rank"] == 1 and best["coverage"] > 0.5
    chunk = best["chunks"][0]
    assert "一个工作日" in chunk["text"] and chunk["bm25"] > 0 and chunk["similarity"] > 0.5
    assert body["faq"]["matched"] is False  # the nearest FAQ phrasing, shown but not used

    faq = client.post("/api/admin/hit-test", json={"question": PARAPHRASE}).json()
    assert faq["mode"] == "faq" and faq["faq"]["matched"] and faq["faq"]["doc_id"] == "faq-1"
    assert client.post("/api/admin/hit-test", json={"question": ""}).status_code == 422
    assert client.get("/api/admin/insight").json()["asked"] == 0


def test_faq_ids_are_reserved_and_categories_respected(
    client: TestClient, kb: Settings, embedder: Embedder
) -> None:
    squatter = b"---\nid: faq-1\ntitle: x\n---\n## a\nb"
    res = client.post(
        "/api/admin/documents", files=[("files", ("faq-1.md", squatter, "text/markdown"))]
    )
    assert res.status_code == 422 and "留给后台问答" in res.json()["error"]["message_zh"]
    assert client.post("/api/admin/faq", json=ENTRY).status_code == 201
    assert (
        client.put(
            "/api/admin/faq/99999999999999999999", json={**ENTRY, "base_version": 1}
        ).status_code
        == 422
    )
    assert client.delete("/api/admin/faq/0").status_code == 422
    bot: Assistant = client.app.state.assistant  # type: ignore[attr-defined]
    assert bot.ask(PARAPHRASE, category="人才政策").mode == "faq"
    assert bot.ask(PARAPHRASE, category="金融支持").mode != "faq"


def test_a_slow_refresh_cannot_undo_a_newer_one(kb: Settings, embedder: Embedder) -> None:
    """An upload's refresh still building while an FAQ edit refreshes: the newer one wins."""
    bot = Assistant(kb, embedder=embedder)
    build = bot.retriever._build
    built = threading.Event()

    def slow_build():  # type: ignore[no-untyped-def]
        snapshot = build()  # read before the FAQ entry exists …
        built.set()
        time.sleep(1.0)  # … and swapped in after the entry's own refresh
        return snapshot

    bot.retriever._build = slow_build  # type: ignore[method-assign]
    stale = threading.Thread(target=bot.retriever.refresh)
    stale.start()
    built.wait(10)
    bot.retriever._build = build  # type: ignore[method-assign]
    audit = AuditLog(bot.index.database)
    book = FaqBook(bot.index.database, bot.index, bot.refresh, audit)
    book.create(FaqFields(ENTRY["question"], ENTRY["answer"], ENTRY["alternatives"]), "root")
    stale.join(10)
    try:
        assert bot.ask(PARAPHRASE).mode == "faq"
    finally:
        bot.close()


def test_insight_lists_doubtful_answers_counts_follow_ups_as_asked_and_draws_days(
    client: TestClient,
) -> None:
    first = _ask(client, "企业开办要几个工作日办结？")
    follow = client.post(
        "/api/chat", json={"question": "当天能拿吗？", "session_id": first["session_id"]}
    ).json()
    answered = int(first["answered"]) + int(follow["answered"])
    # an answer whose evidence covered the question poorly, as the log keeps it
    bot = client.app.state.assistant  # type: ignore[attr-defined]
    bot.questions.add(
        "开办企业有啥讲究", "开办企业有啥讲究", True, "extractive", "startup", "s1", confidence=0.3
    )
    bot.questions.add(
        "刻章有讲究吗", "刻章有讲究吗", False, "extractive", "", "s2", reason="not_in_evidence"
    )

    got = client.get("/api/admin/insight", params={"days": 7}).json()
    low = got["low_confidence"]
    assert [g["question"] for g in low] == ["开办企业有啥讲究"]
    assert low[0]["confidence"] == 0.3 and low[0]["doc_id"] == "startup"
    assert got["low_confidence_threshold"] == bot.answerer.policy.low_confidence
    # a follow-up is counted as the question it stands for, never as "当天能拿吗？"
    worded = {g["question"] for g in got["top"]}
    assert "当天能拿吗？" not in worded and any("当天能拿吗" in w and len(w) > 6 for w in worded)
    # one bar per day of the period, today's holding every question
    days = got["daily"]
    assert len(days) == 7 and days[-1]["asked"] == got["asked"] == 4
    assert days[-1]["answered"] == answered + 1 and sum(d["asked"] for d in days[:-1]) == 0


def test_a_question_log_from_the_previous_release_is_upgraded_in_place(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "records.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE question_log (id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL,"
        " session_id TEXT NOT NULL, question TEXT NOT NULL, standalone TEXT NOT NULL,"
        " answered INTEGER NOT NULL, mode TEXT NOT NULL, top_doc TEXT NOT NULL DEFAULT '');"
        "INSERT INTO question_log (at, session_id, question, standalone, answered, mode)"
        " VALUES (strftime('%s','now'), 's', '旧问题', '旧问题', 1, 'extractive');"
    )
    old.commit()
    old.close()
    from bot.questionlog import QuestionLog
    from bot.records import Database, upgrade
    from bot.records.database import sqlite_url

    database = Database(sqlite_url(path))
    upgrade(database)  # what the start-up does before any store is built
    log = QuestionLog(database)
    log.add("新问题", "新问题", True, "extractive", confidence=0.9)
    rows = {r["question"]: r for r in log.since(1)}
    assert rows["旧问题"]["confidence"] is None and rows["新问题"]["confidence"] == 0.9
    database.close()
