"""Several replicas agree (issue 14 point 4): two `python -m web` processes, each with a data
directory of its own, on one PostgreSQL database and one Chroma server — the session's
throw-away engines (tests/engines.py) — with Debian's nginx and deploy/'s configuration in
front of them.

A change made through replica A (upload, replace, rollback, delete, FAQ edit) or by
`python -m ingest` in a third process is answered by replica B within 5 seconds without a
restart; a conversation, a staff login and the insight page are shared; two uploads of one
file on A and B at once give one 201 and one 409. The last test stops the Chroma server
under the replicas and starts it again. The tests run in file order on one deployment.
"""

from __future__ import annotations

import concurrent.futures
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from tests.engines import ChromaServer, PostgresCluster
from tests.fixtures_files import write_markdown
from tests.nginx import NginxProxy, running_nginx
from tests.test_faults import Server

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "s3cret-pass"
WITHIN_S = 5.0  # the bound from a change on A to the answer on B
NOTICE = """---
id: dock-subsidy
title: 江岸区码头岸电改造补贴
category: 产业扶持
department: 区交通运输局
---
## 补贴标准
码头完成岸电改造的企业，按改造投资额的百分之五给予一次性补贴。
"""
QUESTION = "码头岸电改造补贴按投资额的多少给？"


@dataclass
class Replicas:
    a: Server
    b: Server
    proxy: NginxProxy
    data: Path
    env: dict[str, str]
    database_url: str
    chroma: ChromaServer
    token: str = ""
    seconds: dict[str, float] = field(default_factory=dict)  # change → answered on B

    def api(self, server: Server) -> httpx.Client:
        return httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {self.token}"}, timeout=120
        )


def _ingest(data: Path, env: dict[str, str], knowledge: Path) -> None:
    """`python -m ingest` as a third process on the shared engines."""
    done = subprocess.run(
        [sys.executable, "-m", "ingest", str(knowledge), "--data-dir", str(data / "ingest")],
        cwd=ROOT,
        env={**os.environ, "HF_HUB_OFFLINE": "1", **env},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.fixture(scope="module")
def replicas(
    postgres: PostgresCluster, chroma_server: ChromaServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Replicas]:
    work = tmp_path_factory.mktemp("replicas")
    chroma_server.clear()
    database_url = postgres.create_database(f"replicas_{uuid.uuid4().hex[:10]}")
    env = {
        "BOT_DATABASE_URL": database_url,
        "BOT_CHROMA_URL": chroma_server.url,
        "BOT_ADMIN_USER": "root",
        "BOT_ADMIN_PASSWORD": PASSWORD,
        "BOT_TRUSTED_PROXIES": "127.0.0.1",
        "BOT_LOG_LEVEL": "INFO",
    }
    knowledge = work / "knowledge"
    write_markdown(
        knowledge / "startup.md",
        "startup-guide",
        "江岸区企业开办指南",
        "## 办理时限\n企业开办全流程一个工作日办结，免费刻制公章。",
    )
    _ingest(work, env, knowledge)
    servers: list[Server] = []
    try:
        # one after the other: two started at once each waited for the other's start-up
        for name in ("a", "b"):
            servers.append(Server(work / f"data-{name}", 300, **env))
        a, b = servers
        upstreams = [s.url.removeprefix("http://") for s in servers]
        with running_nginx(upstreams, work) as proxy:
            yield Replicas(a, b, proxy, work, env, database_url, chroma_server)
    finally:
        for server in servers:
            server.stop()
        if chroma_server.process is None:  # a failed fault test: the next module needs it
            chroma_server.start()


def _answer(server: Server, question: str, **body: object) -> dict:
    res = httpx.post(f"{server.url}/api/chat", json={"question": question, **body}, timeout=60)
    assert res.status_code == 200, res.text
    return res.json()  # type: ignore[no-any-return]


def _until(check: Callable[[], bool], started: float, limit_s: float = WITHIN_S) -> float:
    """Seconds from `started` until `check()` holds; fails after `limit_s`."""
    while True:
        if check():
            return time.monotonic() - started
        if time.monotonic() - started > limit_s:
            raise AssertionError(f"not seen within {limit_s} s")
        time.sleep(0.1)


def _cites(server: Server, question: str, doc_id: str, *words: str) -> Callable[[], bool]:
    def check() -> bool:
        res = httpx.post(f"{server.url}/api/chat", json={"question": question}, timeout=60)
        if res.status_code != 200:  # an engine coming back: not yet
            return False
        answer = res.json()
        cited = [s["doc_id"] for s in answer["sources"]]
        return bool(answer["answered"] and cited[:1] == [doc_id]) and all(
            w in answer["answer"] for w in words
        )

    return check


def test_a_staff_login_on_a_is_valid_on_b(replicas: Replicas) -> None:
    login = httpx.post(
        f"{replicas.a.url}/api/admin/login", json={"username": "root", "password": PASSWORD}
    )
    assert login.status_code == 200, login.text
    replicas.token = login.json()["token"]
    with replicas.api(replicas.b) as b:
        me = b.get("/api/admin/me")
    assert me.status_code == 200 and me.json()["username"] == "root"


def test_both_replicas_serve_the_same_knowledge_base(replicas: Replicas) -> None:
    a = httpx.get(f"{replicas.a.url}/healthz").json()
    b = httpx.get(f"{replicas.b.url}/healthz").json()
    assert a["database"] == b["database"] == "ok" and a["vectors"] == b["vectors"] == "ok"
    assert a["kb_version"] == b["kb_version"] > 0
    assert a["documents"] == b["documents"] == 1
    assert _answer(replicas.b, "企业开办要多久？")["sources"][0]["doc_id"] == "startup-guide"
    # and say so to monitoring: the same bot_kb_version on each replica's /metrics
    shown = set()
    for server in (replicas.a, replicas.b):
        metrics = httpx.get(f"{server.url}/metrics").text.splitlines()
        shown |= {line.split()[1] for line in metrics if line.startswith("bot_kb_version ")}
    assert shown == {f"{float(a['kb_version'])}"}


def test_upload_replace_rollback_and_delete_on_a_are_answered_by_b(replicas: Replicas) -> None:
    a, b = replicas.a, replicas.b
    with replicas.api(a) as api:
        started = time.monotonic()
        res = api.post(
            "/api/admin/documents",
            files=[("files", ("dock.md", NOTICE.encode(), "text/markdown"))],
        )
        assert res.status_code == 201, res.text
        replicas.seconds["upload"] = _until(
            _cites(b, QUESTION, "dock-subsidy", "百分之五"), started
        )

        started = time.monotonic()
        res = api.put(
            "/api/admin/documents/dock-subsidy",
            files={"file": ("dock.md", NOTICE.replace("百分之五", "百分之八").encode())},
            data={"base_version": "1"},
        )
        assert res.status_code == 200, res.text
        replicas.seconds["replace"] = _until(
            _cites(b, QUESTION, "dock-subsidy", "百分之八"), started
        )

        started = time.monotonic()
        res = api.post("/api/admin/documents/dock-subsidy/rollback", json={"version": 1})
        assert res.status_code == 200, res.text
        replicas.seconds["rollback"] = _until(
            _cites(b, QUESTION, "dock-subsidy", "百分之五"), started
        )

    # B serves A's upload: its original, its versions
    with replicas.api(b) as api:
        original = api.get("/api/admin/documents/dock-subsidy/original")
        assert original.status_code == 200 and original.content == NOTICE.encode()
        listed = {d["doc_id"]: d for d in api.get("/api/admin/documents").json()}
        assert [v["status"] for v in listed["dock-subsidy"]["versions"]] == [
            "superseded",
            "superseded",
            "live",
        ]

    with replicas.api(a) as api:
        started = time.monotonic()
        assert api.delete("/api/admin/documents/dock-subsidy").status_code == 200

    def gone() -> bool:
        answer = _answer(b, QUESTION)
        return "dock-subsidy" not in [s["doc_id"] for s in answer["sources"]]

    replicas.seconds["delete"] = _until(gone, started)
    # …and B restores it: every replica can change the library
    with replicas.api(b) as api:
        assert api.post("/api/admin/documents/deleted/dock.md/restore").status_code == 200
    _until(_cites(a, QUESTION, "dock-subsidy", "百分之五"), time.monotonic())


def test_an_faq_entry_edited_on_a_is_answered_by_b(replicas: Replicas) -> None:
    question = "江岸区人才驿站最多免费住几天？"
    with replicas.api(replicas.a) as api:
        started = time.monotonic()
        res = api.post(
            "/api/admin/faq",
            json={"question": question, "answer": "人才驿站最长可免费入住7天。"},
        )
        assert res.status_code == 201, res.text
        entry = res.json()
    replicas.seconds["faq"] = _until(
        lambda: "7天" in _answer(replicas.b, question)["answer"], started
    )
    with replicas.api(replicas.b) as api:  # and edited on B, seen on A
        res = api.put(
            f"/api/admin/faq/{entry['id']}",
            json={
                "question": question,
                "answer": "人才驿站最长可免费入住10天。",
                "base_version": 1,
            },
        )
        assert res.status_code == 200, res.text
    _until(lambda: "10天" in _answer(replicas.a, question)["answer"], time.monotonic())


def test_an_ingest_from_a_third_process_is_answered_by_both(replicas: Replicas) -> None:
    knowledge = replicas.data / "knowledge"
    write_markdown(
        knowledge / "water.md",
        "water-saving",
        "江岸区节水型企业奖励",
        "## 奖励标准\n获评节水型企业的，一次性奖励三万元。",
    )
    _ingest(replicas.data, replicas.env, knowledge)
    done = time.monotonic()
    for server in (replicas.a, replicas.b):
        _until(_cites(server, "节水型企业奖励多少钱？", "water-saving", "三万元"), done)


def test_a_conversation_continues_on_b_and_b_counts_questions_asked_on_a(
    replicas: Replicas,
) -> None:
    with replicas.api(replicas.b) as api:
        before = api.get("/api/admin/insight").json()["asked"]
    first = _answer(replicas.a, "节水型企业奖励多少钱？")
    follow = _answer(replicas.b, "那企业开办呢？", session_id=first["session_id"])
    assert follow["session_id"] == first["session_id"]  # B accepted the id A issued
    engine = sa.create_engine(replicas.database_url)
    try:
        with engine.connect() as conn:
            turns = conn.execute(
                sa.text("SELECT question FROM session_turns WHERE session_id=:s ORDER BY turn"),
                {"s": first["session_id"]},
            ).scalars()
            assert list(turns) == ["节水型企业奖励多少钱？", "那企业开办呢？"]
    finally:
        engine.dispose()
    with replicas.api(replicas.b) as api:
        assert api.get("/api/admin/insight").json()["asked"] == before + 2


def test_one_file_uploaded_on_a_and_b_at_once_gives_one_201_and_one_409(
    replicas: Replicas,
) -> None:
    body = NOTICE.replace("dock-subsidy", "pier-subsidy").replace("码头岸电", "趸船岸电")

    def upload(server: Server) -> int:
        with replicas.api(server) as api:
            res = api.post(
                "/api/admin/documents",
                files=[("files", ("pier.md", body.encode(), "text/markdown"))],
            )
            return res.status_code

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        codes = sorted(pool.map(upload, [replicas.a, replicas.b]))
    assert codes == [201, 409]
    with replicas.api(replicas.a) as api:
        listed = {d["doc_id"]: d for d in api.get("/api/admin/documents").json()}
    assert [v["status"] for v in listed["pier-subsidy"]["versions"]] == ["live"]


def test_through_nginx_both_replicas_answer_and_streams_arrive_unbuffered(
    replicas: Replicas,
) -> None:
    with httpx.Client(base_url=replicas.proxy.url, timeout=60) as http:
        # both replicas on one version once the last change has reached both
        _until(
            lambda: len({http.get("/healthz").json()["kb_version"] for _ in range(4)}) == 1,
            time.monotonic(),
        )
        answer = http.post("/api/chat", json={"question": "节水型企业奖励多少钱？"}).json()
        assert answer["sources"][0]["doc_id"] == "water-saving"
        with http.stream(
            "POST", "/api/chat/stream", json={"question": "节水型企业奖励多少钱？"}
        ) as res:
            assert res.status_code == 200
            assert res.headers["content-type"].startswith("text/event-stream")
            events = [line for line in res.iter_lines() if line.startswith("event:")]
    assert len(events) > 1, events
    assert events[-1] == "event: done"


def test_the_chroma_server_killed_and_back(replicas: Replicas) -> None:
    """Chat keeps answering from the loaded snapshot (`/healthz` degraded, 200); a change
    needing vectors gets a clear 503 and nothing half done; all recovers by itself."""
    a = replicas.a
    replicas.chroma.kill()
    try:
        health = httpx.get(f"{a.url}/healthz")
        assert health.status_code == 200
        assert health.json()["status"] == "degraded" and health.json()["vectors"] == "failing"
        assert _cites(a, "节水型企业奖励多少钱？", "water-saving", "三万元")()
        with replicas.api(a) as api:
            res = api.post(
                "/api/admin/documents",
                files=[("files", ("harbor.md", _harbor().encode(), "text/markdown"))],
            )
        assert res.status_code == 503, res.text
        assert res.json()["error"]["code"] == "vectors_unavailable"
        assert int(res.headers["Retry-After"]) > 0
    finally:
        replicas.chroma.start()
    _until(lambda: httpx.get(f"{a.url}/healthz").json()["status"] == "ok", time.monotonic(), 30)
    with replicas.api(a) as api:
        res = api.post(
            "/api/admin/documents",
            files=[("files", ("harbor.md", _harbor().encode(), "text/markdown"))],
        )
        assert res.status_code == 201, res.text
    _until(_cites(replicas.b, "港口疏浚补贴多少？", "harbor-subsidy", "二十万元"), time.monotonic())


def test_postgresql_stopped_and_back(replicas: Replicas, postgres: PostgresCluster) -> None:
    """Questions get a clear 503 (a turn that cannot be kept is not answered), /healthz is
    503 degraded; once PostgreSQL is back both replicas answer again without a restart."""
    postgres.stop()
    try:
        res = httpx.post(
            f"{replicas.b.url}/api/chat", json={"question": "节水型企业奖励多少钱？"}, timeout=60
        )
        assert res.status_code == 503, res.text
        assert res.json()["error"]["code"] == "storage_unavailable"
        assert int(res.headers["Retry-After"]) > 0
        health = httpx.get(f"{replicas.b.url}/healthz", timeout=60)
        assert health.status_code == 503 and health.json()["database"] == "failing"
    finally:
        postgres.start()
    for server in (replicas.a, replicas.b):
        _until(
            _cites(server, "节水型企业奖励多少钱？", "water-saving", "三万元"), time.monotonic(), 30
        )
        assert httpx.get(f"{server.url}/healthz").json()["status"] == "ok"


def _harbor() -> str:
    return (
        NOTICE.replace("dock-subsidy", "harbor-subsidy")
        .replace("码头岸电改造补贴", "港口疏浚补贴")
        .replace(
            "码头完成岸电改造的企业，按改造投资额的百分之五给予一次性补贴。",
            "港口疏浚补贴最高二十万元。",
        )
    )


def test_report_the_seconds_from_a_change_on_a_to_the_answer_on_b(replicas: Replicas) -> None:
    print("\nchange on A → answered on B (s):", replicas.seconds)
    assert set(replicas.seconds) >= {"upload", "replace", "rollback", "delete", "faq"}
    assert max(replicas.seconds.values()) <= WITHIN_S
