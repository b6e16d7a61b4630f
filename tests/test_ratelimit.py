"""Per-client rate limits on chat and stream (issue #13, point 3): 429 with Retry-After and
both languages past `BOT_RATE_LIMIT_CHAT`, one counter per client for both routes, counters
shared through a real Redis (started here) and per process without one, and a Redis that
goes away never failing a question."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError

import web.ratelimit
from bot.assistant import Assistant
from bot.config import Settings
from bot.embedding import Embedder
from bot.errors import RateLimitedError
from bot.index import KnowledgeIndex
from ingest.pipeline import Ingestor
from tests.fixtures_files import write_markdown
from web.__main__ import server_config
from web.app import create_app
from web.ratelimit import ChatRateLimit

QUESTION = {"question": "人才公寓怎么申请"}
ADMIN = {"username": "admin", "password": "right-pass-2026"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Counting(Assistant):
    """The real assistant, counting the answers it computes."""

    computed = 0

    def ask(self, *args: Any, **kwargs: Any):  # type: ignore[no-untyped-def, override]
        self.computed += 1
        return super().ask(*args, **kwargs)

    async def stream(self, *args: Any, **kwargs: Any):  # type: ignore[no-untyped-def, override]
        self.computed += 1
        async for event in super().stream(*args, **kwargs):
            yield event


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[_Counting]:
    root = tmp_path_factory.mktemp("ratelimit")
    write_markdown(root / "kb" / "a.md", "apt", "人才公寓申请", "## 申请\n登录江岸人才网申请。")
    settings = Settings(data_dir=root / "data")
    index = KnowledgeIndex.open(settings, embedder)
    assert Ingestor(index, progress=False).run([root / "kb"]).ok
    index.close()
    bot = _Counting(settings, embedder=embedder)
    yield bot
    bot.close()


def _settings(tmp_path: Path, **update: Any) -> Settings:
    """The records of the test's own, a limit of 3 a minute and an admin account."""
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "rate_limit_chat": "3/minute",
        "admin_user": ADMIN["username"],
        "admin_password": ADMIN["password"],
        **update,
    }
    return Settings(**values)


def _stream(client: TestClient, **kwargs: Any) -> httpx.Response:
    return client.post("/api/chat/stream", json=QUESTION, **kwargs)


@pytest.fixture()
def redis_server() -> Iterator[dict[str, Any]]:
    """A real redis-server on a free loopback port (Debian package, scripts/install-redis.sh)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (sh scripts/install-redis.sh; make test does)")
    port = _free_port()
    server: dict[str, Any] = {"port": port, "url": f"redis://127.0.0.1:{port}/0"}

    def start() -> None:
        server["process"] = subprocess.Popen(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=port, socket_timeout=1)
        deadline = time.monotonic() + 15
        while True:
            try:
                if client.ping():
                    break
            except redis.ConnectionError:
                assert server["process"].poll() is None, "redis-server exited"
                assert time.monotonic() < deadline, "redis-server did not answer PING"
                time.sleep(0.05)
        client.close()

    def stop() -> None:
        process: subprocess.Popen[bytes] = server["process"]
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    server["start"], server["stop"] = start, stop
    start()
    yield server
    if server["process"].poll() is None:
        stop()


def test_past_the_limit_is_429_with_retry_after_in_both_languages(
    tmp_path: Path, kb: _Counting
) -> None:
    with TestClient(create_app(_settings(tmp_path), kb)) as client:
        before = kb.computed
        assert [client.post("/api/chat", json=QUESTION).status_code for _ in range(3)] == [200] * 3
        res = client.post("/api/chat", json=QUESTION)
        assert res.status_code == 429
        retry = int(res.headers["retry-after"])
        assert 1 <= retry <= 60
        error = res.json()["error"]
        assert error["code"] == "rate_limited"
        assert f"try again in {retry} s" in error["message"]
        assert error["message_zh"] == f"提问过于频繁，请 {retry} 秒后再试"
        assert kb.computed == before + 3  # the refused question was never answered
        assert client.app.state.admission.inflight == 0  # type: ignore[attr-defined]
        # anything else on the server is not counted
        assert client.get("/healthz").status_code == 200


def test_retry_after_is_when_the_window_frees() -> None:
    async def run() -> None:
        limit = ChatRateLimit(Settings(rate_limit_chat="2/2 seconds").chat_rate_limits)
        await limit.check("addr:a")
        await limit.check("addr:a")
        with pytest.raises(RateLimitedError) as refused:
            await limit.check("addr:a")
        assert refused.value.retry_after in (1, 2)
        await limit.check("addr:b")  # another client: its own counter
        await asyncio.sleep(refused.value.retry_after)
        await limit.check("addr:a")  # after Retry-After the window has room again
        assert limit.refused == 1

    asyncio.run(run())


def test_chat_and_stream_share_one_counter(tmp_path: Path, kb: _Counting) -> None:
    with TestClient(create_app(_settings(tmp_path), kb)) as client:
        assert client.post("/api/chat", json=QUESTION).status_code == 200
        first = _stream(client)
        assert first.status_code == 200 and "event: done" in first.text
        assert client.post("/api/chat", json=QUESTION).status_code == 200
        before = kb.computed
        refused = _stream(client)  # the fourth question, asked as a stream
        assert refused.status_code == 429  # refused before the stream's headers
        assert refused.headers["content-type"] == "application/json"
        assert refused.json()["error"]["code"] == "rate_limited"
        assert int(refused.headers["retry-after"]) >= 1
        assert client.post("/api/chat", json=QUESTION).status_code == 429
        assert kb.computed == before


def test_staff_tokens_count_apart_and_invented_ones_count_as_the_address(
    tmp_path: Path, kb: _Counting
) -> None:
    with TestClient(create_app(_settings(tmp_path), kb)) as client:
        tokens = [client.post("/api/admin/login", json=ADMIN).json()["token"] for _ in range(2)]
        client.cookies.clear()  # the log-in set its cookie: by header first
        one, two = ({"Authorization": f"Bearer {t}"} for t in tokens)
        codes = [client.post("/api/chat", json=QUESTION, headers=one).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        # the same log-in by its session cookie is the same client
        cookie = client.post(
            "/api/chat", json=QUESTION, headers={"Cookie": f"jiangan_admin={tokens[0]}"}
        )
        assert cookie.status_code == 429
        # another log-in, and the anonymous address, have counters of their own
        assert client.post("/api/chat", json=QUESTION, headers=two).status_code == 200
        assert client.post("/api/chat", json=QUESTION).status_code == 200
        # a token that is no log-in buys no fresh counter: it is the address's
        bogus = [
            client.post(
                "/api/chat", json=QUESTION, headers={"Authorization": f"Bearer made-up-{n}"}
            ).status_code
            for n in range(3)
        ]
        assert bogus == [200, 200, 429]


def test_a_wechat_user_is_counted_by_openid(tmp_path: Path, kb: _Counting) -> None:
    """The hook the WeChat channel fills: `request.state.openid` after it authenticates."""
    app = create_app(_settings(tmp_path), kb)

    @app.middleware("http")
    async def wechat_user(request: Any, call_next: Any) -> Any:  # stands in for the channel
        if "x-test-openid" in request.headers:
            request.state.openid = request.headers["x-test-openid"]
        return await call_next(request)

    with TestClient(app) as client:
        alice = {"x-test-openid": "o-alice"}
        codes = [
            client.post("/api/chat", json=QUESTION, headers=alice).status_code for _ in range(4)
        ]
        assert codes == [200, 200, 200, 429]
        bob = client.post("/api/chat", json=QUESTION, headers={"x-test-openid": "o-bob"})
        assert bob.status_code == 200  # same address, another WeChat user
        assert client.post("/api/chat", json=QUESTION).status_code == 200  # the address itself


def _live(settings: Settings, bot: Assistant) -> tuple[uvicorn.Server, threading.Thread, str]:
    """Served as `python -m web` serves it (proxy headers per BOT_TRUSTED_PROXIES), over the
    module's assistant."""
    port = _free_port()
    config = server_config(settings, "127.0.0.1", port, log_level="error")
    config.app = create_app(settings, bot)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    return server, thread, f"http://127.0.0.1:{port}"


@pytest.mark.parametrize("trusted", ["", "127.0.0.1"])
def test_addresses_are_as_uvicorn_reports_them(tmp_path: Path, kb: _Counting, trusted: str) -> None:
    server, thread, url = _live(_settings(tmp_path, trusted_proxies=trusted), kb)
    try:
        with httpx.Client(base_url=url, timeout=30) as here:
            codes = [
                here.post(
                    "/api/chat", json=QUESTION, headers={"X-Forwarded-For": f"203.0.113.{n}"}
                ).status_code
                for n in range(4)
            ]
        other = httpx.Client(
            base_url=url, timeout=30, transport=httpx.HTTPTransport(local_address="127.0.0.2")
        )
        with other:
            elsewhere = other.post("/api/chat", json=QUESTION).status_code
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert elsewhere == 200  # another address, another counter
    if trusted:  # behind the configured proxy each forwarded address is its own client
        assert codes == [200] * 4
    else:  # a forged X-Forwarded-For changes nothing: the peer's fourth question is refused
        assert codes == [200, 200, 200, 429]


def test_off_disables_the_limit(tmp_path: Path, kb: _Counting) -> None:
    for off in ("off", ""):
        with TestClient(create_app(_settings(tmp_path, rate_limit_chat=off), kb)) as client:
            assert not client.app.state.chat_rate_limit.enabled  # type: ignore[attr-defined]
            codes = [client.post("/api/chat", json=QUESTION).status_code for _ in range(5)]
            codes.append(_stream(client).status_code)
            assert codes == [200] * 6


def test_wrong_settings_stop_the_start() -> None:
    with pytest.raises(ValidationError, match="rate_limit_chat"):
        Settings(rate_limit_chat="lots")
    with pytest.raises(ValidationError, match="redis_url"):
        Settings(redis_url="memcached://127.0.0.1:11211")
    assert [str(i) for i in Settings(rate_limit_chat="30/minute;500/hour").chat_rate_limits] == [
        "30 per 1 minute",
        "500 per 1 hour",
    ]


def _two_apps(settings: Settings, bot: Assistant) -> tuple[FastAPI, FastAPI]:
    """Two apps, as two processes (or replicas) would each build one."""
    return create_app(settings, bot), create_app(settings, bot)


def test_two_processes_share_the_counter_through_redis(
    tmp_path: Path, kb: _Counting, redis_server: dict[str, Any]
) -> None:
    first, second = _two_apps(_settings(tmp_path, redis_url=redis_server["url"]), kb)
    with TestClient(first) as a, TestClient(second) as b:
        assert [a.post("/api/chat", json=QUESTION).status_code for _ in range(2)] == [200, 200]
        assert _stream(b).status_code == 200  # the third, through the other process
        refused = b.post("/api/chat", json=QUESTION)  # the other's first question over it
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
        assert a.post("/api/chat", json=QUESTION).status_code == 429
        token = a.post("/api/admin/login", json=ADMIN).json()["token"]
        a.cookies.clear()
        staff = b.post("/api/chat", json=QUESTION, headers={"Authorization": f"Bearer {token}"})
        assert staff.status_code == 200  # a staff member from the same address: their own
    keys = sorted(k.decode() for k in redis.Redis(port=redis_server["port"]).keys("*chat*"))
    assert len(keys) == 2, keys  # one counter per client, in Redis
    # the log-in was counted there too (its client's count; the pair cleared by success)
    logins = [k.decode() for k in redis.Redis(port=redis_server["port"]).keys("*login*")]
    assert logins == [next(k for k in logins if k.endswith("/testclient/20/300/second"))]
    assert "addr:testclient" in keys[0] and "staff:" in keys[1]
    assert not any(token in k for k in keys)  # a hash of the token, never the token


def test_without_redis_each_process_counts_its_own(tmp_path: Path, kb: _Counting) -> None:
    first, second = _two_apps(_settings(tmp_path), kb)
    with TestClient(first) as a, TestClient(second) as b:
        assert [a.post("/api/chat", json=QUESTION).status_code for _ in range(4)] == [
            200,
            200,
            200,
            429,
        ]
        assert b.post("/api/chat", json=QUESTION).status_code == 200


def test_redis_going_away_fails_open_with_a_warning(
    tmp_path: Path,
    kb: _Counting,
    redis_server: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(web.ratelimit, "REDIS_RETRY_S", 0.0)  # try Redis on every question
    caplog.set_level(logging.INFO, logger="web.ratelimit")
    with TestClient(create_app(_settings(tmp_path, redis_url=redis_server["url"]), kb)) as client:
        assert [client.post("/api/chat", json=QUESTION).status_code for _ in range(2)] == [200] * 2
        redis_server["stop"]()
        caplog.clear()
        after = client.post("/api/chat", json=QUESTION)
        assert after.status_code == 200 and after.json()["answered"]  # answered, not a 500
        assert _stream(client).status_code == 200
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1 and "unreachable" in warnings[0].getMessage()
        # meanwhile this process still counts on its own: its third question is its last
        assert client.post("/api/chat", json=QUESTION).status_code == 200
        assert client.post("/api/chat", json=QUESTION).status_code == 429
        # Redis back (empty, as after a restart): its counter is used again, and said so
        redis_server["start"]()
        assert client.post("/api/chat", json=QUESTION).status_code == 200
        assert any("answers again" in r.getMessage() for r in caplog.records)
        assert redis.Redis(port=redis_server["port"]).keys("*jiangan-chat*")


def test_redis_down_at_start_is_a_warning_not_a_failure(
    tmp_path: Path, kb: _Counting, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="web.ratelimit")
    nowhere = f"redis://127.0.0.1:{_free_port()}/0"  # nothing listens there
    with TestClient(create_app(_settings(tmp_path, redis_url=nowhere), kb)) as client:
        assert any("unreachable" in r.getMessage() for r in caplog.records)
        codes = [client.post("/api/chat", json=QUESTION).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]  # counted per process meanwhile


def test_the_widget_says_why_it_was_refused(browser: Any, tmp_path: Path, kb: _Counting) -> None:
    """In real Chromium: the second question past a limit of one a minute shows the server's
    「提问过于频繁，请 N 秒后再试」, not a network error."""
    from tests.test_widget import LiveServer

    with LiveServer(_settings(tmp_path, rate_limit_chat="1/minute"), kb) as live:
        context = browser.new_context(locale="zh-CN")
        page = context.new_page()
        page.goto(live.url + "/chat")
        for question in ("人才公寓怎么申请？", "人才公寓要什么材料？"):
            page.locator("textarea").fill(question)
            page.keyboard.press("Enter")
            if question.endswith("申请？"):
                page.locator("button[aria-label='有帮助']").first.wait_for(timeout=30_000)
        page.locator("button.retry").wait_for(timeout=30_000)
        said = page.locator(".msg.bot").nth(2).inner_text()
        context.close()
    assert "提问过于频繁" in said and "秒后再试" in said, said
    assert "网络开小差" not in said


def test_failed_logins_are_counted_across_replicas_in_redis(
    redis_server: dict[str, Any],
) -> None:
    """Two replicas' limiters on one Redis: five failed tries in all, not five on each; a
    correct password clears the pair on both; with Redis gone each counts on its own."""
    from web.ratelimit import LoginRateLimit

    async def scenario() -> None:
        a = LoginRateLimit(redis_url=redis_server["url"])
        b = LoginRateLimit(redis_url=redis_server["url"])
        try:
            for limiter in (a, b, a, b, a):
                await limiter.attempt("10.0.0.7", "root")
            for limiter in (a, b):
                with pytest.raises(RateLimitedError) as refused:
                    await limiter.attempt("10.0.0.7", "Root")  # the name's case does not matter
                assert refused.value.retry_after > 0
            await b.succeeded("10.0.0.7", "root")
            await a.attempt("10.0.0.7", "root")  # cleared everywhere
            await a.attempt("10.0.0.8", "root")  # another client: its own count
        finally:
            await a.aclose()
            await b.aclose()

    # a thread of its own: an earlier test of this module may leave a loop running in this one
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, scenario()).result()
