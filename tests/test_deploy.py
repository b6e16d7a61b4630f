"""deploy/ (issue 14 point 5): Debian's nginx with deploy/nginx/jiangan-bot.conf.in in front
of two real `python -m web` replicas — balanced, SSE unbuffered, proxy headers, body limits,
/healthz and /metrics, a killed replica, no POST asked twice.

The replicas here have their own copy of the bundled index (the proxy is what is tested);
tests/test_replicas.py runs replicas on shared PostgreSQL and Chroma behind the same
configuration. The last test kills a replica: the module's tests run in file order.
"""

from __future__ import annotations

import json
import re
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from bot.config import Settings
from tests.fake_openai import FakeOpenAI
from tests.nginx import NginxProxy, render_nginx, running_nginx
from tests.test_faults import Server

QUESTION = "企业开办全流程需要多长时间？"
CLIENT = "127.0.0.2"  # the test's own address: nginx connects to the replicas from 127.0.0.1


ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_is_in_the_deployment_docs_and_env_example() -> None:
    names = {f"BOT_{name.upper()}" for name in Settings.model_fields}
    example = (ROOT / "deploy/jiangan-bot.env.example").read_text()
    guide = (ROOT / "docs/DEPLOY.md").read_text()
    assert {n for n in names if f"{n}=" not in example} == set()
    assert {n for n in names if f"`{n}`" not in guide} == set()
    # the example loads as it stands (systemd and `sh` read it too: quoted where it has spaces)
    settings = Settings(_env_file=ROOT / "deploy/jiangan-bot.env.example")  # type: ignore[call-arg]
    assert settings.hotline == "江岸区政务服务便民热线 12345"
    assert settings.trusted_proxies == "127.0.0.1"


def test_render_keeps_the_app_limits_and_refuses_what_nginx_would_misread() -> None:
    text = render_nginx.render("8080", ["127.0.0.1:8001", "10.0.0.2:8001"], upload_max_mb=20)
    assert "client_max_body_size 201m;" in text and "client_max_body_size 1m;" in text
    assert "server 10.0.0.2:8001 max_fails=1 fail_timeout=10s;" in text
    assert not re.search(r"@[A-Z_]+@", text)
    for bad in (["127.0.0.1"], ["127.0.0.1:80; evil"], []):
        with pytest.raises(ValueError):
            render_nginx.render("8080", bad)
    with pytest.raises(ValueError):
        render_nginx.render("8080", ["127.0.0.1:8001"], metrics_allow=["all; allow all"])


@dataclass
class Deployment:
    proxy: NginxProxy
    replicas: list[Server]
    llm: FakeOpenAI


@pytest.fixture(scope="module")
def deployment(
    kb_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    workdir = tmp_path_factory.mktemp("deploy")
    llm = FakeOpenAI().start()
    replicas: list[Server] = []
    env = {
        "BOT_TRUSTED_PROXIES": "127.0.0.1",
        "BOT_LLM_BASE_URL": llm.base_url,
        "BOT_LLM_MODEL": "fake-chat",
        "BOT_LLM_TIMEOUT_S": "30",
        "BOT_LOG_LEVEL": "INFO",
        "BOT_LOG_FORMAT": "json",
        "BOT_UPLOAD_MAX_MB": "1",  # the same number nginx is given below
    }
    try:
        for name in ("a", "b"):
            data = workdir / f"data-{name}"
            shutil.copytree(kb_settings.data_dir, data)
            # one after the other: two started at once each waited for the other's start-up
            # well past five minutes on this machine (alone: about a minute under load)
            replicas.append(Server(data, 300, **env))
        upstreams = [r.url.removeprefix("http://") for r in replicas]
        with running_nginx(upstreams, workdir, upload_max_mb=1) as proxy:
            yield Deployment(proxy, replicas, llm)
    finally:
        for replica in replicas:
            replica.stop()
        llm.stop()


def client(base_url: str, **kwargs: object) -> httpx.Client:
    """A client that connects from 127.0.0.2, so its address differs from nginx's."""
    transport = httpx.HTTPTransport(local_address=CLIENT)
    return httpx.Client(base_url=base_url, transport=transport, timeout=30, **kwargs)  # type: ignore[arg-type]


def access_lines(replica: Server) -> list[dict]:
    lines = []
    for raw in list(replica.log):
        try:
            line = json.loads(raw)
        except ValueError:
            continue
        if line.get("logger") == "web.access":
            lines.append(line)
    return lines


def served_by(deployment: Deployment, request_id: str) -> list[int]:
    """Which replicas (0, 1) wrote a request line with this id."""
    # the log readers are threads, and a line is written as its response ends: it may lag
    deadline = time.monotonic() + 5
    while True:
        found = [
            i
            for i, replica in enumerate(deployment.replicas)
            if any(line.get("request_id") == request_id for line in access_lines(replica))
        ]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def line_of(deployment: Deployment, request_id: str) -> dict:
    served_by(deployment, request_id)  # waits for the line
    for replica in deployment.replicas:
        for line in access_lines(replica):
            if line.get("request_id") == request_id:
                return line
    raise AssertionError(f"no replica logged {request_id}")


def test_healthz_through_nginx(deployment: Deployment) -> None:
    with client(deployment.proxy.url) as http:
        res = http.get("/healthz")
    assert res.status_code == 200
    assert res.json()["status"] == "ok" and res.json()["documents"] > 0
    # no id from the client: nginx made one, the replica kept it, both logged it
    rid = res.headers["x-request-id"]
    assert len(rid) == 32 and served_by(deployment, rid)
    assert any(f"rid={rid} " in line for line in deployment.proxy.access_lines())


def test_requests_are_balanced_across_both_replicas(deployment: Deployment) -> None:
    ids = [f"balance-{i}-{uuid.uuid4().hex[:8]}" for i in range(20)]
    with client(deployment.proxy.url) as http:
        for rid in ids:
            res = http.get("/healthz", headers={"X-Request-ID": rid})
            assert res.status_code == 200 and res.headers["x-request-id"] == rid
    where = [served_by(deployment, rid) for rid in ids]
    assert all(len(w) == 1 for w in where), where  # each request served exactly once
    counts = [sum(w == [i] for w in where) for i in (0, 1)]
    assert min(counts) >= 5, counts  # idle replicas: least_conn falls back to round robin


def test_forwarded_for_from_nginx_is_believed_a_forged_one_is_not(
    deployment: Deployment,
) -> None:
    forged = {"X-Forwarded-For": "203.0.113.9"}
    with client(deployment.proxy.url) as http:
        rid = f"xff-{uuid.uuid4().hex[:8]}"
        res = http.post(
            "/api/chat", json={"question": QUESTION}, headers={**forged, "X-Request-ID": rid}
        )
        assert res.status_code == 200
    # the replica saw the client's own address (nginx's header, believed from 127.0.0.1),
    # not nginx's 127.0.0.1 and not the address the client made up
    assert line_of(deployment, rid)["client"] == CLIENT
    # a client on a trusted address (here nginx's own): had nginx appended to the client's
    # header instead of replacing it, the replica would take the made-up address
    rid = f"xff-trusted-{uuid.uuid4().hex[:8]}"
    res = httpx.get(
        f"{deployment.proxy.url}/healthz", headers={**forged, "X-Request-ID": rid}, timeout=30
    )
    assert res.status_code == 200
    assert line_of(deployment, rid)["client"] == "127.0.0.1"
    # straight to a replica from an untrusted address: the header changes nothing
    with client(deployment.replicas[0].url) as http:
        rid = f"direct-{uuid.uuid4().hex[:8]}"
        res = http.get("/healthz", headers={**forged, "X-Request-ID": rid})
        assert res.status_code == 200
    assert line_of(deployment, rid)["client"] == CLIENT


def test_sse_arrives_event_by_event_through_nginx(deployment: Deployment) -> None:
    llm = deployment.llm
    llm.chunk_chars, llm.chunk_delay = 4, 0.15
    llm.reply = lambda r: "企业开办全程网上办理，材料齐全当天即可办结[1]。" * 2  # ~12 chunks
    try:
        arrivals: list[tuple[float, str]] = []
        with client(deployment.proxy.url) as http:
            with http.stream("POST", "/api/chat/stream", json={"question": QUESTION}) as res:
                assert res.status_code == 200
                assert res.headers["content-type"].startswith("text/event-stream")
                assert "content-encoding" not in res.headers
                for line in res.iter_lines():
                    if line.startswith("event: "):
                        arrivals.append((time.monotonic(), line.removeprefix("event: ")))
    finally:
        llm.chunk_delay, llm.reply = 0.0, FakeOpenAI().reply
    names = [name for _, name in arrivals]
    assert names[-1] == "done" and names.count("delta") >= 5, names
    first_delta = next(t for t, name in arrivals if name == "delta")
    # the LLM takes ~1.8 s to say it all; buffered, every event would arrive at once
    assert arrivals[-1][0] - first_delta > 1.0, arrivals


def test_bodies_are_limited_as_the_app_limits_them(deployment: Deployment) -> None:
    rid = f"big-{uuid.uuid4().hex[:8]}"
    with client(deployment.proxy.url) as http:
        res = http.post(
            "/api/chat",
            content=b'{"question": "' + b"x" * (1024 * 1024) + b'"}',
            headers={"Content-Type": "application/json", "X-Request-ID": rid},
        )
        assert res.status_code == 413
        assert res.json()["error"]["code"] == "too_large"  # the app's error shape
        assert res.headers["x-request-id"] == rid
        assert served_by(deployment, rid) == []  # refused by nginx alone
        # an upload may be larger (10 × BOT_UPLOAD_MAX_MB + 1 = 11 MB here): it reaches the
        # replica, which refuses it as anonymous
        res = http.post(
            "/api/admin/documents",
            files={"files": ("a.md", b"x" * (2 * 1024 * 1024), "text/markdown")},
        )
        assert res.status_code == 401, res.text
        res = http.post(
            "/api/admin/documents",
            files={"files": ("a.md", b"x" * (12 * 1024 * 1024), "text/markdown")},
        )
        assert res.status_code == 413 and res.json()["error"]["code"] == "too_large"


def test_metrics_only_from_allowed_addresses(deployment: Deployment) -> None:
    with client(deployment.proxy.url) as http:
        assert http.get("/metrics").status_code == 403  # 127.0.0.2 is not allowed
    res = httpx.get(f"{deployment.proxy.url}/metrics", timeout=10)  # from 127.0.0.1
    assert res.status_code == 200 and "bot_http_requests_total" in res.text


class _Refusing(BaseHTTPRequestHandler):
    """An upstream that answers 502 to everything and remembers what it was sent."""

    seen: list[tuple[str, str]] = []

    def log_message(self, *args: object) -> None:
        pass

    def _refuse(self) -> None:
        _Refusing.seen.append((self.command, self.headers.get("X-Request-ID", "")))
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.send_response(502)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = _refuse  # noqa: N815


def test_a_post_is_never_passed_to_a_second_replica(deployment: Deployment, tmp_path: Path) -> None:
    """Upstreams: a broken one (502) and replica A. A GET it broke goes to A; a POST it was
    sent stays answered 502 and is never asked of A."""
    broken = ThreadingHTTPServer(("127.0.0.1", 0), _Refusing)
    threading.Thread(target=broken.serve_forever, daemon=True).start()
    _Refusing.seen = []
    upstreams = [f"127.0.0.1:{broken.server_address[1]}", deployment.replicas[0].url[7:]]
    try:
        # max_fails=0: the broken one is never set aside, so it keeps getting its turn
        with running_nginx(upstreams, tmp_path, max_fails=0) as proxy, client(proxy.url) as http:
            posts = [f"post-{i}-{uuid.uuid4().hex[:8]}" for i in range(6)]
            statuses = {}
            for rid in posts:
                res = http.post(
                    "/api/chat", json={"question": QUESTION}, headers={"X-Request-ID": rid}
                )
                statuses[rid] = res.status_code
            gets = [f"get-{i}-{uuid.uuid4().hex[:8]}" for i in range(6)]
            for rid in gets:
                assert http.get("/healthz", headers={"X-Request-ID": rid}).status_code == 200
    finally:
        broken.shutdown()
        broken.server_close()
    sent_to_broken = {rid for method, rid in _Refusing.seen if method == "POST"}
    assert sent_to_broken, "round robin sent no POST to the broken upstream"
    for rid in posts:
        if rid in sent_to_broken:
            assert statuses[rid] == 502 and served_by(deployment, rid) == []
        else:
            assert statuses[rid] == 200
    assert any(method == "GET" for method, _ in _Refusing.seen)  # tried, then passed on
    assert all(served_by(deployment, rid) == [0] for rid in gets)


def test_a_killed_replica_leaves_the_other_serving(deployment: Deployment) -> None:
    """Last in the module: replica B is killed (SIGKILL, no drain)."""
    deployment.replicas[1].stop()
    ids = [f"after-kill-{i}-{uuid.uuid4().hex[:8]}" for i in range(6)]
    with client(deployment.proxy.url) as http:
        for rid in ids:
            res = http.get("/healthz", headers={"X-Request-ID": rid})
            assert res.status_code == 200, res.text
        # a question whose connection was refused never reached B: it goes to A
        rid = f"post-after-kill-{uuid.uuid4().hex[:8]}"
        res = http.post("/api/chat", json={"question": QUESTION}, headers={"X-Request-ID": rid})
        assert res.status_code == 200 and res.json()["answered"] is True
    assert all(served_by(deployment, r) == [0] for r in [*ids, rid])
    assert "connect() failed" in deployment.proxy.error_log.read_text()
