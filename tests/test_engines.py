"""The engines of issue #14 as the tests start them (tests/engines.py), vectors on a Chroma
server (`BOT_CHROMA_URL`, `BOT_CHROMA_HEADERS`), and the embedded Chroma directory held by one
writing process at a time."""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import chromadb
import httpx
import pytest
import sqlalchemy as sa
from chromadb.config import Settings as ChromaSettings
from pydantic import ValidationError

from bot.assistant import Assistant
from bot.config import Settings, parse_headers
from bot.embedding import Embedder
from bot.errors import VectorStoreBusyError
from bot.index import KnowledgeIndex
from bot.vectors import COLLECTION
from ingest.pipeline import Ingestor
from tests.conftest import ROOT
from tests.engines import OPT_OUT, ChromaServer, PostgresCluster, free_port, missing
from tests.fixtures_files import write_markdown
from tests.test_ingest import APARTMENT, STARTUP


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "kb"
    write_markdown(root / "apartment.md", "talent-apartment", "人才公寓申请办法", APARTMENT)
    write_markdown(root / "startup.md", "business-startup", "企业开办指南", STARTUP)
    return root


def _server_vectors(url: str, headers: dict[str, str] | None = None) -> int:
    port = int(url.rsplit(":", 1)[1])
    client = chromadb.HttpClient(
        host="127.0.0.1",
        port=port,
        headers=headers,
        settings=ChromaSettings(anonymized_telemetry=False),
    )
    return int(client.get_collection(COLLECTION).count())


# --- the engines themselves -----------------------------------------------------------------
def test_postgres_fixture_serves_a_database(postgres: PostgresCluster, postgres_url: str) -> None:
    assert postgres_url.startswith("postgresql+psycopg://postgres@127.0.0.1:")
    engine = sa.create_engine(postgres_url)
    try:
        with engine.begin() as db:
            db.execute(sa.text("CREATE TABLE probe (id serial PRIMARY KEY, word text NOT NULL)"))
            db.execute(sa.text("INSERT INTO probe (word) VALUES (:w)"), {"w": "人才公寓"})
        with engine.connect() as db:
            assert db.execute(sa.text("SELECT word FROM probe")).scalar_one() == "人才公寓"
            assert db.execute(sa.text("SHOW listen_addresses")).scalar_one() == "127.0.0.1"
            assert db.execute(sa.text("SELECT current_database()")).scalar_one() == "jiangan_test"
        with engine.begin() as db:
            db.execute(sa.text("DROP TABLE probe"))
    finally:
        engine.dispose()
    other = postgres.create_database("engines_probe")
    assert other.endswith(f":{postgres.port}/engines_probe")


def test_chroma_server_fixture_serves_ingest_and_answers(
    chroma_url: str, chroma_server: ChromaServer, tmp_path: Path, embedder: Embedder, corpus: Path
) -> None:
    chroma_server.clear()
    settings = Settings(data_dir=tmp_path / "data", chroma_url=chroma_url)
    index = KnowledgeIndex.open(settings, embedder)
    report = Ingestor(index, progress=False).run([corpus])
    chunks = index.records.counts()[1]
    index.close()
    assert report.ok and chunks > 0
    # the vectors are on the server, none in the data dir
    assert _server_vectors(chroma_url) == chunks
    assert not settings.chroma_dir.exists()
    bot = Assistant(settings, embedder=embedder)
    try:
        answer = bot.ask("博士能申请人才公寓吗")
        assert answer.answered and answer.sources[0].doc_id == "talent-apartment"
    finally:
        bot.close()


def test_a_missing_engine_fails_unless_a_local_run_opts_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(OPT_OUT, raising=False)
    with pytest.raises(pytest.fail.Exception, match="install-postgresql"):
        missing("PostgreSQL is not installed (sh scripts/install-postgresql.sh)")
    monkeypatch.setenv(OPT_OUT, "skip")
    with pytest.raises(pytest.skip.Exception):
        missing("PostgreSQL is not installed")


# --- a Chroma server behind a proxy that wants a header -------------------------------------
class _AuthProxy(http.server.ThreadingHTTPServer):
    """Forwards to the Chroma server only requests that carry `X-Proxy-Key: k3y`."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.refused = 0
        super().__init__(("127.0.0.1", 0), _ProxyHandler)


class _ProxyHandler(http.server.BaseHTTPRequestHandler):
    server: _AuthProxy

    def _forward(self) -> None:
        if self.headers.get("X-Proxy-Key") != "k3y":
            self.server.refused += 1
            self.send_response(401)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        res = httpx.request(
            self.command,
            self.server.upstream + self.path,
            content=body,
            headers={"Content-Type": self.headers.get("Content-Type", "application/json")},
            timeout=30,
        )
        self.send_response(res.status_code)
        self.send_header("Content-Type", res.headers.get("content-type", "application/json"))
        self.send_header("Content-Length", str(len(res.content)))
        self.end_headers()
        self.wfile.write(res.content)

    do_GET = do_POST = do_PUT = do_DELETE = _forward

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture()
def auth_proxy(chroma_server: ChromaServer) -> Iterator[_AuthProxy]:
    chroma_server.clear()
    proxy = _AuthProxy(chroma_server.url)
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    yield proxy
    proxy.shutdown()
    proxy.server_close()


def test_chroma_headers_reach_the_server_through_a_proxy(
    auth_proxy: _AuthProxy, tmp_path: Path, embedder: Embedder, corpus: Path
) -> None:
    url = f"http://127.0.0.1:{auth_proxy.server_address[1]}"
    bare = Settings(data_dir=tmp_path / "bare", chroma_url=url)
    with pytest.raises(Exception):  # noqa: B017 - chromadb's own error for a 401
        KnowledgeIndex.open(bare, embedder)
    assert auth_proxy.refused > 0
    refused = auth_proxy.refused
    settings = Settings(
        data_dir=tmp_path / "data", chroma_url=url, chroma_headers="X-Proxy-Key: k3y"
    )
    index = KnowledgeIndex.open(settings, embedder)
    assert Ingestor(index, progress=False).run([corpus]).ok
    chunks = index.records.counts()[1]
    index.close()
    assert auth_proxy.refused == refused
    assert _server_vectors(url, {"X-Proxy-Key": "k3y"}) == chunks


def test_chroma_settings_are_checked_at_start() -> None:
    assert parse_headers('{"Authorization": "Bearer t"}') == {"Authorization": "Bearer t"}
    assert parse_headers("X-A: 1\nX-B: two words") == {"X-A": "1", "X-B": "two words"}
    assert parse_headers("  ") == {}
    for bad in ("Bearer s3cret", '{"A": 1}', "{not json"):
        with pytest.raises(ValueError) as caught:
            parse_headers(bad)
        assert "s3cret" not in str(caught.value)  # a credential is never echoed
    assert Settings(chroma_url="http://chroma:8000/").chroma_url == "http://chroma:8000"
    for bad in ("chroma:8000", "ftp://chroma", "http://chroma:8000/api"):
        with pytest.raises(ValidationError, match="chroma_url"):
            Settings(chroma_url=bad)


# --- one writing process per embedded directory ---------------------------------------------
def _ingest_cli(corpus: Path, data: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    start = time.monotonic()
    res = subprocess.run(
        [sys.executable, "-m", "ingest", str(corpus), "--data-dir", str(data), "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return res, time.monotonic() - start


def test_a_second_writing_process_on_the_embedded_dir_fails_fast(
    settings: Settings, embedder: Embedder, corpus: Path
) -> None:
    index = KnowledgeIndex.open(settings, embedder)
    assert Ingestor(index, progress=False).run([corpus]).ok
    # the same process may open it again (the web app, its ingest and tests do)
    again = KnowledgeIndex.open(settings, embedder)
    assert again.vectors.count() == index.vectors.count()
    again.close()
    # another process may not: it stops at once, before loading the embedder, saying why
    busy, took = _ingest_cli(corpus, settings.data_dir)
    assert busy.returncode == 2, busy.stderr
    assert "open for writing in another process" in busy.stderr
    assert "正被另一个进程" in busy.stderr and "BOT_CHROMA_URL" in busy.stderr
    assert took < 30
    server = subprocess.run(
        [sys.executable, "-m", "web", "--port", str(free_port())],
        cwd=ROOT,
        env={**os.environ, "BOT_DATA_DIR": str(settings.data_dir)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert server.returncode == 2 and "正被另一个进程" in server.stderr, server.stderr
    # a process that only answers runs beside the writer
    ask = subprocess.run(
        [sys.executable, "-m", "bot", "--data-dir", str(settings.data_dir), "ask", "人才公寓"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ask.returncode == 0 and "人才公寓申请办法" in ask.stdout, ask.stderr
    # the last close gives the directory back
    index.close()
    done, _ = _ingest_cli(corpus, settings.data_dir)
    assert done.returncode == 0 and "2 unchanged" in done.stdout, done.stderr


def test_the_lock_is_the_other_process_s_until_it_ends(
    settings: Settings, embedder: Embedder, tmp_path: Path
) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from bot.config import Settings; from bot.vectors import DIRECTORY_LOCKS;"
            f" DIRECTORY_LOCKS.acquire(Settings(data_dir={str(settings.data_dir)!r}).chroma_dir);"
            " print('held', flush=True); time.sleep(120)",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(VectorStoreBusyError) as caught:
            KnowledgeIndex.open(settings, embedder)
        assert f"pid {holder.pid}" in caught.value.message
        assert "正被另一个进程" in caught.value.message_zh
    finally:
        holder.kill()  # a crashed holder: the kernel drops its lock
        holder.wait(10)
    index = KnowledgeIndex.open(settings, embedder)
    index.close()
