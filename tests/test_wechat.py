"""The WeChat channel over HTTP against a real local server that speaks WeChat's and WeCom's
APIs (tests/fake_wechat.py) and a real local LLM server (slow answers): mini-program log-in,
chat, stream and rate limit; the official account's callback in plaintext and safe mode,
with fast, slow (service push, subscription hand-over) and long answers; events; the shared
access token; the WeCom app's callback."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import secrets
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from bot.assistant import Assistant
from bot.config import Settings
from bot.embedding import Embedder
from bot.records import Database
from tests.fake_openai import FakeOpenAI
from tests.fake_wechat import APPID, CORP_SECRET, CORPID, SECRET, FakeWechat
from web.app import create_app
from web.wechat.api import WechatApi
from web.wechat.conversation import MORE, NO_MORE, TEXT_ONLY, VOICE_UNHEARD, WORKING
from web.wechat.crypto import MessageCrypto, sha1_signature
from web.wechat.messages import parse

TOKEN = "jiangan-mp-token"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
WECOM_TOKEN = "jiangan-wecom-token"
WECOM_AES = "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut"
QUESTION = "企业开办全流程需要多长时间？"
REPLY_S = 0.6  # BOT_WECHAT_REPLY_SECONDS in these tests (4.5 in production)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeWechat]:
    server = FakeWechat().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def llm() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().start()
    server.reply = lambda request: "企业开办全流程1个工作日内办结[1]。"
    yield server
    server.stop()


def _settings(data: Path, fake: FakeWechat, llm: FakeOpenAI, **over: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": data,
        "wechat_appid": APPID,
        "wechat_secret": SECRET,
        "wechat_token": TOKEN,
        "wechat_api_base": fake.base_url,
        "wechat_reply_seconds": REPLY_S,
        "wecom_corpid": CORPID,
        "wecom_secret": CORP_SECRET,
        "wecom_agentid": "1000002",
        "wecom_token": WECOM_TOKEN,
        "wecom_aes_key": WECOM_AES,
        "wecom_api_base": fake.base_url,
        "llm_base_url": llm.base_url,
        "llm_model": "fake-chat",
        "llm_timeout_s": 30.0,
        **over,
    }
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def kb_copy(kb_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("wechat") / "data"
    shutil.copytree(kb_settings.data_dir, target)
    return target


def _client(
    kb_copy: Path, fake: FakeWechat, llm: FakeOpenAI, embedder: Embedder, **over: object
) -> Iterator[TestClient]:
    settings = _settings(kb_copy, fake, llm, **over)
    bot = Assistant(settings, embedder=embedder)
    try:
        with TestClient(create_app(settings, bot)) as client:
            yield client
    finally:
        bot.close()


@pytest.fixture()
def client(
    kb_copy: Path, fake: FakeWechat, llm: FakeOpenAI, embedder: Embedder
) -> Iterator[TestClient]:
    llm.mode = "ok"
    yield from _client(kb_copy, fake, llm, embedder, wechat_rate="3/minute")


def _login(client: TestClient, user: str) -> str:
    res = client.post("/api/wechat/login", json={"code": f"{user}-{secrets.token_hex(4)}"})
    assert res.status_code == 200, res.text
    return str(res.json()["token"])


# --- the mini-program ---------------------------------------------------------------------------
def test_login_returns_our_token_and_never_the_session_key(
    client: TestClient, fake: FakeWechat, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    res = client.post("/api/wechat/login", json={"code": "alice-1"})
    assert res.status_code == 200
    body = res.json()
    assert set(body) == {"token", "expires_in"} and body["expires_in"] == 7200
    assert "SESSIONKEY" not in res.text and "o-alice" not in body["token"]
    assert "SESSIONKEY" not in caplog.text
    # httpx would log the request URL (with the AppSecret and js_code) at INFO: off, masked
    from web.logs import configure_logging, mask

    configure_logging("text", "INFO")
    try:
        assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)
    finally:
        logging.getLogger().handlers.clear()
    url = f"GET /sns/jscode2session?appid={APPID}&secret={SECRET}&js_code=alice-1 200"
    assert SECRET not in mask(url) and "alice-1" not in mask(url)
    assert "tok123" not in mask("POST /cgi-bin/message/custom/send?access_token=tok123")
    # nor kept anywhere in the records
    records = Database(f"sqlite:///{client.app.state.settings.data_dir}/records.sqlite3")
    with records.read() as conn:
        for table in sa.inspect(conn).get_table_names():
            for row in conn.execute(sa.text(f'SELECT * FROM "{table}"')):
                assert "SESSIONKEY" not in repr(row), table
    records.close()
    # the same code again is WeChat's 40029
    again = client.post("/api/wechat/login", json={"code": "alice-1"})
    assert again.status_code == 400 and again.json()["error"]["code"] == "wechat_code_invalid"


@pytest.mark.parametrize(
    ("errcode", "status", "code"),
    [
        (40029, 400, "wechat_code_invalid"),
        (45011, 429, "wechat_too_frequent"),
        (40226, 403, "wechat_risky_user"),
        (-1, 503, "wechat_unavailable"),
        (40013, 502, "wechat_error"),
    ],
)
def test_login_errors_map_to_clear_replies(
    client: TestClient, fake: FakeWechat, errcode: int, status: int, code: str
) -> None:
    fake.login_error = errcode
    try:
        res = client.post("/api/wechat/login", json={"code": "bob-1"})
    finally:
        fake.login_error = None
    assert res.status_code == status, res.text
    error = res.json()["error"]
    assert error["code"] == code and error["message_zh"]
    if status in (429, 503):
        assert int(res.headers["Retry-After"]) > 0


def test_login_timeout_is_503_and_bad_codes_are_refused(
    client: TestClient, fake: FakeWechat
) -> None:
    client.app.state.wechat.api.http.timeout = httpx.Timeout(0.3)
    fake.login_hang = 1.0
    try:
        res = client.post("/api/wechat/login", json={"code": "carol-1"})
    finally:
        fake.login_hang = 0.0
        client.app.state.wechat.api.http.timeout = httpx.Timeout(5.0)
    assert res.status_code == 503 and res.json()["error"]["code"] == "wechat_unavailable"
    for bad in ("", "a b", "<script>", "x" * 200):
        assert client.post("/api/wechat/login", json={"code": bad}).status_code == 422
    broken = client.post(
        "/api/wechat/login", content=b"{", headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 400


def test_chat_continues_the_users_conversation_across_logins(client: TestClient) -> None:
    first = client.post(
        "/api/wechat/chat",
        json={"question": QUESTION},
        headers={"Authorization": f"Bearer {_login(client, 'dave')}"},
    )
    assert first.status_code == 200, first.text
    answer = first.json()
    assert answer["answered"] and answer["sources"] and answer["session_id"]
    # a new log-in of the same user continues the conversation: one session, two turns
    second = client.post(
        "/api/wechat/chat",
        json={"question": "需要交费吗？"},
        headers={"Authorization": f"Bearer {_login(client, 'dave')}"},
    )
    assert second.json()["session_id"] == answer["session_id"]
    turns = client.app.state.assistant.sessions.history(answer["session_id"])
    assert [t.question for t in turns] == [QUESTION, "需要交费吗？"]
    # another user has a conversation of their own
    other = client.post(
        "/api/wechat/chat",
        json={"question": QUESTION},
        headers={"Authorization": f"Bearer {_login(client, 'erin')}"},
    )
    assert other.json()["session_id"] != answer["session_id"]


def test_tokens_that_are_missing_altered_or_expired_get_401(client: TestClient) -> None:
    token = _login(client, "frank")
    head, payload, signature = token.split(".")
    forged = json.dumps({"o": "o-victim", "e": int(time.time()) + 3600}).encode()
    import base64

    other_payload = base64.urlsafe_b64encode(forged).rstrip(b"=").decode()
    expired, _ = client.app.state.wechat.logins.issue("o-frank", now=time.time() - 3 * 7200)
    for bad in (
        None,
        "nonsense",
        f"{head}.{other_payload}.{signature}",  # someone else's openid, our signature
        f"{head}.{payload}.{signature[:-2]}xx",
        f"{head}.{payload}.{signature[:-2]}\u00e9\u00e9",  # not ASCII: no TypeError, a 401
        expired,
    ):
        headers = {"Authorization": f"Bearer {bad}".encode("latin-1")} if bad else {}
        res = client.post("/api/wechat/chat", json={"question": QUESTION}, headers=headers)
        assert res.status_code == 401, (bad, res.text)
        assert res.json()["error"]["message_zh"]


def test_rate_limit_per_openid(client: TestClient) -> None:
    headers = {"Authorization": f"Bearer {_login(client, 'gina')}"}
    codes = [
        client.post("/api/wechat/chat", json={"question": QUESTION}, headers=headers).status_code
        for _ in range(4)
    ]
    assert codes == [200, 200, 200, 429]
    res = client.post("/api/wechat/chat/stream", json={"question": QUESTION}, headers=headers)
    assert res.status_code == 429 and int(res.headers["Retry-After"]) > 0
    # another user is not held back
    other = {"Authorization": f"Bearer {_login(client, 'hank')}"}
    assert client.post("/api/wechat/chat", json={"question": QUESTION}, headers=other).is_success


def test_stream_for_wx_request_chunked(client: TestClient) -> None:
    headers = {"Authorization": f"Bearer {_login(client, 'ivan')}"}
    with client.stream(
        "POST", "/api/wechat/chat/stream", json={"question": QUESTION}, headers=headers
    ) as res:
        assert res.status_code == 200
        assert res.headers["content-type"].startswith("text/event-stream")
        raw = b"".join(res.iter_bytes())
    events = [block for block in raw.decode().split("\n\n") if block.strip()]
    names = [e.splitlines()[0].removeprefix("event: ") for e in events]
    assert names[0] == "delta" and names[-2:] == ["sources", "done"]
    done = json.loads(events[-1].splitlines()[1].removeprefix("data: "))
    assert done["answered"] and done["session_id"]


def test_msg_sec_check_refuses_a_risky_question(
    kb_copy: Path, fake: FakeWechat, llm: FakeOpenAI, embedder: Embedder
) -> None:
    for client in _client(kb_copy, fake, llm, embedder, wechat_msg_sec_check=True):
        headers = {"Authorization": f"Bearer {_login(client, 'judy')}"}
        before = len(llm.chat_requests())
        res = client.post(
            "/api/wechat/chat", json={"question": "企业开办 违规内容 怎么办"}, headers=headers
        )
        assert res.status_code == 200
        body = res.json()
        assert not body["answered"] and body["mode"] == "blocked"
        assert "违规内容" not in body["answer"]
        assert len(llm.chat_requests()) == before  # never reached the LLM
        call = [c for p, c in fake.calls if p == "/wxa/msg_sec_check"][-1]
        assert call["version"] == 2 and call["scene"] == 2 and call["openid"] == "o-judy"
        logged = client.app.state.assistant.questions.since(1)[0]
        assert logged["reason"] == "msg_sec_check:risky"
        # a question WeChat passes is answered
        ok = client.post("/api/wechat/chat", json={"question": QUESTION}, headers=headers)
        assert ok.json()["answered"]


# --- the official account -----------------------------------------------------------------------
def _signed(timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    nonce = secrets.token_hex(4)
    return {"timestamp": ts, "nonce": nonce, "signature": sha1_signature(TOKEN, ts, nonce)}


def _text(content: str, msg_id: int | None = None, user: str = "o-mp-user", **kw: str) -> str:
    msg_id = msg_id if msg_id is not None else secrets.randbelow(10**15)
    extra = "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in kw.items())
    kind = kw.pop("MsgType", None)
    return (
        f"<xml><ToUserName><![CDATA[gh_jiangan]]></ToUserName>"
        f"<FromUserName><![CDATA[{user}]]></FromUserName><CreateTime>{int(time.time())}</CreateTime>"
        + ("" if kind else "<MsgType><![CDATA[text]]></MsgType>")
        + f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId>{extra}</xml>"
    )


def _event(event: str, user: str = "o-mp-user") -> str:
    return (
        f"<xml><ToUserName><![CDATA[gh_jiangan]]></ToUserName>"
        f"<FromUserName><![CDATA[{user}]]></FromUserName><CreateTime>{int(time.time())}</CreateTime>"
        f"<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]></Event></xml>"
    )


def _post(client: TestClient, xml: str) -> httpx.Response:
    return client.post("/api/wechat/mp", params=_signed(), content=xml.encode())


def _content(res: httpx.Response, user: str = "o-mp-user") -> str:
    assert res.status_code == 200, res.text
    msg = parse(res.content)
    assert msg.msg_type == "text" and msg.to_user == user
    assert msg.from_user == "gh_jiangan"
    return msg.content


def test_handshake_checks_the_signature_and_the_time(client: TestClient) -> None:
    ok = client.get("/api/wechat/mp", params={**_signed(), "echostr": "12345abc"})
    assert ok.status_code == 200 and ok.text == "12345abc"
    bad = {**_signed(), "echostr": "x"}
    bad["signature"] = "0" * 40
    assert client.get("/api/wechat/mp", params=bad).status_code == 403
    stale = {**_signed(int(time.time()) - 301), "echostr": "x"}
    assert client.get("/api/wechat/mp", params=stale).status_code == 403
    assert client.get("/api/wechat/mp", params={"echostr": "x"}).status_code == 403
    refused = client.post(
        "/api/wechat/mp", params={**_signed(int(time.time()) - 600)}, content=_text(QUESTION)
    )
    assert refused.status_code == 403


def test_a_text_message_gets_a_passive_plain_text_reply(client: TestClient) -> None:
    started = time.monotonic()
    content = _content(_post(client, _text(QUESTION)))
    assert time.monotonic() - started < REPLY_S + 0.5
    assert "1个工作日" in content
    assert "**" not in content and "[1]" not in content  # plain text, markers → source list
    assert "来源" in content


def test_safe_mode_round_trip(
    kb_copy: Path, fake: FakeWechat, llm: FakeOpenAI, embedder: Embedder
) -> None:
    for client in _client(kb_copy, fake, llm, embedder, wechat_aes_key=AES_KEY):
        _safe_mode(client)


def _safe_mode(client: TestClient) -> None:
    # with a key set, a plaintext message is not believed (its body is not signed)
    assert _post(client, _text(QUESTION)).status_code == 403
    crypto = MessageCrypto(TOKEN, AES_KEY, APPID)
    params = _signed()
    encrypted = crypto.encrypt(_text(QUESTION))
    params.update(
        encrypt_type="aes",
        msg_signature=sha1_signature(TOKEN, params["timestamp"], params["nonce"], encrypted),
    )
    envelope = (
        f"<xml><ToUserName><![CDATA[gh_jiangan]]></ToUserName>"
        f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    )
    res = client.post("/api/wechat/mp", params=params, content=envelope.encode())
    assert res.status_code == 200, res.text
    outer = parse(res.content)
    reply_ts = outer.fields["TimeStamp"]
    reply_nonce = outer.fields["Nonce"]
    assert outer.fields["MsgSignature"] == sha1_signature(
        TOKEN, reply_ts, reply_nonce, outer.encrypt
    )
    inner = parse(crypto.decrypt(outer.encrypt))
    assert "1个工作日" in inner.content
    # a wrong msg_signature is refused
    params["msg_signature"] = "f" * 40
    assert (
        client.post("/api/wechat/mp", params=params, content=envelope.encode()).status_code == 403
    )


def _log_rows(client: TestClient, question: str) -> int:
    return sum(
        1 for r in client.app.state.assistant.questions.since(1) if r["question"] == question
    )


def test_subscription_retry_gets_the_finished_answer_once(
    client: TestClient, llm: FakeOpenAI
) -> None:
    """Slower than the reply time: try 1 says nothing until WeChat gives up; a later try
    carries the answer computed once."""
    question = "企业开办全流程需要几天办结？"
    llm.mode, llm.delay = "slow", 1.2
    xml = _text(question, msg_id=9001, user="o-retry")  # no history: one LLM call
    started = time.monotonic()
    first = _post(client, xml)
    assert first.status_code == 200 and first.text == ""  # held past WeChat's 5 s
    assert time.monotonic() - started >= REPLY_S + 0.9
    second = _post(client, xml)  # WeChat's second try: the answer is ready by now
    assert "1个工作日" in _content(second, "o-retry")
    assert (
        len([r for r in llm.chat_requests() if question in json.dumps(r, ensure_ascii=False)]) == 1
    )
    assert _log_rows(client, question) == 1
    # WeChat tries again only when it got nothing: a reply that came too late for it is
    # carried again by the next try — the same answer, not a second computation
    third = _post(client, xml)
    assert _content(third, "o-retry") == _content(second, "o-retry")
    assert _log_rows(client, question) == 1


def test_subscription_hand_over_when_every_try_runs_out(
    client: TestClient, llm: FakeOpenAI
) -> None:
    question = "企业开办全流程最快多久？"
    llm.mode, llm.delay = "slow", 5.0
    xml = _text(question, msg_id=9002, user="o-handover")
    assert _post(client, xml).text == ""
    assert _post(client, xml).text == ""
    assert _content(_post(client, xml), "o-handover") == WORKING  # the third try: collect it later
    ledger = client.app.state.wechat.conversations.ledger
    deadline = time.monotonic() + 15
    while not ledger.owed("wechat", "o-handover").parts and time.monotonic() < deadline:
        time.sleep(0.2)  # the answer is finished meanwhile
    llm.mode = "ok"
    later = _content(_post(client, _text("好的", user="o-handover")), "o-handover")
    assert "1个工作日" in later and "之前问题" in later
    assert _log_rows(client, question) == 1
    assert _log_rows(client, "好的") == 0  # the collecting message is not a question


def test_service_account_pushes_a_slow_answer(
    kb_copy: Path, fake: FakeWechat, llm: FakeOpenAI, embedder: Embedder
) -> None:
    for client in _client(kb_copy, fake, llm, embedder, wechat_account="service"):
        llm.mode, llm.delay = "slow", 1.5
        before = len(fake.sent)
        res = _post(client, _text("企业开办要跑几次窗口？", user="o-service"))
        assert res.text == "success"  # WeChat stops trying; the answer is pushed
        deadline = time.monotonic() + 10
        while len(fake.sent) == before and time.monotonic() < deadline:
            time.sleep(0.1)
        pushed = fake.sent[before:]
        assert len(pushed) == 1 and pushed[0]["touser"] == "o-service"
        assert pushed[0]["msgtype"] == "text" and pushed[0]["text"]["content"]
        # a push WeChat refuses (45047: over the quota) is logged and not retried
        llm.mode = "slow"
        fake.send_errors = [45047]
        calls = fake.count("/cgi-bin/message/custom/send")
        _post(client, _text("企业开办可以全程网办吗？", user="o-service"))
        deadline = time.monotonic() + 10
        while fake.count("/cgi-bin/message/custom/send") == calls and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)
        assert fake.count("/cgi-bin/message/custom/send") == calls + 1
        llm.mode = "ok"


def test_service_account_pushes_the_rest_of_a_long_answer_in_order(
    kb_copy: Path, fake: FakeWechat, llm: FakeOpenAI, embedder: Embedder
) -> None:
    long = "".join(
        f"第{n}项：企业开办全流程1个工作日内办结，材料齐全当场受理[1]。\n" for n in range(150)
    )
    for client in _client(kb_copy, fake, llm, embedder, wechat_account="service"):
        llm.mode, llm.reply = "ok", (lambda request: long)
        before = len(fake.sent)
        try:
            first = _content(
                _post(client, _text(QUESTION, user="o-long-service")), "o-long-service"
            )
            deadline = time.monotonic() + 10
            while len(fake.sent) - before < 5 and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(0.5)
        finally:
            llm.reply = lambda request: "企业开办全流程1个工作日内办结[1]。"
        pushed = [m["text"]["content"] for m in fake.sent[before:]]
        assert first.startswith("第0项") and MORE not in first  # the rest is pushed
        assert len(pushed) == 5  # WeChat's quota per user message
        numbers = [int(p.split("项")[0].removeprefix("第")) for p in [first, *pushed]]
        assert numbers == sorted(numbers)  # in order
        assert all(len(p.encode()) <= 2000 for p in [first, *pushed])
        assert pushed[-1].endswith(MORE)  # more than the quota: the rest on 「继续」
        more = _content(_post(client, _text("继续", user="o-long-service")), "o-long-service")
        assert int(more.split("项")[0].removeprefix("第")) > numbers[-1]


def test_long_answers_continue_part_by_part(client: TestClient) -> None:
    ledger = client.app.state.wechat.conversations.ledger
    parts = ["甲" * 600, "乙" * 600, "丙" * 10]
    ledger.claim("wechat:test:long", "o-long")
    ledger.store("wechat:test:long", parts)
    ledger.take("wechat:test:long", fallback="working")  # the first part went out
    second = _content(_post(client, _text("继续", user="o-long")), "o-long")
    assert second.startswith("乙" * 600) and second.endswith(MORE)
    assert len(second.encode()) <= 2000
    third = _content(_post(client, _text("继续", user="o-long")), "o-long")
    assert third == "丙" * 10
    assert _content(_post(client, _text("继续", user="o-long")), "o-long") == NO_MORE


def test_events_and_other_message_types(client: TestClient) -> None:
    welcome = _content(_post(client, _event("subscribe")))
    assert "欢迎" in welcome and "1. " in welcome and "3. " in welcome
    voice = _text("", MsgType="voice", Recognition=QUESTION).replace(
        "<Content><![CDATA[]]></Content>", ""
    )
    assert "1个工作日" in _content(_post(client, voice))
    unheard = _text("", MsgType="voice").replace("<Content><![CDATA[]]></Content>", "")
    assert _content(_post(client, unheard)) == VOICE_UNHEARD
    image = _text("", MsgType="image", PicUrl="http://example/x.jpg")
    assert _content(_post(client, image)) == TEXT_ONLY
    # unsubscribe forgets the user's conversation
    sessions = client.app.state.assistant.sessions
    sid = sessions.id_for("wechat:o-mp-user")
    assert sessions.history(sid)
    assert _post(client, _event("unsubscribe")).text == "success"
    assert sessions.history(sid) == []


# --- the access token -----------------------------------------------------------------------------
def test_replicas_share_one_access_token(
    fake: FakeWechat, postgres_url: str, tmp_path: Path
) -> None:
    """Two replicas (two API clients on one PostgreSQL database) needing a token at once
    make one fetch; a token WeChat refuses is refreshed once and the call retried once."""
    fake.expire_token("mp")
    database = Database(postgres_url)
    from bot.records.migrate import upgrade

    upgrade(database)
    with database.transaction() as conn:
        conn.execute(sa.text("DELETE FROM wechat_tokens"))
    fake.token_delay = 0.5
    before = fake.count("/cgi-bin/stable_token")

    def replica() -> str:
        async def run() -> str:
            api = WechatApi(Database(postgres_url), APPID, SECRET, fake.base_url)
            try:
                await api.send_text("o-shared", "你好")
                return await api.tokens.get()
            finally:
                await api.aclose()

        return asyncio.run(run())

    try:
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            tokens = list(pool.map(lambda _: replica(), range(2)))
    finally:
        fake.token_delay = 0.0
    assert fake.count("/cgi-bin/stable_token") == before + 1
    assert tokens[0] == tokens[1]
    # WeChat stops accepting it (another system forced a refresh): one refresh, one retry
    fake.expire_token("mp")
    sends = fake.count("/cgi-bin/message/custom/send")
    assert replica() != tokens[0]
    assert fake.count("/cgi-bin/stable_token") == before + 2
    assert fake.count("/cgi-bin/message/custom/send") == sends + 2  # refused, then retried
    database.close()


# --- WeCom ------------------------------------------------------------------------------------------
def _wecom_params(encrypted: str) -> dict[str, str]:
    ts, nonce = str(int(time.time())), secrets.token_hex(4)
    return {
        "timestamp": ts,
        "nonce": nonce,
        "msg_signature": sha1_signature(WECOM_TOKEN, ts, nonce, encrypted),
    }


def test_wecom_verifies_and_answers_through_message_send(
    client: TestClient, fake: FakeWechat
) -> None:
    crypto = MessageCrypto(WECOM_TOKEN, WECOM_AES, CORPID)
    echostr = crypto.encrypt("8837481963546")
    res = client.get("/api/wecom", params={**_wecom_params(echostr), "echostr": echostr})
    assert res.status_code == 200 and res.text == "8837481963546"
    bad = {**_wecom_params(echostr), "echostr": echostr, "msg_signature": "0" * 40}
    assert client.get("/api/wecom", params=bad).status_code == 403
    inner = _text(QUESTION, msg_id=7001, user="zhangsan").replace(
        "</xml>", "<AgentID>1000002</AgentID></xml>"
    )
    encrypted = crypto.encrypt(inner)
    envelope = (
        f"<xml><ToUserName><![CDATA[{CORPID}]]></ToUserName><AgentID><![CDATA[1000002]]></AgentID>"
        f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    ).encode()
    before = len(fake.sent)
    started = time.monotonic()
    first = client.post("/api/wecom", params=_wecom_params(encrypted), content=envelope)
    assert first.status_code == 200 and first.text == ""
    assert time.monotonic() - started < 1.0  # answered at once
    again = client.post("/api/wecom", params=_wecom_params(encrypted), content=envelope)
    assert again.status_code == 200
    deadline = time.monotonic() + 10
    while len(fake.sent) == before and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)
    sent = fake.sent[before:]
    assert len(sent) == 1  # one answer for two deliveries of one MsgId
    assert sent[0]["touser"] == "zhangsan" and sent[0]["agentid"] == 1000002
    assert "1个工作日" in sent[0]["text"]["content"]


def test_channels_off_without_their_settings(
    kb_copy: Path, fake: FakeWechat, llm: FakeOpenAI, embedder: Embedder
) -> None:
    for client in _client(kb_copy, fake, llm, embedder, wechat_appid="", wecom_corpid=""):
        assert client.post("/api/wechat/login", json={"code": "x-1"}).status_code == 404
        assert client.get("/api/wechat/mp").status_code == 404
        assert client.get("/api/wecom").status_code == 404
    # an AppID without a Token: the callback is off (an empty token would let anyone sign)
    for client in _client(kb_copy, fake, llm, embedder, wechat_token=""):
        ts, nonce = str(int(time.time())), "n1"
        forged = {"timestamp": ts, "nonce": nonce, "signature": sha1_signature("", ts, nonce)}
        assert client.get("/api/wechat/mp", params={**forged, "echostr": "x"}).status_code == 404
        assert (
            client.post("/api/wechat/mp", params=forged, content=_text(QUESTION)).status_code == 404
        )
