"""Metrics and logs (issue #13, points 4 and 5): /metrics in Prometheus' text format whose
figures move with the traffic, a request id on every response and log line, one JSON line
per request with personal data masked — over the real app and a real `python -m web`."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from bot.assistant import Assistant
from bot.config import Settings
from bot.embedding import Embedder
from bot.index import KnowledgeIndex
from ingest.pipeline import Ingestor
from tests.fixtures_files import write_markdown
from tests.test_widget import _free_port
from web.app import create_app
from web.logs import JsonFormatter, mask

ROOT = Path(__file__).resolve().parent.parent
ANSWERED = "企业开办要多久"
PERSONAL = (
    "我的手机138-1234-5678，身份证11010519491231002X，邮箱alice@example.com，人才公寓怎么申请？"
)

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(client: TestClient | httpx.Client, **headers: str) -> Samples:
    res = client.get("/metrics", headers=headers)
    assert res.status_code == 200, res.text
    assert res.headers["content-type"].startswith("text/plain")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(res.text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture()
def client(kb_settings: Settings, assistant: Assistant) -> Iterator[TestClient]:
    with TestClient(create_app(kb_settings, assistant)) as c:
        yield c


@pytest.fixture()
def small_kb(tmp_path: Path, embedder: Embedder) -> Path:
    """A data dir with an index of one document (cheap to open again)."""
    write_markdown(tmp_path / "kb" / "a.md", "apt", "人才公寓申请", "## 申请\n登录江岸人才网申请。")
    data = tmp_path / "data"
    index = KnowledgeIndex.open(Settings(data_dir=data), embedder)
    assert Ingestor(index, progress=False).run([tmp_path / "kb"]).ok
    index.close()
    return data


@pytest.fixture()
def log_lines() -> Iterator[io.StringIO]:
    """Everything logged while the test runs, through the JSON formatter."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield out
    root.removeHandler(handler)
    root.setLevel(level)


def parsed(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]


def test_metrics_are_prometheus_text_with_the_named_metrics(
    client: TestClient, assistant: Assistant
) -> None:
    client.get("/healthz")
    samples = scrape(client)
    names = {name for name, _ in samples}
    for wanted in (
        "bot_http_requests_total",
        "bot_http_request_duration_seconds_bucket",
        "bot_answers_inflight",
        "bot_answers_waiting",
        "bot_answers_rejected_total",
        "bot_knowledge_documents",
        "bot_knowledge_chunks",
        "bot_knowledge_version_info",
        "bot_kb_version",
        "bot_kb_reloads",
        "bot_ingest_files",
        "bot_ingest_files_done",
        "bot_retrieval_seconds_count",
        "bot_embedding_seconds_count",
        "bot_llm_seconds_count",
        "bot_llm_failures_total",
    ):
        assert wanted in names, wanted
    documents, chunks = assistant.stats
    assert value(samples, "bot_knowledge_documents") == documents > 0
    assert value(samples, "bot_knowledge_chunks") == chunks > 0
    assert value(samples, "bot_kb_version") == assistant.retriever.kb_version > 0
    versions = [
        dict(labels)["version"] for name, labels in samples if name.endswith("version_info")
    ]
    shown = [v for v in versions if value(samples, "bot_knowledge_version_info", version=v) == 1]
    assert len(shown) == 1 and re.fullmatch(r"[0-9a-f]{12}", shown[0])
    assert value(samples, "bot_ingest_files") == 0  # no upload under way
    assert value(samples, "bot_http_requests_total", method="GET", route="/healthz", status="200")


def test_chat_moves_the_request_answer_and_step_counters(client: TestClient) -> None:
    before = scrape(client)
    res = client.post("/api/chat", json={"question": ANSWERED})
    assert res.status_code == 200 and res.json()["answered"] is True
    mode = res.json()["mode"]
    refused = client.post(
        "/api/chat", json={"question": f"火星上的签证怎么办理{uuid.uuid4().hex[:6]}"}
    )
    assert refused.json()["answered"] is False
    after = scrape(client)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("bot_http_requests_total", method="POST", route="/api/chat", status="200") == 2
    assert moved("bot_http_request_duration_seconds_count", method="POST", route="/api/chat") == 2
    assert moved("bot_answers_total", outcome="answered", mode=mode) == 1
    assert moved("bot_answers_total", outcome="refused", mode=refused.json()["mode"]) == 1
    assert moved("bot_retrieval_seconds_count") >= 2
    # a question the model has not seen is embedded (one observation per batch); repeated
    # ones come from the cache, and words that decide alone skip the embedding
    assert moved("bot_embedding_seconds_count") >= 1
    assert moved("bot_retrieval_seconds_sum") > 0


def test_a_stream_is_counted_as_an_answer(client: TestClient) -> None:
    before = scrape(client)
    with client.stream("POST", "/api/chat/stream", json={"question": ANSWERED}) as res:
        text = "".join(res.iter_text())
    done = json.loads(text.split("event: done\ndata: ")[1].split("\n")[0])
    after = scrape(client)
    labels = {"outcome": "answered" if done["answered"] else "refused", "mode": done["mode"]}
    assert (
        value(after, "bot_answers_total", **labels) - value(before, "bot_answers_total", **labels)
        == 1
    )
    assert value(
        after, "bot_http_requests_total", method="POST", route="/api/chat/stream", status="200"
    ) > value(
        before, "bot_http_requests_total", method="POST", route="/api/chat/stream", status="200"
    )


def test_an_llm_failure_counts_as_a_fallback(small_kb: Path, embedder: Embedder) -> None:
    down = f"http://127.0.0.1:{_free_port()}/v1"  # nothing listens: the LLM call fails
    settings = Settings(data_dir=small_kb, llm_base_url=down, llm_model="down")
    bot = Assistant(settings, embedder=embedder)
    try:
        with TestClient(create_app(settings, bot)) as client:
            before = scrape(client)
            res = client.post("/api/chat", json={"question": "人才公寓怎么申请"})
            assert res.json()["answered"] is True and res.json()["mode"] == "extractive"
            after = scrape(client)
    finally:
        bot.close()
    assert (
        value(after, "bot_answers_total", outcome="answered", mode="fallback")
        - value(before, "bot_answers_total", outcome="answered", mode="fallback")
        == 1
    )
    assert value(after, "bot_llm_failures_total") > value(before, "bot_llm_failures_total")
    assert value(after, "bot_llm_seconds_count") > value(before, "bot_llm_seconds_count")


def test_a_503_from_admission_is_counted_and_logged_with_its_id(
    kb_settings: Settings, assistant: Assistant, log_lines: io.StringIO
) -> None:
    settings = kb_settings.model_copy(update={"max_inflight": 1, "max_queue": 0})
    with TestClient(create_app(settings, assistant)) as client:
        admission = client.app.state.admission  # type: ignore[attr-defined]
        before = scrape(client)
        holder = admission.slot()
        client.portal.call(holder.__aenter__)  # type: ignore[union-attr]  # the one place taken
        try:
            busy = scrape(client)
            refused = client.post("/api/chat", json={"question": ANSWERED})
            again = client.post("/api/chat", json={"question": ANSWERED})
        finally:
            client.portal.call(holder.__aexit__, None, None, None)  # type: ignore[union-attr]
        after = scrape(client)
    assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
    rid = refused.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", rid)
    assert value(busy, "bot_answers_inflight") == 1 and value(after, "bot_answers_inflight") == 0
    assert (
        value(after, "bot_answers_rejected_total") - value(before, "bot_answers_rejected_total")
        == 2
    )
    assert value(after, "bot_http_requests_total", method="POST", route="/api/chat", status="503")
    lines = [line for line in parsed(log_lines) if line.get("request_id") == rid]
    assert {line["logger"] for line in lines} == {
        "web.admission",
        "web.access",
    }  # warning + request
    warning = next(line for line in lines if line["logger"] == "web.admission")
    assert warning["level"] == "WARNING" and "overloaded" in str(warning["message"])
    # under overload a warning per refusal would flood the log: one per 10 s, with the count
    second = [
        line
        for line in parsed(log_lines)
        if line.get("request_id") == again.headers["x-request-id"]
    ]
    assert again.status_code == 503 and [line["logger"] for line in second] == ["web.access"]


def test_the_metrics_token_protects_metrics(small_kb: Path) -> None:
    settings = Settings(
        data_dir=small_kb,
        metrics_token="s3cret-token",
        admin_user="ops-admin",
        admin_password="ops-password-1",
    )
    with TestClient(create_app(settings)) as client:
        assert client.get("/metrics").status_code == 401
        wrong = client.get("/metrics", headers={"Authorization": "Bearer s3cret-tokeX"})
        assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "unauthorized"
        assert wrong.json()["error"]["message_zh"]
        samples = scrape(client, Authorization="Bearer s3cret-token")
        assert value(
            samples, "bot_http_requests_total", method="GET", route="/metrics", status="401"
        )
        # the admin settings view does not show it
        token = client.post(
            "/api/admin/login", json={"username": "ops-admin", "password": "ops-password-1"}
        ).json()["token"]
        shown = client.get("/api/admin/settings", headers={"Authorization": f"Bearer {token}"})
        rows = {row["name"]: row["value"] for row in shown.json()["settings"]}
        assert rows["BOT_METRICS_TOKEN"] == "******"


def test_route_labels_are_templates_and_unknown_paths_share_one(client: TestClient) -> None:
    def routes() -> set[str]:
        return {
            dict(labels)["route"]
            for name, labels in scrape(client)
            if name == "bot_http_requests_total"
        }

    assert client.get(f"/x{uuid.uuid4().hex}").status_code == 404
    before = routes()
    hostile = [f"/x{uuid.uuid4().hex}/{uuid.uuid4().hex}" for _ in range(3)]
    for path in hostile:
        assert client.get(path).status_code == 404
        assert client.post(path, json={}).status_code in (404, 405)
    assert client.delete("/api/admin/documents/some/doc-123").status_code == 401
    # refused before routing (body over the limit): still labelled by its route
    assert client.post("/api/chat", content=b"x" * (2 * 1024 * 1024)).status_code == 413
    samples = scrape(client)
    after = routes()
    assert after - before <= {"/api/admin/documents/{doc_id}", "/api/chat"}
    assert "unmatched" in before and "/api/admin/documents/{doc_id}" in after
    assert not any("doc-123" in r or "x" in r.split("/")[1] for r in after if r != "unmatched")
    assert value(samples, "bot_http_requests_total", method="GET", route="unmatched", status="404")
    assert value(samples, "bot_http_requests_total", method="POST", route="/api/chat", status="413")


def test_the_request_id_round_trip(client: TestClient) -> None:
    given = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.01_b"})
    assert given.headers["x-request-id"] == "lb-7f3a.01_b"
    for bad in ("has space", "x" * 65, "<script>", "é".encode()):
        res = client.get("/healthz", headers={"X-Request-ID": bad})
        assert re.fullmatch(r"[0-9a-f]{32}", res.headers["x-request-id"]), bad
    made = [client.get("/healthz").headers["x-request-id"] for _ in range(2)]
    assert made[0] != made[1] and all(re.fullmatch(r"[0-9a-f]{32}", m) for m in made)
    invalid = client.post("/api/chat", json={})
    assert invalid.status_code == 422 and re.fullmatch(
        r"[0-9a-f]{32}", invalid.headers["x-request-id"]
    )
    assert client.get("/nowhere").headers["x-request-id"]


def test_an_unhandled_error_carries_the_request_id(
    kb_settings: Settings, assistant: Assistant, log_lines: io.StringIO
) -> None:
    app = create_app(kb_settings, assistant)

    def boom() -> None:
        raise ValueError("a bug, says 13812345678")

    app.add_api_route("/boom", boom)
    with TestClient(app, raise_server_exceptions=False) as client:
        res = client.get("/boom", headers={"X-Request-ID": "boom-1"})
    assert res.status_code == 500 and res.headers["x-request-id"] == "boom-1"
    assert res.json()["error"]["code"] == "internal_error"
    lines = [line for line in parsed(log_lines) if line.get("request_id") == "boom-1"]
    error = next(line for line in lines if line["level"] == "ERROR")
    assert "ValueError" in str(error["exc"]) and "138****5678" in str(error["exc"])
    assert "13812345678" not in json.dumps(lines)
    (request,) = [line for line in lines if line["logger"] == "web.access"]
    assert (request["route"], request["status"]) == ("/boom", 500)


def test_one_json_line_per_request_with_the_question_masked(
    client: TestClient, assistant: Assistant, log_lines: io.StringIO
) -> None:
    res = client.post("/api/chat", json={"question": PERSONAL}, headers={"X-Request-ID": "q-1"})
    assert res.status_code == 200
    client.post("/api/chat", json={}, headers={"X-Request-ID": "q-2"})  # a 422
    lines = parsed(log_lines)
    (chat,) = [line for line in lines if line.get("request_id") == "q-1"]
    for key in ("time", "level", "request_id", "method", "route", "status", "latency_ms"):
        assert key in chat, key
    assert chat["client"] == "testclient"
    assert (chat["method"], chat["route"], chat["status"]) == ("POST", "/api/chat", 200)
    assert chat["answered"] == res.json()["answered"] and chat["mode"] == res.json()["mode"]
    question = str(chat["question"])
    assert "138****5678" in question and "1101**********002X" in question
    assert "a***@example.com" in question and "人才公寓怎么申请" in question
    raw = json.dumps(chat, ensure_ascii=False)
    assert "1234-5678" not in raw and "19491231" not in raw and "alice" not in raw
    (invalid,) = [line for line in lines if line.get("request_id") == "q-2"]
    assert invalid["status"] == 422 and "question" not in invalid
    # the staff's question log (access-controlled) keeps the question as asked
    assert PERSONAL in [q["question"] for q in assistant.questions.since(1)]


def test_masking() -> None:
    assert mask("电话13812345678") == "电话138****5678"
    assert mask("+86 139 1234 5678 或 86-15012345678") == "139****5678 或 150****5678"
    assert mask("证件110105491231002") == "证件1101*******1002"
    assert mask("写信给 Zhang.San+tax@mail.jiangan.gov.cn") == "写信给 Z***@mail.jiangan.gov.cn"
    assert mask("文号2024年第12号，热线12345，订单123456789012") == (
        "文号2024年第12号，热线12345，订单123456789012"
    )


def test_python_m_web_writes_json_lines_with_request_ids(tmp_path: Path, small_kb: Path) -> None:
    prom = tmp_path / "prom"
    prom.mkdir()
    port = _free_port()
    env = {**os.environ, "BOT_DATA_DIR": str(small_kb), "PROMETHEUS_MULTIPROC_DIR": str(prom)}
    env.pop("BOT_LOG_FORMAT", None)
    out, err = tmp_path / "out.log", tmp_path / "err.log"
    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "web", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=stdout,
            stderr=stderr,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 120
            while True:
                assert proc.poll() is None and time.monotonic() < deadline, err.read_text()
                try:
                    if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            with httpx.Client(base_url=url, timeout=60) as http:
                res = http.post(
                    "/api/chat",
                    json={"question": "人才公寓怎么申请"},
                    headers={"X-Request-ID": "sub-1"},
                )
                assert res.status_code == 200 and res.headers["x-request-id"] == "sub-1"
                samples = scrape(http)  # multiprocess mode: values from the files in prom/
        finally:
            proc.terminate()
            proc.wait(30)
    assert value(samples, "bot_http_requests_total", method="POST", route="/api/chat", status="200")
    assert any(prom.glob("*.db"))
    lines = [line for line in (out.read_text() + err.read_text()).splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is JSON, uvicorn's included
    assert any("Uvicorn running" in str(r["message"]) for r in records)
    mine = [r for r in records if r.get("request_id") == "sub-1"]
    assert len(mine) == 1, mine  # ours only: uvicorn's access line is off
    assert (mine[0]["route"], mine[0]["status"], mine[0]["answered"]) == ("/api/chat", 200, True)


def test_ingest_progress_is_exported(client: TestClient) -> None:
    library = client.app.state.library  # type: ignore[attr-defined]
    with library.progress.batch(3) as advance:  # what an upload of three files does
        advance()
        during = scrape(client)
    assert value(during, "bot_ingest_files") == 3 and value(during, "bot_ingest_files_done") == 1
    idle = scrape(client)
    assert value(idle, "bot_ingest_files") == 0 and value(idle, "bot_ingest_files_done") == 0
