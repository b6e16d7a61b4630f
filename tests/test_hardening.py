"""What a probe found (issue #13, point 7), each checked where it used to fail."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.models import Source, web_url
from ingest.parsers import parse_markdown


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(document.cookie)",
        " JavaScript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox",
        "//evil.example/x",
        "https://ok.example/a b",
    ],
)
def test_only_web_urls_leave_a_document(tmp_path: Path, url: str) -> None:
    doc = tmp_path / "a.md"
    doc.write_text(
        f"---\nid: a\ntitle: 标题\nurl: '{url}'\n---\n# 标题\n正文。\n", encoding="utf-8"
    )
    assert parse_markdown(doc, tmp_path)[0].url == ""
    source = Source(doc_id="a", title="标题", section="", snippet="", url=url, score=1.0)
    assert source.public()["url"] == ""


def test_web_urls_are_kept() -> None:
    assert web_url(" https://zwfw.example.gov.cn/a?b=1 ") == "https://zwfw.example.gov.cn/a?b=1"
    assert web_url("http://127.0.0.1:8000/x") == "http://127.0.0.1:8000/x"


@pytest.mark.parametrize(
    "question", ["\u200b\u200b", "\ufeff \u200d", "\u202e\u2066\u2069", "\x00\x07", "\u00ad\u2060"]
)
def test_a_question_of_invisible_characters_is_empty(question: str, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from bot.config import Settings
    from web.app import create_app

    with TestClient(create_app(Settings(data_dir=tmp_path / "data"))) as client:
        res = client.post("/api/chat", json={"question": question})
        assert res.status_code == 422 and "问题不能为空" in res.json()["error"]["message_zh"]


def test_invisible_characters_are_dropped_from_a_question() -> None:
    from web.schemas import ChatRequest

    spoofed = ChatRequest(question="人才\u200b公寓\u202e怎么申请\ufeff")
    assert spoofed.question == "人才公寓怎么申请"


def test_redirects_are_relative_and_json_is_not_sniffed(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from bot.config import Settings
    from web.app import create_app

    app = create_app(Settings(data_dir=tmp_path / "data"))
    with TestClient(app, base_url="http://evil.example") as client:
        for path in ("/admin/", "/chat/"):
            res = client.get(path, headers={"Host": "evil.example"}, follow_redirects=False)
            assert res.status_code in (307, 308), path
            assert res.headers["location"] == path.rstrip("/")  # not http://evil.example/…
        for res in (
            client.get("/healthz"),
            client.post("/api/chat", json={"question": ""}),
            client.get("/api/nowhere"),
        ):
            assert res.headers["x-content-type-options"] == "nosniff"


def test_an_anonymous_upload_is_refused_before_its_body_is_read(
    tmp_path: Path, embedder: object
) -> None:
    """Headers announcing 150 MB, then nothing: the 401 comes at once (it used to wait for,
    read and spool the whole body first)."""
    import socket

    from bot.assistant import Assistant
    from bot.config import Settings
    from tests.test_widget import LiveServer

    settings = Settings(data_dir=tmp_path / "data", upload_max_mb=20)
    bot = Assistant(settings, embedder=embedder)  # type: ignore[arg-type]
    with LiveServer(settings, bot) as live, socket.create_connection(("127.0.0.1", live.port)) as s:
        s.settimeout(5)
        s.sendall(
            b"POST /api/admin/documents HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: multipart/form-data; boundary=x\r\n"
            + f"Content-Length: {150 * 1024 * 1024}\r\n\r\n".encode()
            + b"--x\r\n"
        )
        reply = s.recv(4096).decode("utf-8", "replace")
    bot.close()
    assert reply.startswith("HTTP/1.1 401") and "unauthorized" in reply


def test_cookie_signed_changes_must_come_from_the_own_pages(tmp_path: Path) -> None:
    """SameSite=Strict still sends the cookie from a sibling origin of the same site."""
    from fastapi.testclient import TestClient

    from bot.config import Settings
    from web.app import create_app

    settings = Settings(data_dir=tmp_path / "data", admin_user="root", admin_password="pw-2026-x")
    with TestClient(create_app(settings)) as client:
        token = client.post(
            "/api/admin/login", json={"username": "root", "password": "pw-2026-x"}
        ).json()["token"]
        client.cookies.set("jiangan_admin", token)
        entry = {"question": "测试问题", "answer": "测试回答。"}
        own = "http://testserver"
        for headers in (
            {"Origin": "https://news.jiangan.example"},  # a sibling site's page
            {"Sec-Fetch-Site": "same-site", "Origin": own},  # the browser says where it came from
            {"Referer": "https://news.jiangan.example/a"},
            {},  # a cookie with nothing to say where the request came from
        ):
            res = client.post("/api/admin/faq", json=entry, headers=headers)
            assert res.status_code == 403, headers
            assert "请求来源不符" in res.json()["error"]["message_zh"]
        assert client.get("/api/admin/faq").status_code == 200  # reading is not a change
        ok = client.post("/api/admin/faq", json=entry, headers={"Sec-Fetch-Site": "same-origin"})
        assert ok.status_code in (200, 201)
        client.cookies.clear()
        # a bearer token is not ambient: no origin check
        bearer = client.post(
            "/api/admin/faq",
            json={**entry, "question": "另一个问题"},
            headers={"Authorization": f"Bearer {token}", "Origin": "https://other.example"},
        )
        assert bearer.status_code in (200, 201)


def _serve(settings: object) -> tuple[object, object, str]:
    import socket
    import threading
    import time

    import uvicorn

    from web.__main__ import server_config

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(server_config(settings, "127.0.0.1", port, log_level="error"))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return server, thread, f"http://127.0.0.1:{port}"


@pytest.mark.parametrize("trusted", ["", "127.0.0.1"])
def test_forwarded_for_is_believed_only_from_trusted_proxies(tmp_path: Path, trusted: str) -> None:
    import httpx

    from bot.config import Settings

    settings = Settings(
        data_dir=tmp_path / "data",
        admin_user="root",
        admin_password="right-pass-2026",
        trusted_proxies=trusted,
    )
    server, thread, url = _serve(settings)
    try:
        codes = [
            httpx.post(
                url + "/api/admin/login",
                json={"username": "root", "password": f"wrong-{n}"},
                headers={"X-Forwarded-For": f"203.0.113.{n}"},  # a new address every time
            ).status_code
            for n in range(6)
        ]
    finally:
        server.should_exit = True  # type: ignore[attr-defined]
        thread.join(timeout=10)  # type: ignore[attr-defined]
    if trusted:  # behind a configured proxy each address is its own client
        assert codes == [401] * 6
    else:  # forged headers change nothing: the sixth guess from this peer is refused
        assert codes[:5] == [401] * 5 and codes[5] == 429


def test_a_long_question_costs_a_bounded_embedding(assistant: object, monkeypatch: object) -> None:
    """The embedder's cost grows with the text (a 1,000-character question took 2–3 s of
    CPU): a question is embedded by its first 100 characters, for passages and FAQ alike."""
    import random

    from bot.assistant import Assistant

    assert isinstance(assistant, Assistant)
    embedder = assistant.index.embedder
    seen: list[int] = []
    original = embedder.embed_question

    def recording(text: str) -> object:
        seen.append(len(text))
        return original(text)

    monkeypatch.setattr(embedder, "embed_question", recording)  # type: ignore[attr-defined]
    random.seed(7)
    question = "".join(chr(random.randint(0x4E00, 0x9FA5)) for _ in range(1000))
    answer = assistant.ask(question)
    assert seen and max(seen) <= 100 and not answer.answered
    seen.clear()
    assert assistant.ask("人才公寓怎么申请？").answered and seen and max(seen) <= 20
