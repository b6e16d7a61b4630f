"""Faults (issue 13 point 6): the records store failing and coming back while the server runs,
and SIGTERM with a stream open — both against a real `python -m web` process."""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from bot.assistant import Assistant
from bot.config import Settings
from bot.embedding import Embedder
from tests.fake_openai import FakeOpenAI, running

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "企业开办全流程需要多长时间？"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`python -m web` as a child process on a free port; its log is kept for failures."""

    def __init__(self, data_dir: Path, start_timeout_s: float = 120, **env: str) -> None:
        self.port = _port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "web", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=ROOT,
            env={**os.environ, "BOT_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1", **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,  # a pipe: a file size limit on the server does not touch it
            text=True,
        )
        threading.Thread(target=self._read_log, daemon=True).start()
        deadline = time.monotonic() + start_timeout_s
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        self.proc.kill()
        raise RuntimeError("the server did not start:\n" + "".join(self.log[-30:]))

    def _read_log(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.log.append(line)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture()
def data_dir(kb_settings: Settings, tmp_path: Path) -> Path:
    """A copy of the bundled knowledge base's index, so the server may write its own records."""
    target = tmp_path / "data"
    shutil.copytree(kb_settings.data_dir, target)
    return target


def _count(data_dir: Path, table: str, where: str = "1", *params: object) -> int:
    db = sqlite3.connect(data_dir / "records.sqlite3")
    try:
        return int(db.execute(f"SELECT COUNT(*) FROM {table} WHERE {where}", params).fetchone()[0])
    finally:
        db.close()


def _rows(data_dir: Path) -> tuple[int, int]:
    return _count(data_dir, "question_log"), _count(data_dir, "session_turns")


def _refused_as_storage(res: httpx.Response) -> None:
    assert res.status_code == 503, res.text
    error = res.json()["error"]
    assert error["code"] == "storage_unavailable"
    assert error["message"] and error["message_zh"]
    assert int(res.headers["Retry-After"]) > 0


def test_records_failing_and_coming_back_without_a_restart(data_dir: Path) -> None:
    server = Server(data_dir)
    try:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            health = client.get("/healthz")
            assert health.status_code == 200
            assert set(health.json()) == {
                "status",
                "documents",
                "chunks",
                "database",
                "vectors",
                "kb_version",
            }  # no `failing` when ok
            assert health.json()["database"] == health.json()["vectors"] == "ok"
            # the copied index may hold rows of earlier tests (the shared session fixture)
            start, feedback_rows = _rows(data_dir), _count(data_dir, "feedback")
            first = client.post("/api/chat", json={"question": QUESTION})
            assert first.status_code == 200 and first.json()["answered"] is True
            before = _rows(data_dir)
            assert before == (start[0] + 1, start[1] + 1)

            # the disk is full: no write of the server's may grow a file any more
            _, hard = resource.prlimit(server.proc.pid, resource.RLIMIT_FSIZE)
            resource.prlimit(server.proc.pid, resource.RLIMIT_FSIZE, (0, hard))
            session = first.json()["session_id"]
            _refused_as_storage(
                client.post("/api/chat", json={"question": QUESTION, "session_id": session})
            )
            assert _rows(data_dir) == before  # neither the log row nor the turn
            health = client.get("/healthz")
            assert health.status_code == 503
            assert health.json()["status"] == "degraded"
            assert health.json()["failing"] == ["records"]
            assert health.json()["database"] == "failing"
            assert health.json()["documents"] > 0
            _refused_as_storage(client.post("/api/chat/stream", json={"question": QUESTION}))
            feedback = {"question": QUESTION, "answer": "…", "rating": "up"}
            _refused_as_storage(client.post("/api/feedback", json=feedback))
            assert _rows(data_dir) == before and _count(data_dir, "feedback") == feedback_rows
            assert server.proc.poll() is None  # SIGXFSZ did not kill it

            # space again: the next probe finds it, no restart
            resource.prlimit(server.proc.pid, resource.RLIMIT_FSIZE, (hard, hard))
            deadline = time.monotonic() + 30
            while client.get("/healthz").status_code != 200 and time.monotonic() < deadline:
                time.sleep(0.2)
            assert client.get("/healthz").json()["status"] == "ok"
            again = client.post("/api/chat", json={"question": QUESTION, "session_id": session})
            assert again.status_code == 200 and again.json()["session_id"] == session
            assert _rows(data_dir) == (before[0] + 1, before[1] + 1)
            assert client.post("/api/feedback", json=feedback).status_code == 201
    finally:
        server.stop()
    assert any("records store failing" in line for line in server.log)
    assert any("writable again" in line for line in server.log)


def test_a_question_is_logged_only_with_its_session_turn(
    data_dir: Path, embedder: Embedder
) -> None:
    """The question-log row and the session turn are one transaction: when the second insert
    fails, the first is not kept either."""
    bot = Assistant(Settings(data_dir=data_dir), embedder=embedder)
    try:
        db = sqlite3.connect(data_dir / "records.sqlite3")
        db.execute(
            "CREATE TRIGGER no_turns BEFORE INSERT ON session_turns"
            " BEGIN SELECT RAISE(ABORT, 'turn refused'); END"
        )
        db.commit()
        start = _rows(data_dir)  # the copied index may hold rows of earlier tests
        with pytest.raises(sa.exc.IntegrityError, match="turn refused"):
            bot.ask(QUESTION)
        assert _rows(data_dir) == start
        db.execute("DROP TRIGGER no_turns")
        db.commit()
        db.close()
        assert bot.ask(QUESTION).answered
        assert _rows(data_dir) == (start[0] + 1, start[1] + 1)
    finally:
        bot.close()


def _events(lines: Iterator[str]) -> Iterator[tuple[str, dict]]:
    name = ""
    for line in lines:
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            yield name, json.loads(line.removeprefix("data: "))


@pytest.fixture()
def slow_llm() -> Iterator[FakeOpenAI]:
    with running() as fake:
        fake.chunk_chars, fake.chunk_delay = 2, 0.2
        fake.reply = lambda r: "企业开办全程网上办理，材料齐全当天办结[1]。" * 3  # ≈ 6 s of stream
        yield fake


def test_sigterm_lets_an_open_stream_finish_and_refuses_new_requests(
    data_dir: Path, slow_llm: FakeOpenAI
) -> None:
    server = Server(
        data_dir,
        BOT_LLM_BASE_URL=slow_llm.base_url,
        BOT_LLM_MODEL="fake-chat",
        BOT_LLM_TIMEOUT_S="60",
        BOT_SHUTDOWN_GRACE_S="60",
    )
    try:
        with (
            httpx.Client(base_url=server.url, timeout=60) as streaming,
            httpx.Client(base_url=server.url, timeout=60) as other,
        ):
            assert other.get("/healthz").status_code == 200  # a kept-alive connection
            with streaming.stream("POST", "/api/chat/stream", json={"question": QUESTION}) as res:
                assert res.status_code == 200
                events = _events(res.iter_lines())
                first = next(events)
                assert first[0] == "delta"
                server.proc.send_signal(signal.SIGTERM)
                time.sleep(0.5)  # the signal is handled on the server's next tick (0.1 s)
                assert slow_llm.finished_streams == 0  # the LLM is still writing

                # while it drains: the load balancer is told, new requests are refused
                health = other.get("/healthz")
                assert health.status_code == 503 and health.json()["status"] == "draining"
                refused = other.post("/api/chat", json={"question": QUESTION})
                assert refused.status_code == 503
                assert refused.json()["error"]["code"] == "shutting_down"
                assert refused.json()["error"]["message_zh"]
                assert int(refused.headers["Retry-After"]) > 0
                assert refused.headers["Connection"] == "close"

                rest = list(events)
            assert slow_llm.finished_streams == 1
            name, done = rest[-1]
            assert name == "done" and done["mode"] == "llm" and done["answered"] is True
            assert done["answer"].startswith("企业开办全程网上办理")
        assert server.proc.wait(60) == 0
    finally:
        server.stop()
    # the streamed turn was committed before the records were closed
    assert _count(data_dir, "question_log", "question=?", QUESTION) == 1
    assert _count(data_dir, "session_turns", "session_id=?", done["session_id"]) == 1
    assert not (data_dir / "records.sqlite3-wal").exists()  # the last connection closed cleanly
