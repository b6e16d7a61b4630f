"""Staff accounts, policy edits and the FAQ book on the records layer, on both engines.

Each test runs on an SQLite file and on a PostgreSQL database of the session's throw-away
cluster (`database` / `database_url` in tests/conftest.py). "Another replica" is a second
`Database(url)` of the same URL: its own engine and connections, as in another process.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import bot.staff
import ingest.faqbook
from bot.audit import AuditLog
from bot.config import Settings
from bot.embedding import Embedder
from bot.errors import AuthError, ConflictError, DuplicateError, NotFoundError
from bot.index import KnowledgeIndex
from bot.policies.edits import PolicyEdits
from bot.records import Database
from bot.staff import StaffStore
from ingest.faqbook import FaqBook, FaqFields

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def replica(database_url: str, database: Database) -> Iterator[Database]:
    """A second engine on the same database, as another replica would have."""
    other = Database(database_url)
    yield other
    other.close()


# --- staff ---------------------------------------------------------------------------------
def test_staff_accounts_and_tokens(database: Database) -> None:
    staff = StaffStore(database, token_hours=1)
    staff.create("admin1", "password-1", "admin")
    with pytest.raises(ConflictError):
        staff.create("admin1", "password-2", "editor")
    assert staff.ensure("admin1", "password-1") is False
    assert staff.ensure("editor1", "password-1", "editor") is True
    assert [(u.username, u.role) for u in staff.users()] == [
        ("admin1", "admin"),
        ("editor1", "editor"),
    ]
    with pytest.raises(AuthError):
        staff.login("admin1", "wrong-password")
    with pytest.raises(AuthError):
        staff.login("nobody", "password-1")
    token, user = staff.login("editor1", "password-1")
    assert user.role == "editor" and staff.user_for(token) == user
    assert staff.user_for(token + "x") is None
    staff.logout(token)
    assert staff.user_for(token) is None
    # an expired token is refused
    expired = StaffStore(database, token_hours=-1)
    old, _ = expired.login("editor1", "password-1")
    assert staff.user_for(old) is None
    # deleting an account ends its log-ins; the last admin stays
    token, _ = staff.login("editor1", "password-1")
    with pytest.raises(ConflictError):
        staff.delete("admin1", by="editor1")  # the last admin
    with pytest.raises(ConflictError):
        staff.delete("admin1", by="admin1")  # oneself
    with pytest.raises(NotFoundError):
        staff.delete("nobody", by="admin1")
    staff.delete("editor1", by="admin1")
    assert staff.user_for(token) is None and staff.get("editor1") is None


def test_a_login_on_one_replica_is_valid_on_another(database: Database, replica: Database) -> None:
    a, b = StaffStore(database), StaffStore(replica)
    a.create("zhang.wei", "password-1", "editor")
    token, _ = a.login("zhang.wei", "password-1")
    assert b.user_for(token) is not None and b.user_for(token).username == "zhang.wei"  # type: ignore[union-attr]
    b.logout(token)  # a log-out on B ends it on A too
    assert a.user_for(token) is None
    token, _ = b.login("zhang.wei", "password-1")
    assert a.user_for(token) is not None


def test_two_replicas_deleting_the_last_two_admins_at_once_keep_one(
    database: Database, replica: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = StaffStore(database), StaffStore(replica)
    for name in ("root", "admin1", "admin2"):
        a.create(name, "password-1", "admin")
    a.delete("root", by="admin1")  # two admins left: admin1 and admin2
    count = bot.staff._admins

    def slow_count(conn):  # type: ignore[no-untyped-def]
        n = count(conn)
        time.sleep(0.3)  # widen the window between counting and deleting
        return n

    monkeypatch.setattr(bot.staff, "_admins", slow_count)
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def delete(store: StaffStore, name: str, by: str) -> None:
        start.wait()
        try:
            store.delete(name, by=by)
            outcomes.append("deleted")
        except ConflictError:
            outcomes.append("conflict")

    threads = [
        threading.Thread(target=delete, args=(a, "admin1", "admin2")),
        threading.Thread(target=delete, args=(b, "admin2", "admin1")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["conflict", "deleted"]
    assert [u.role for u in a.users()] == ["admin"]


def test_replicas_provisioning_the_same_admin_together_create_it_once(
    database: Database, replica: Database
) -> None:
    created: list[bool] = []
    start = threading.Barrier(2)

    def ensure(db: Database) -> None:
        start.wait()
        created.append(StaffStore(db).ensure("admin", "password-1"))

    threads = [threading.Thread(target=ensure, args=(db,)) for db in (database, replica)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(created) == [False, True]


# --- policy edits --------------------------------------------------------------------------
def test_policy_edits_are_kept_and_bump_the_knowledge_base_version(database: Database) -> None:
    edits = PolicyEdits(database)
    start = edits.version
    assert start == database.kb_version()
    edits.set_conditions("p1", '[{"employees": {"min": 10}}]', "editor1")
    assert edits.conditions() == {"p1": '[{"employees": {"min": 10}}]'}
    assert edits.version == database.kb_version() == start + 1
    edits.set_conditions("p1", "", "editor1")  # replaced: staff removed every condition
    assert edits.conditions() == {"p1": ""} and edits.version == start + 2
    assert edits.reset_conditions("p1") is True and edits.conditions() == {}
    assert edits.version == start + 3
    assert edits.reset_conditions("p1") is False and edits.version == start + 3  # no change
    edits.review("p1", "长期有效", "confirmed", "editor1")
    edits.review("p1", "长期有效", "rejected", "admin1")
    edits.review("p1", "有效期五年", "confirmed", "admin1")
    assert edits.reviews() == {("p1", "长期有效"): "rejected", ("p1", "有效期五年"): "confirmed"}
    assert edits.version == database.kb_version() == start + 6


def test_a_policy_edit_on_one_replica_changes_the_version_the_other_sees(
    database: Database, replica: Database
) -> None:
    a, b = PolicyEdits(database), PolicyEdits(replica, max_age_s=0.2)
    seen = b.version
    a.set_conditions("p1", '[{"registered_in": "江岸区"}]', "editor1")
    assert replica.kb_version() == a.version == seen + 1
    assert b.reload() == seen + 1  # at once when the kb-version watcher says so …
    a.review("p1", "长期有效", "confirmed", "editor1")
    deadline = time.monotonic() + 5
    while b.version == seen + 1 and time.monotonic() < deadline:  # … or within max_age_s
        time.sleep(0.05)
    assert b.version == seen + 2
    assert b.conditions() == {"p1": '[{"registered_in": "江岸区"}]'}
    assert b.reviews() == {("p1", "长期有效"): "confirmed"}


def test_reading_the_policy_edits_version_is_cheap(database: Database) -> None:
    """`Assistant._generation` reads it for every question."""
    edits = PolicyEdits(database)
    edits.version  # noqa: B018 - the first read after max_age_s queries
    n = 20_000
    started = time.perf_counter()
    for _ in range(n):
        edits.version  # noqa: B018
    assert (time.perf_counter() - started) / n < 0.0001


# --- the FAQ book --------------------------------------------------------------------------
ENTRY = FaqFields("江岸区人才驿站能免费住几天？", "最长免费入住7天。", ["人才驿站免费住几天"])


def _index(tmp_path: Path, database_url: str, embedder: Embedder) -> KnowledgeIndex:
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url)
    return KnowledgeIndex.open(settings, embedder)


def test_faq_book_changes_with_versions(
    tmp_path: Path, database_url: str, database: Database, embedder: Embedder
) -> None:
    index = _index(tmp_path, database_url, embedder)
    audit = AuditLog(database)
    changes: list[int] = []
    book = FaqBook(database, index, lambda: changes.append(1), audit)
    try:
        entry = book.create(ENTRY, "editor1")
        assert (entry["version"], entry["doc_id"]) == (1, f"faq-{entry['id']}")
        assert entry["alternatives"] == ["人才驿站免费住几天"]
        assert [d.doc_id for d in index.records.documents()] == [entry["doc_id"]]
        with pytest.raises(DuplicateError):
            book.create(FaqFields("人才驿站免费住几天", "别的答案"), "editor2")
        changed = FaqFields(ENTRY.question, "最长免费入住10天。")
        entry_id = int(str(entry["id"]))
        assert book.update(entry_id, changed, 1, "editor2")["version"] == 2
        with pytest.raises(ConflictError):
            book.update(entry_id, changed, 1, "editor1")  # stale base version
        assert book.get(entry_id)["answer"] == "最长免费入住10天。"
        [document] = index.records.documents()
        assert document.text == "最长免费入住10天。"
        book.delete(entry_id, "admin1")
        assert book.entries() == [] and index.records.documents() == []
        with pytest.raises(NotFoundError):
            book.get(entry_id)
        assert len(changes) == 3
    finally:
        index.close()


def test_concurrent_faq_edits_on_two_replicas_give_one_success_and_one_conflict(
    tmp_path: Path,
    database_url: str,
    database: Database,
    replica: Database,
    embedder: Embedder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    index_a = _index(tmp_path, database_url, embedder)
    # replica B: its own engine and its own process-local writer lock (only the database
    # can serialise the two)
    index_b = dataclasses.replace(index_a)
    assert index_b.write_lock is not index_a.write_lock
    audit = AuditLog(database)
    a = FaqBook(database, index_a, lambda: None, audit)
    b = FaqBook(replica, index_b, lambda: None, audit)
    try:
        entry_id = int(str(a.create(ENTRY, "editor1")["id"]))
        # widen the window between the version check and the write
        check = ingest.faqbook._check_unique

        def slow_check(*args, **kwargs):  # type: ignore[no-untyped-def]
            time.sleep(0.3)
            return check(*args, **kwargs)

        monkeypatch.setattr(ingest.faqbook, "_check_unique", slow_check)
        outcomes: dict[str, str] = {}
        start = threading.Barrier(2)

        def edit(name: str, book: FaqBook) -> None:
            start.wait()
            fields = FaqFields(ENTRY.question, f"{name} 写的答案。")
            try:
                book.update(entry_id, fields, 1, name)
                outcomes[name] = "ok"
            except ConflictError:
                outcomes[name] = "conflict"

        threads = [threading.Thread(target=edit, args=(n, bk)) for n, bk in (("A", a), ("B", b))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert sorted(outcomes.values()) == ["conflict", "ok"]
        [winner] = [n for n, o in outcomes.items() if o == "ok"]
        assert b.get(entry_id)["version"] == 2
        assert b.get(entry_id)["answer"] == f"{winner} 写的答案。"
    finally:
        index_a.close()


# --- python -m web create-admin --------------------------------------------------------------
def test_create_admin_works_on_a_new_database_of_either_engine(
    tmp_path: Path, database_url: str
) -> None:
    env = {**os.environ, "BOT_DATABASE_URL": database_url, "BOT_DATA_DIR": str(tmp_path / "d")}
    command = [sys.executable, "-m", "web", "create-admin", "root", "--password", "password-1"]
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    again = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 1 and "exists" in again.stderr
    database = Database(database_url)  # created by the command: schema and account
    try:
        _, user = StaffStore(database).login("root", "password-1")
    finally:
        database.close()
    assert user.role == "admin"
