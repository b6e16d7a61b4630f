"""The question log, feedback and the audit log in the records database, on both engines
(`database`: SQLite and PostgreSQL, tests/conftest.py), and shared by replicas."""

from __future__ import annotations

import csv
import io
import sqlite3
import time

import pytest
import sqlalchemy as sa

from bot.audit import AuditLog
from bot.errors import RecordsUnavailableError
from bot.feedback import FeedbackStore
from bot.questionlog import DAY, QuestionLog
from bot.records import Database
from bot.sessions import SessionStore, Turn


def test_question_log_keeps_what_insight_reads_and_prunes_old_rows(database: Database) -> None:
    log = QuestionLog(database, retention_days=30)
    now = time.time()
    log.add("旧问题", "旧问题", True, "extractive", now=now - 40 * DAY)
    log.add("上周", "上周的问题", True, "llm", "doc-a", "s1", now=now - 7 * DAY, confidence=0.8)
    log.add("今天", "今天的问题", False, "extractive", session_id="s2", reason="weak_evidence")
    rows = log.since(10, now=now)
    assert [r["question"] for r in rows] == ["今天", "上周"]  # newest first
    assert rows[0] == {
        "at": rows[0]["at"],
        "question": "今天",
        "standalone": "今天的问题",
        "answered": 0,
        "mode": "extractive",
        "top_doc": "",
        "confidence": None,
        "reason": "weak_evidence",
    }
    assert rows[1]["confidence"] == 0.8 and rows[1]["top_doc"] == "doc-a"
    assert [r["question"] for r in log.since(3, now=now)] == ["今天"]
    # the 40-day-old row was pruned by the later writes, not only left out of the window
    assert [r["question"] for r in log.since(365, now=now)] == ["今天", "上周"]


def test_replicas_count_the_questions_of_both(database: Database) -> None:
    """Two replicas (separate engines on one URL) log into one table: the insight pages of
    either count the questions asked on both."""
    other = Database(database.url)
    try:
        a, b = QuestionLog(database), QuestionLog(other)
        for n in range(3):
            a.add(f"甲{n}", f"甲{n}", True, "extractive")
        for n in range(2):
            b.add(f"乙{n}", f"乙{n}", n == 0, "llm")
        for log in (a, b):
            rows = log.since(1)
            assert len(rows) == 5 and sum(int(str(r["answered"])) for r in rows) == 4
            assert {str(r["question"])[0] for r in rows} == {"甲", "乙"}
    finally:
        other.close()


def test_a_question_and_its_turn_are_kept_together_or_not_at_all(database: Database) -> None:
    """What `Assistant._finish` does: both rows in the caller's transaction."""
    log, sessions = QuestionLog(database), SessionStore(database)
    with pytest.raises(RuntimeError), database.transaction() as conn:
        log.write(conn, "问", "问", True, "extractive", session_id="s")
        sessions.write(conn, "s", Turn("问", "问", "答", True))
        raise RuntimeError("the turn could not be finished")
    assert log.since(1) == [] and sessions.history("s") == []
    with database.transaction() as conn:
        log.write(conn, "问", "问", True, "extractive", session_id="s")
        sessions.write(conn, "s", Turn("问", "问", "答", True))
    assert len(log.since(1)) == 1 and len(sessions.history("s")) == 1


def test_feedback_round_trip(database: Database) -> None:
    store = FeedbackStore(database)
    first = store.add("问1", "答1", "down", "s1", "不对")
    second = store.add("问2", "答2", "up")
    assert second > first > 0
    assert [r["id"] for r in store.recent()] == [second, first]
    assert [r["question"] for r in store.recent(1)] == ["问2"]
    down = store.since(1, "down")
    assert len(down) == 1 and down[0]["comment"] == "不对" and down[0]["session_id"] == "s1"
    assert [r["id"] for r in store.since(1, "up")] == [second]
    with pytest.raises(Exception, match="(?i)check"):  # the table accepts up and down only
        store.add("问3", "答3", "meh")
    assert len(store.recent()) == 2


def test_audit_log_entries_and_csv(database: Database) -> None:
    audit = AuditLog(database)
    audit.record("admin", "upload", "a.md", None, 1)
    audit.record("editor1", "faq_create", "faq-1", detail='=HYPERLINK("x")')
    with database.transaction() as conn:  # in the transaction of the change it records
        audit.write(conn, "admin", "delete", "a.md", 1, None, "a")
    entries = audit.entries()
    assert [e["action"] for e in entries] == ["delete", "faq_create", "upload"]
    assert entries[0]["user"] == "admin" and entries[0]["old_version"] == 1
    assert entries[0]["new_version"] is None and str(entries[0]["at"]).endswith("+00:00")
    assert len(audit.entries(limit=1)) == 1
    text = audit.csv()
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert [r["target"] for r in rows] == ["a.md", "faq-1", "a.md"]
    assert rows[1]["detail"] == '\'=HYPERLINK("x")'  # no formula for a spreadsheet to run


def test_a_database_refusing_writes_is_unavailable_then_recovers(database: Database) -> None:
    """Every store's write on a database that takes none: `RecordsUnavailableError` (a 503),
    `health` failing; once it takes writes again the probe clears it, no restart."""
    if database.is_sqlite:  # another process holds the file's write lock
        blocker = sqlite3.connect(str(database.engine.url.database), isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        release = lambda: (blocker.execute("ROLLBACK"), blocker.close())  # noqa: E731
    else:  # a read-only server (a standby; SQLSTATE 25006)
        name = database.engine.url.database
        admin = sa.create_engine(database.url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')

        def release() -> None:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'ALTER DATABASE "{name}" RESET default_transaction_read_only')
            admin.dispose()

    replica = Database(database.url, busy_timeout_s=0.2)  # connections opened from now on
    try:
        writes = [
            lambda: FeedbackStore(replica).add("问", "答", "up"),
            lambda: AuditLog(replica).record("admin", "upload", "a.md"),
            lambda: QuestionLog(replica).add("问", "问", True, "extractive"),
            lambda: SessionStore(replica).append("s", Turn("问", "问", "答", True)),
        ]
        for write in writes:
            with pytest.raises(RecordsUnavailableError):
                write()
        assert not replica.health.ok and not replica.health.check()
        release()
        deadline = time.monotonic() + 10
        while not replica.health.check() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert replica.health.ok
        for write in writes:
            write()
        assert len(FeedbackStore(replica).recent()) == 1
    finally:
        replica.close()
