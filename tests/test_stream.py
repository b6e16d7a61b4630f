"""`POST /api/chat/stream`: Server-Sent Events, extractive and LLM, fallbacks, disconnects."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from bot.assistant import Assistant
from bot.config import Settings
from bot.embedding import Embedder
from tests.fake_openai import FakeOpenAI, running
from web.app import create_app

QUESTION = "企业开办全流程需要多长时间？"


def parse_events(raw: str) -> list[tuple[str, dict]]:
    events = []
    for block in raw.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        events.append((fields["event"], json.loads(fields["data"])))
    return events


def stream(client: TestClient, question: str, **extra: object) -> list[tuple[str, dict]]:
    with client.stream("POST", "/api/chat/stream", json={"question": question, **extra}) as res:
        assert res.status_code == 200
        assert res.headers["content-type"].startswith("text/event-stream")
        return parse_events("".join(res.iter_text()))


def text_of(events: list[tuple[str, dict]]) -> str:
    """What a client shows: deltas appended, cleared on `reset`."""
    shown = ""
    for name, data in events:
        if name == "reset":
            shown = ""
        elif name == "delta":
            shown += data["text"]
    return shown


@pytest.fixture()
def fake() -> Iterator[FakeOpenAI]:
    with running() as server:
        yield server


@pytest.fixture()
def llm_client(kb_settings: Settings, embedder: Embedder, fake: FakeOpenAI) -> Iterator[TestClient]:
    settings = kb_settings.model_copy(
        update={"llm_base_url": fake.base_url, "llm_model": "fake-chat", "llm_timeout_s": 2.0}
    )
    bot = Assistant(settings, embedder=embedder)
    with TestClient(create_app(settings, bot)) as client:
        yield client
    bot.close()


@pytest.fixture(scope="module")
def plain_client(kb_settings: Settings, assistant: Assistant) -> Iterator[TestClient]:
    with TestClient(create_app(kb_settings, assistant)) as client:
        yield client


def test_faq_answers_stream_with_the_entry_cited(plain_client: TestClient) -> None:
    events = stream(plain_client, "在江岸开公司要多久能拿到执照？")  # a row of faq.csv
    done = events[-1][1]
    assert done["mode"] == "faq" and done["answered"] is True
    assert text_of(events) == done["answer"] and done["answer"].endswith("[1]")
    assert events[-2][1]["sources"][0]["doc_id"] == "faq/faq#1"


def test_extractive_answers_stream_in_order(plain_client: TestClient) -> None:
    events = stream(plain_client, QUESTION)
    names = [name for name, _ in events]
    assert names[-2:] == ["sources", "done"] and set(names[:-2]) == {"delta"}
    done = events[-1][1]
    assert done["mode"] == "extractive" and done["answered"] is True and done["session_id"]
    whole = plain_client.post("/api/chat", json={"question": QUESTION}).json()
    assert text_of(events) == done["answer"] == whole["answer"]
    assert events[-2][1]["sources"] == whole["sources"]


def test_llm_answers_stream_as_generated_with_repaired_citations(
    llm_client: TestClient, fake: FakeOpenAI
) -> None:
    fake.chunk_chars = 3
    fake.reply = lambda r: "执照0.5个工作日内办结[1]，第九份不存在[9]，另见[2]。"
    events = stream(llm_client, QUESTION)
    names = [name for name, _ in events]
    assert names.count("delta") > 3 and names[-2:] == ["sources", "done"]
    assert text_of(events) == "执照0.5个工作日内办结[1]，第九份不存在，另见[2]。"
    assert events[-1][1]["mode"] == "llm" and events[-1][1]["answer"] == text_of(events)
    assert len(events[-2][1]["sources"]) == 2
    assert fake.chat_requests()[0]["stream"] is True


def test_a_failing_llm_streams_the_extractive_answer(
    llm_client: TestClient, plain_client: TestClient, fake: FakeOpenAI
) -> None:
    expected = plain_client.post("/api/chat", json={"question": QUESTION}).json()
    fake.mode = "error500"
    events = stream(llm_client, QUESTION)
    assert "reset" not in [name for name, _ in events]
    assert events[-1][1]["mode"] == "extractive" and text_of(events) == expected["answer"]


def test_an_llm_that_breaks_mid_answer_is_replaced(
    llm_client: TestClient, plain_client: TestClient, fake: FakeOpenAI
) -> None:
    expected = plain_client.post("/api/chat", json={"question": QUESTION}).json()
    fake.mode = "cut"
    fake.reply = lambda r: "执照很快就能办好，具体时限请看资料[1]。" * 3
    events = stream(llm_client, QUESTION)
    names = [name for name, _ in events]
    assert "reset" in names and names.index("delta") < names.index("reset")
    assert events[-1][1]["mode"] == "extractive" and text_of(events) == expected["answer"]


def test_out_of_scope_streams_a_refusal_without_the_llm(
    llm_client: TestClient, fake: FakeOpenAI
) -> None:
    events = stream(llm_client, "明天武汉会下雨吗？")
    assert events[-1][1]["answered"] is False and events[-2][1]["sources"] == []
    assert "12345" in text_of(events) and fake.chat_requests() == []


def test_bad_stream_requests_get_json_errors(plain_client: TestClient) -> None:
    res = plain_client.post("/api/chat/stream", json={"question": "   "})
    assert res.status_code == 422 and res.json()["error"]["code"] == "invalid_request"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_client_that_goes_away_cancels_generation(
    kb_settings: Settings, embedder: Embedder, fake: FakeOpenAI
) -> None:
    fake.chunk_chars, fake.chunk_delay = 2, 0.05
    fake.reply = lambda r: "企业开办全程网上办理，材料齐全当天办结[1]。" * 20  # ~20 s of stream
    settings = kb_settings.model_copy(
        update={"llm_base_url": fake.base_url, "llm_model": "fake-chat", "llm_timeout_s": 30.0}
    )
    bot = Assistant(settings, embedder=embedder)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, bot), host="127.0.0.1", port=port, log_level="error")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        with httpx.Client(timeout=20) as client:
            with client.stream(
                "POST", f"http://127.0.0.1:{port}/api/chat/stream", json={"question": QUESTION}
            ) as res:
                for line in res.iter_lines():
                    if line == "event: delta":
                        break  # the answer has started; now leave
        started = time.monotonic()
        while fake.disconnects == 0 and time.monotonic() - started < 5:
            time.sleep(0.05)
        assert fake.disconnects == 1 and fake.finished_streams == 0
        assert time.monotonic() - started < 5
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        bot.close()


def test_a_decline_after_some_text_becomes_the_refusal(
    llm_client: TestClient, fake: FakeOpenAI
) -> None:
    fake.reply = lambda r: "资料里没有写这个。NO_ANSWER"
    events = stream(llm_client, QUESTION)
    done = events[-1][1]
    assert done["answered"] is False and done["mode"] == "llm"
    assert "reset" in [name for name, _ in events] and "NO_ANSWER" not in text_of(events)
