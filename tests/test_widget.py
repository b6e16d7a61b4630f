"""The embeddable widget end to end in real headless Chromium (Debian `chromium` + Playwright).

`make test` installs Chromium first (scripts/install-browser.sh). Screenshots of the opened
widget are written to tests/artifacts/ (the README's copies live in docs/).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.assistant import Assistant
from bot.config import Settings
from bot.embedding import Embedder
from bot.index import KnowledgeIndex
from ingest.pipeline import Ingestor
from tests.conftest import CHROMIUM
from tests.fake_openai import running
from tests.fixtures_files import write_markdown
from web.app import create_app

sync_api = pytest.importorskip("playwright.sync_api")

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
LAUNCHER = "button[aria-label='打开江岸企服助手']"

if not Path(CHROMIUM).exists():
    pytest.fail(
        "Chromium is missing: run scripts/install-browser.sh (make test does it)",
        pytrace=False,
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """The real app on a real uvicorn, in a thread, on 127.0.0.1."""

    def __init__(self, settings: Settings, assistant: Assistant) -> None:
        import uvicorn

        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_app(settings, assistant), host="127.0.0.1", port=self.port, log_level="error"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def server(kb_settings: Settings, assistant: Assistant) -> Iterator[LiveServer]:
    with LiveServer(kb_settings, assistant) as live:
        yield live


@pytest.fixture()
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")  # type: ignore[attr-defined]
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda err: page.errors.append(str(err)))
    page.on(
        "dialog", lambda dialog: (page.errors.append("dialog:" + dialog.message), dialog.dismiss())
    )
    yield page
    context.close()


def _wait_done(page: object, count: int = 1) -> None:
    """Until `count` answers have finished (each finished answer shows its rating buttons)."""
    page.locator("button[aria-label='有帮助']").nth(count - 1).wait_for(timeout=30_000)  # type: ignore[attr-defined]


def test_demo_page_widget_answers_cites_rates_and_remembers(
    page: object, server: LiveServer, assistant: Assistant
) -> None:
    page.goto(server.url + "/")  # type: ignore[attr-defined]
    launcher = page.locator(LAUNCHER)  # type: ignore[attr-defined]
    launcher.click()
    panel = page.locator("section[role=dialog]")  # type: ignore[attr-defined]
    assert panel.is_visible() and "江岸企服助手" in panel.inner_text()
    assert "您好" in page.locator(".msg.bot").first.inner_text()  # type: ignore[attr-defined]
    # the host page's `button { background: lime !important }` does not reach the widget
    assert launcher.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(200, 16, 46)"

    page.locator("button.suggestion", has_text="企业开办要多久？").click()  # type: ignore[attr-defined]
    _wait_done(page)
    answer = page.locator(".msg.bot").nth(1)  # type: ignore[attr-defined]
    assert len(answer.locator(".text").inner_text()) > 20
    cite = answer.locator("button.cite").first
    cite.click()
    card = page.locator("section.source")  # type: ignore[attr-defined]
    assert card.is_visible()
    title = card.locator("h3").inner_text()
    assert title and title != "来源"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "widget-desktop.png"))  # type: ignore[attr-defined]

    before = len(assistant.feedback.recent())
    answer.locator("button[aria-label='有帮助']").click()
    answer.get_by_text("感谢反馈").wait_for()
    latest = assistant.feedback.recent(1)[0]
    assert len(assistant.feedback.recent()) == before + 1
    assert latest["rating"] == "up" and latest["question"] == "企业开办要多久？"

    # a reload keeps the conversation (and the session)
    page.reload()  # type: ignore[attr-defined]
    page.locator(LAUNCHER).click()  # type: ignore[attr-defined]
    assert page.locator(".msg.user").first.inner_text() == "企业开办要多久？"  # type: ignore[attr-defined]
    assert page.locator(".msg.bot").nth(1).locator("button.cite").count() >= 1  # type: ignore[attr-defined]
    assert page.errors == []  # type: ignore[attr-defined]


def test_keyboard_and_phone_screen(browser: object, server: LiveServer) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 667}, is_mobile=True)  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(server.url + "/")
    launcher = page.locator(LAUNCHER)
    launcher.focus()
    page.keyboard.press("Enter")
    active = "document.querySelector('#jiangan-assistant').shadowRoot.activeElement"
    assert page.evaluate(f"{active}.tagName") == "TEXTAREA"
    box = page.locator("section[role=dialog]").bounding_box()
    assert box is not None and box["width"] == 375 and box["height"] == 667
    page.keyboard.type("人才公寓怎么申请？")
    page.keyboard.press("Enter")
    _wait_done(page)
    page.screenshot(path=str(ARTIFACTS / "widget-phone.png"))
    page.keyboard.press("Escape")
    assert not page.locator("section[role=dialog]").is_visible()
    assert page.evaluate(f"{active}.getAttribute('aria-label')") == "打开江岸企服助手"
    context.close()


def test_network_errors_offer_a_retry(page: object, server: LiveServer) -> None:
    page.goto(server.url + "/")  # type: ignore[attr-defined]
    page.route("**/api/chat/stream", lambda route: route.fulfill(status=503, body="down"))  # type: ignore[attr-defined]
    page.locator(LAUNCHER).click()  # type: ignore[attr-defined]
    page.locator("textarea").fill("人才公寓怎么申请？")  # type: ignore[attr-defined]
    page.keyboard.press("Enter")  # type: ignore[attr-defined]
    retry = page.locator("button.retry")  # type: ignore[attr-defined]
    retry.wait_for()
    assert "网络开小差" in page.locator(".msg.bot").nth(1).inner_text()  # type: ignore[attr-defined]
    page.unroute("**/api/chat/stream")  # type: ignore[attr-defined]
    retry.click()
    _wait_done(page)
    assert page.locator(".msg.bot").nth(1).locator("button.cite").count() >= 1  # type: ignore[attr-defined]


def test_full_page_chat(page: object, server: LiveServer) -> None:
    page.goto(server.url + "/chat")  # type: ignore[attr-defined]
    assert page.locator(LAUNCHER).count() == 0  # type: ignore[attr-defined]
    page.locator("button.suggestion").first.click()  # type: ignore[attr-defined]
    _wait_done(page)
    assert page.locator(".msg.bot").nth(1).locator("button.cite").count() >= 1  # type: ignore[attr-defined]
    # not covered: said plainly, with whom to call instead, and no citation
    page.locator("textarea").fill("明天武汉会下雨吗？")  # type: ignore[attr-defined]
    page.keyboard.press("Enter")  # type: ignore[attr-defined]
    _wait_done(page, 2)
    refusal = page.locator(".msg.bot").nth(2)  # type: ignore[attr-defined]
    assert "12345" in refusal.locator(".contact").inner_text()
    assert refusal.locator("button.cite").count() == 0


def test_answers_appear_as_they_stream(
    browser: object, kb_settings: Settings, embedder: Embedder
) -> None:
    with running() as fake:
        fake.chunk_chars, fake.chunk_delay = 2, 0.15
        fake.reply = lambda r: "企业开办全程网上办理，材料齐全时一个工作日内办结[1]。"
        settings = kb_settings.model_copy(
            update={"llm_base_url": fake.base_url, "llm_model": "fake-chat"}
        )
        bot = Assistant(settings, embedder=embedder)
        with LiveServer(settings, bot) as live:
            context = browser.new_context()  # type: ignore[attr-defined]
            page = context.new_page()
            page.goto(live.url + "/chat")
            page.locator("textarea").fill("企业开办要多久？")
            page.keyboard.press("Enter")
            text = page.locator(".msg.bot").nth(1).locator(".text")
            seen = set()
            deadline = time.monotonic() + 30
            while page.locator("button[aria-label='有帮助']").count() == 0:
                assert time.monotonic() < deadline
                if text.count():
                    seen.add(text.inner_text())
                time.sleep(0.05)
            final = text.inner_text()
            assert final == "企业开办全程网上办理，材料齐全时一个工作日内办结[1]。"
            partial = [s for s in seen if s and s != final and final.startswith(s)]
            assert len(partial) >= 3, seen  # the text grew on screen before the answer was done
            context.close()
        bot.close()


def test_untrusted_text_never_runs(browser: object, tmp_path: Path, embedder: Embedder) -> None:
    evil = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
    write_markdown(
        tmp_path / "kb" / "evil.md",
        "evil-doc",
        f"人才公寓{evil}",
        f"## 申请\n人才公寓申请请登录江岸人才网{evil}，十个工作日内答复。",
    )
    settings = Settings(data_dir=tmp_path / "data")
    index = KnowledgeIndex.open(settings, embedder)
    assert Ingestor(index, progress=False).run([tmp_path / "kb"]).ok
    index.close()
    bot = Assistant(settings, embedder=embedder)
    with LiveServer(settings, bot) as live:
        context = browser.new_context()  # type: ignore[attr-defined]
        page = context.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(live.url + "/chat")
        page.locator("textarea").fill(f"人才公寓怎么申请{evil}")
        page.keyboard.press("Enter")
        _wait_done(page)
        page.locator("button.cite").first.click()
        assert "<img" in page.locator("section.source h3").inner_text()  # shown as text
        shadow = "document.querySelector('#jiangan-assistant').shadowRoot"
        assert page.evaluate(f"{shadow}.querySelectorAll('img, script').length") == 0
        assert page.evaluate("window.__xss") is None and dialogs == []
        assert "<img" in page.locator(".msg.user").first.inner_text()
        context.close()
    bot.close()


def test_cors_and_framing_are_limited_to_allowed_origins(
    kb_settings: Settings, assistant: Assistant
) -> None:
    settings = kb_settings.model_copy(update={"allowed_origins": "https://www.jiangan.gov.cn"})
    with TestClient(create_app(settings, assistant)) as client:

        def preflight(origin: str) -> str | None:
            res = client.options(
                "/api/chat/stream",
                headers={
                    "Origin": origin,
                    "Access-Control-Request-Method": "POST",
                    "Access-Control-Request-Headers": "content-type",
                },
            )
            return res.headers.get("access-control-allow-origin")

        assert preflight("https://www.jiangan.gov.cn") == "https://www.jiangan.gov.cn"
        assert preflight("http://localhost:5173") == "http://localhost:5173"
        assert preflight("https://evil.example") is None
        page = client.get("/chat")
        assert page.headers["content-security-policy"] == (
            "frame-ancestors 'self' https://www.jiangan.gov.cn"
        )
        script = client.get("/widget.js")
        assert script.headers["content-type"].startswith("text/javascript")
        assert "attachShadow" in script.text and "innerHTML" not in script.text


def test_answers_keep_their_structure_and_phone_numbers_dial(
    browser: object, server: LiveServer
) -> None:
    for width, height, mobile in ((1280, 900, False), (375, 740, True)):
        context = browser.new_context(  # type: ignore[attr-defined]
            viewport={"width": width, "height": height}, is_mobile=mobile, locale="zh-CN"
        )
        page = context.new_page()
        page.goto(server.url + "/chat")
        page.locator("textarea").fill("贷款贴息需要什么材料？")
        page.keyboard.press("Enter")
        _wait_done(page)
        answer = page.locator(".msg.bot").nth(1)
        # a materials list arrives as a list: one element per item, from the first item
        items = answer.locator("ul.list > li")
        assert items.count() == 6
        assert items.first.inner_text().startswith("《江岸区中小微企业贷款贴息申请表》")
        assert answer.locator(".text p.line").count() == 0  # nothing but the list
        page.locator("textarea").fill("贷款贴息的咨询电话是多少？")
        page.keyboard.press("Enter")
        _wait_done(page, 2)
        phone = page.locator(".msg.bot").nth(2)
        assert "027-5271-3801" in phone.inner_text()
        links = phone.locator("a.tel")
        if mobile:  # a tap dials
            assert links.first.get_attribute("href") == "tel:02752713801"
        else:
            assert links.count() == 0 and phone.locator("span.tel").count() >= 1
        # the source card: department, section, updated date and the 示例 badge
        answer.locator("button.cite").first.click()
        card = page.locator("section.source")
        assert "更新于 2026-" in card.inner_text() and card.locator(".badge").inner_text() == "示例"
        assert "区地方金融工作局" in card.inner_text()
        name = "widget-answer-phone.png" if mobile else "widget-answer-list.png"
        page.screenshot(path=str(ARTIFACTS / name))
        context.close()
