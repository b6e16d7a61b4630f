"""Conversations kept in the records database: last N turns, idle expiry, restarts, replicas.

The store tests run on both engines (`database`: SQLite and PostgreSQL, tests/conftest.py).
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from bot.answering.followup import needs_context, rule_rewrite
from bot.assistant import Assistant
from bot.config import Settings
from bot.embedding import Embedder
from bot.records import Database, upgrade
from bot.records.database import sqlite_url
from bot.records.models import session_turns
from bot.sessions import SessionStore, Turn
from web.app import create_app


def _turn(n: int) -> Turn:
    return Turn(f"问题{n}", f"完整问题{n}", f"回答{n}", True, (f"doc-{n}",))


def _stored(database: Database, session_id: str) -> int:
    """Rows the session has in the table (expired or not), as another connection sees them."""
    with database.read() as conn:
        query = sa.select(sa.func.count()).where(session_turns.c.session_id == session_id)
        return int(conn.scalar(query) or 0)


def test_only_the_last_turns_are_kept(database: Database) -> None:
    store = SessionStore(database, max_turns=3)
    for n in range(1, 6):
        store.append("s1", _turn(n), now=100.0 + n)
    store.append("s2", _turn(9), now=106.0)
    history = store.history("s1", now=110.0)
    assert [t.question for t in history] == ["问题3", "问题4", "问题5"]
    assert history[-1].doc_ids == ("doc-5",) and history[-1].standalone == "完整问题5"
    assert [t.question for t in store.history("s2", now=110.0)] == ["问题9"]
    assert _stored(database, "s1") == 3  # older turns are deleted, not only hidden


def test_idle_sessions_expire_and_activity_keeps_them(database: Database) -> None:
    store = SessionStore(database, idle_minutes=10)
    store.append("busy", _turn(1), now=0.0)
    store.append("idle", _turn(1), now=0.0)
    store.append("busy", _turn(2), now=500.0)  # a new turn refreshes the whole session
    assert len(store.history("busy", now=1000.0)) == 2
    assert store.history("idle", now=1000.0) == []  # idle 1000 s > 600 s
    assert store.history("busy", now=1200.0) == []  # now idle too
    # the next write deletes every expired turn; the idle session starts over at turn 1
    store.append("idle", _turn(3), now=1300.0)
    assert _stored(database, "busy") == 0 and _stored(database, "idle") == 1
    assert [t.question for t in store.history("idle", now=1300.0)] == ["问题3"]


def test_sessions_survive_a_restart(database_url: str) -> None:
    first = Database(database_url)
    upgrade(first)
    store = SessionStore(first)
    sid = store.new_id()
    store.append(sid, _turn(1))
    first.close()
    again = Database(database_url)  # a new process: new engine, same database
    try:
        restarted = SessionStore(again)
        assert restarted.valid_id(sid)
        assert [t.answer for t in restarted.history(sid)] == ["回答1"]
    finally:
        again.close()


def test_replicas_on_one_database_share_sessions(database: Database) -> None:
    """Two replicas (each its own engine on the same URL) behind a load balancer: a session id
    issued by one is valid on the other, and turns written by one are read by the other."""
    other = Database(database.url)  # not `Database.shared`: a separate engine and pool
    try:
        a, b = SessionStore(database), SessionStore(other)
        sid = a.new_id()
        assert b.valid_id(sid) and a.valid_id(b.new_id())
        a.append(sid, _turn(1))
        b.append(sid, _turn(2))  # the follow-up lands on the other replica
        a.append(sid, _turn(3))
        assert [t.question for t in b.history(sid)] == ["问题1", "问题2", "问题3"]
        assert a.history(sid) == b.history(sid)
    finally:
        other.close()


def test_a_turn_is_written_in_the_callers_transaction(database: Database) -> None:
    store = SessionStore(database)
    with pytest.raises(RuntimeError, match="rolled back"), database.transaction() as conn:
        store.write(conn, "s", _turn(1))
        assert _stored(database, "s") == 0  # not visible outside the transaction yet
        raise RuntimeError("rolled back")
    assert store.history("s") == []
    with database.transaction() as conn:
        store.write(conn, "s", _turn(2))
    assert [t.question for t in store.history("s")] == ["问题2"]


def test_concurrent_turns_of_one_session_are_numbered_in_turn(database: Database) -> None:
    """Request threads (or replicas) adding to one session at once: none is lost."""
    stores = [SessionStore(database, max_turns=50) for _ in range(2)]
    errors: list[BaseException] = []

    def add(store: SessionStore, n: int) -> None:
        try:
            for k in range(5):
                store.append("s", _turn(10 * n + k))
        except BaseException as error:  # pragma: no cover - the assertion below reports it
            errors.append(error)

    threads = [threading.Thread(target=add, args=(stores[n % 2], n)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert len(stores[0].history("s")) == 20 and _stored(database, "s") == 20


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
    assert (
        rule_rewrite("那每个季度啥时候之前要报？", history) == "大学生见习每个季度啥时候之前要报？"
    )


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


def test_issued_ids_hold_across_processes_and_chosen_ones_do_not(
    database: Database, tmp_path: Path
) -> None:
    other = Database(database.url)  # another process on the same records database
    try:
        one, two = SessionStore(database), SessionStore(other)
        issued = one.new_id()
        assert one.valid_id(issued) and two.valid_id(issued)
        assert not one.valid_id("abc-123") and not one.valid_id(None)
        assert not one.valid_id(issued[:-1] + ("0" if issued[-1] != "0" else "1"))
    finally:
        other.close()
    elsewhere = Database(sqlite_url(tmp_path / "other.sqlite3"))  # another deployment
    try:
        upgrade(elsewhere)
        assert not SessionStore(elsewhere).valid_id(issued)
    finally:
        elsewhere.close()
