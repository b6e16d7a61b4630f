"""Conversations kept in the records database: last N turns, idle expiry, restarts."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from bot.answering.followup import needs_context, rule_rewrite
from bot.assistant import Assistant
from bot.config import Settings
from bot.embedding import Embedder
from bot.sessions import SessionStore, Turn
from web.app import create_app


def _turn(n: int) -> Turn:
    return Turn(f"问题{n}", f"完整问题{n}", f"回答{n}", True, (f"doc-{n}",))


def test_only_the_last_turns_are_kept(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "records.sqlite3", max_turns=3)
    for n in range(1, 6):
        store.append("s1", _turn(n), now=100.0 + n)
    store.append("s2", _turn(9), now=106.0)
    history = store.history("s1", now=110.0)
    assert [t.question for t in history] == ["问题3", "问题4", "问题5"]
    assert history[-1].doc_ids == ("doc-5",) and history[-1].standalone == "完整问题5"
    assert [t.question for t in store.history("s2", now=110.0)] == ["问题9"]


def test_idle_sessions_expire_and_activity_keeps_them(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "records.sqlite3", idle_minutes=10)
    store.append("busy", _turn(1), now=0.0)
    store.append("idle", _turn(1), now=0.0)
    store.append("busy", _turn(2), now=500.0)  # a new turn refreshes the whole session
    assert len(store.history("busy", now=1000.0)) == 2
    assert store.history("idle", now=1000.0) == []  # idle 1000 s > 600 s
    assert store.history("busy", now=1200.0) == []  # now idle too


def test_sessions_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "records.sqlite3"
    store = SessionStore(path)
    store.append("s", _turn(1))
    store.close()
    assert [t.answer for t in SessionStore(path).history("s")] == ["回答1"]


def test_follow_up_detection_and_rule() -> None:
    assert needs_context("那博士呢？") and needs_context("需要什么材料？")
    assert needs_context("这个要多久？")
    assert not needs_context("人才公寓怎么申请？")
    history = [Turn("人才公寓怎么申请？", "人才公寓怎么申请？", "…", True)]
    # only the aspect changes: the topic stays, the old aspect goes
    assert rule_rewrite("需要什么材料？", history) == "人才公寓需要什么材料？"
    assert rule_rewrite("企业开办要多久？", history) == "企业开办要多久？"
    assert rule_rewrite("需要什么材料？", []) == "需要什么材料？"
    # the old aspect's words go with it, those after its cue too (在哪|个窗口)
    history = [Turn("民宿备案在哪个窗口办？", "民宿备案在哪个窗口办？", "…", True)]
    assert rule_rewrite("那要带什么材料？", history) == "民宿备案要带什么材料？"
    # a new aspect with words of its own keeps the topic too
    history = [Turn("招大学生见习，一个月补多少钱？", "招大学生见习，一个月补多少钱？", "…", True)]
    assert rule_rewrite("那每个季度啥时候之前要报？", history) == "大学生见习每个季度啥时候之前要报？"


def test_a_follow_up_swaps_a_grade_written_with_a_number_or_a_letter() -> None:
    def ask(first: str, then: str) -> str:
        return rule_rewrite(then, [Turn(first, first, "…", True)])

    assert ask("景区评上4A能奖多少？", "那5A的呢？") == "景区评上5a能奖多少?"
    assert ask("B类人才每月补多少", "那A类的呢？") == "a类人才每月补多少"
    assert ask("评上3星级能补多少", "那5星级的呢") == "评上5星级能补多少"
    # a number alone is no grade: a year or a count is not swapped for it
    assert "2023" not in ask("企业开办要3天吗", "那2023年的呢？").split(" ")[0]


def test_a_conversation_over_http(kb_settings: Settings, embedder: Embedder) -> None:
    bot = Assistant(kb_settings, embedder=embedder)
    with TestClient(create_app(kb_settings, bot)) as client:
        first = client.post("/api/chat", json={"question": "人才公寓怎么申请？"}).json()
        follow = client.post(
            "/api/chat", json={"question": "需要什么材料？", "session_id": first["session_id"]}
        ).json()
        fresh = client.post("/api/chat", json={"question": "需要什么材料？"}).json()
    bot.close()
    assert follow["session_id"] == first["session_id"] and follow["answered"]
    assert follow["sources"][0]["doc_id"] == first["sources"][0]["doc_id"]
    assert "公寓" in follow["sources"][0]["title"] + follow["answer"]
    # without the conversation the same words are not about apartments
    assert fresh["session_id"] != first["session_id"]
    assert not fresh["sources"] or "公寓" not in fresh["sources"][0]["title"]


def test_issued_ids_hold_across_processes_and_chosen_ones_do_not(tmp_path: Path) -> None:
    path = tmp_path / "records.sqlite3"
    one, two = SessionStore(path), SessionStore(path)  # two processes on one records file
    issued = one.new_id()
    assert one.valid_id(issued) and two.valid_id(issued)
    assert not one.valid_id("abc-123") and not one.valid_id(None)
    assert not SessionStore(tmp_path / "other.sqlite3").valid_id(issued)  # another deployment
