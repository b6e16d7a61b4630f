"""WeChat's retries on two replicas (issue 15): three tries of one MsgId, sent alternately to
two `python -m web` processes on one PostgreSQL database and one Chroma server, with an
answer slower than the reply time, give one answer computation, one question-log row and
one reply that carries it."""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import sqlalchemy as sa

from tests.engines import ChromaServer, PostgresCluster
from tests.fake_openai import FakeOpenAI
from tests.fake_wechat import APPID, SECRET, FakeWechat
from tests.fixtures_files import write_markdown
from tests.test_faults import Server
from tests.test_replicas import _ingest
from web.wechat.crypto import sha1_signature
from web.wechat.messages import parse

TOKEN = "replica-mp-token"
QUESTION = "码头岸电改造补贴按投资额的多少给？"


@dataclass
class Pair:
    a: Server
    b: Server
    llm: FakeOpenAI
    fake: FakeWechat
    database_url: str


@pytest.fixture(scope="module")
def pair(
    postgres: PostgresCluster, chroma_server: ChromaServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pair]:
    work = tmp_path_factory.mktemp("wechat-replicas")
    chroma_server.clear()
    database_url = postgres.create_database(f"wechat_{uuid.uuid4().hex[:10]}")
    llm = FakeOpenAI().start()
    llm.reply = lambda request: "码头完成岸电改造的企业，按改造投资额的百分之五给予一次性补贴[1]。"
    fake = FakeWechat().start()
    env = {
        "BOT_DATABASE_URL": database_url,
        "BOT_CHROMA_URL": chroma_server.url,
        "BOT_WECHAT_APPID": APPID,
        "BOT_WECHAT_SECRET": SECRET,
        "BOT_WECHAT_TOKEN": TOKEN,
        "BOT_WECHAT_API_BASE": fake.base_url,
        "BOT_WECHAT_REPLY_SECONDS": "1.0",
        "BOT_LLM_BASE_URL": llm.base_url,
        "BOT_LLM_MODEL": "fake-chat",
        "BOT_LLM_TIMEOUT_S": "30",
    }
    knowledge = work / "knowledge"
    write_markdown(
        knowledge / "dock.md",
        "dock-subsidy",
        "江岸区码头岸电改造补贴",
        "## 补贴标准\n码头完成岸电改造的企业，按改造投资额的百分之五给予一次性补贴。",
    )
    _ingest(work, env, knowledge)
    servers: list[Server] = []
    try:
        for name in ("a", "b"):
            servers.append(Server(work / f"data-{name}", 300, **env))
        yield Pair(servers[0], servers[1], llm, fake, database_url)
    finally:
        for server in servers:
            server.stop()
        llm.stop()
        fake.stop()


def _try(server: Server, xml: str) -> tuple[int, str, float]:
    """One WeChat try: it gives up after 5 s (scaled: the reply time is 1 s here, so 1.2 s)."""
    ts, nonce = str(int(time.time())), secrets.token_hex(4)
    params = {"timestamp": ts, "nonce": nonce, "signature": sha1_signature(TOKEN, ts, nonce)}
    started = time.monotonic()
    try:
        res = httpx.post(f"{server.url}/api/wechat/mp", params=params, content=xml, timeout=1.2)
    except httpx.ReadTimeout:
        return 0, "", time.monotonic() - started  # WeChat dropped it and will try again
    return res.status_code, res.text, time.monotonic() - started


def test_three_tries_on_two_replicas_give_one_answer(pair: Pair) -> None:
    pair.llm.mode, pair.llm.delay = "slow", 1.5
    xml = (
        "<xml><ToUserName><![CDATA[gh_jiangan]]></ToUserName>"
        "<FromUserName><![CDATA[o-replica]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{QUESTION}]]></Content><MsgId>5550001</MsgId></xml>"
    )
    before = len(pair.llm.chat_requests())
    tries = []
    for server in (pair.a, pair.b, pair.a):  # WeChat stops trying once a try got a reply
        tries.append(_try(server, xml))
        if tries[-1][0]:
            break
    carried = [text for status, text, _ in tries if status == 200 and "<Content>" in text]
    assert len(carried) == 1, tries  # one try carried the answer
    assert "百分之五" in parse(carried[0]).content
    assert tries[0][0] == 0  # the first try was slower than WeChat's patience
    attempts = len(tries)
    # a reply lost on the way (WeChat tries again) is carried again, from the other replica
    late = _try(pair.b if tries[-1] is tries[1] else pair.a, xml)
    assert late[0] == 200 and parse(late[1]).content == parse(carried[0]).content
    asked = [r for r in pair.llm.chat_requests()[before:] if QUESTION in str(r.get("messages", ""))]
    assert len(asked) == 1  # computed once, on one replica
    engine = sa.create_engine(pair.database_url)
    try:
        with engine.connect() as conn:
            logged = conn.scalar(
                sa.text("SELECT COUNT(*) FROM question_log WHERE question = :q"), {"q": QUESTION}
            )
            state = conn.execute(
                sa.text("SELECT state, attempts FROM wechat_messages WHERE key LIKE :k"),
                {"k": "%:5550001"},
            ).one()
    finally:
        engine.dispose()
    assert logged == 1
    assert tuple(state) == ("delivered", attempts + 1)
    pair.llm.mode = "ok"
