"""A government document's 文号 where people see it: the widget's source card and the staff
document list (real uvicorn, real headless Chromium). Screenshots go to tests/artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from bot.assistant import Assistant
from bot.config import Settings
from bot.embedding import Embedder
from bot.index import KnowledgeIndex
from ingest.pipeline import Ingestor
from tests.test_govdoc import TOPICS
from tests.test_widget import LiveServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

sync_api = pytest.importorskip("playwright.sync_api")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
ADMIN, ADMIN_PASSWORD = "root", "root-pass-2026"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("govdoc-pages")
    folder = root / "kb"
    folder.mkdir()
    for n, (topic, measure) in TOPICS.items():
        (folder / f"notice-{n}.txt").write_text(
            f"江岸区人民政府文件\n岸政发［2026］{n}号\n江岸区人民政府关于印发{topic}若干措施的通知\n"
            f"各街道办事处，区人民政府各部门：\n一、{measure}\n江岸区人民政府\n"
            f"二〇二六年{'一二三四'[n - 1]}月十日\n",
            "utf-8",
        )
    settings = Settings(data_dir=root / "data", admin_user=ADMIN, admin_password=ADMIN_PASSWORD)
    index = KnowledgeIndex.open(settings, embedder)
    assert Ingestor(index, progress=False).run([folder]).ok
    index.close()
    bot = Assistant(settings, embedder=embedder)
    with LiveServer(settings, bot) as live:
        yield live
    bot.close()


@pytest.fixture()
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    page = context.new_page()
    page.errors = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda err: page.errors.append(str(err)))  # type: ignore[attr-defined]
    yield page
    context.close()


def test_the_chat_api_and_the_source_card_show_the_doc_number(
    page: Page, server: LiveServer
) -> None:
    question = "岸政发(2026)3号的主要内容是什么？"
    reply = httpx.post(server.url + "/api/chat", json={"question": question}, timeout=60).json()
    assert reply["answered"] and reply["sources"][0]["doc_id"] == "notice-3"
    first = reply["sources"][0]
    assert (first["doc_number"], first["issuer"], first["issued"]) == (
        "岸政发〔2026〕3号",
        "江岸区人民政府",
        "2026-03-10",
    )
    assert {"doc_id", "title", "section", "snippet", "url", "score"} <= set(first)

    page.goto(server.url + "/chat")
    page.locator("textarea").fill(question)
    page.keyboard.press("Enter")
    page.locator("button[aria-label='有帮助']").first.wait_for(timeout=30_000)
    page.locator(".msg.bot").nth(1).locator("button.cite").first.click()
    card = page.locator("section.source")
    assert "文号：岸政发〔2026〕3号 · 江岸区人民政府 · 2026-03-10 印发" in card.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "widget-doc-number.png"))
    assert page.errors == []  # type: ignore[attr-defined]


def test_the_staff_document_list_shows_and_finds_the_doc_number(
    page: Page, server: LiveServer
) -> None:
    page.goto(server.url + "/admin")
    page.locator("#login-form input[name=username]").fill(ADMIN)
    page.locator("#login-form input[name=password]").fill(ADMIN_PASSWORD)
    page.locator("#login-form button[type=submit]").click()
    page.locator("#app").wait_for()
    page.locator("button[data-view=documents]").click()
    row = page.locator("#doc-table tr[data-doc-id='notice-2']")
    row.wait_for()
    assert "文号 岸政发〔2026〕2号 · 江岸区人民政府 · 成文 2026-02-10" in row.inner_text()
    assert "江岸区人民政府关于印发促进科技创新若干措施的通知" in row.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "admin-doc-number.png"))
    with httpx.Client(base_url=server.url, timeout=60) as api:
        token = api.post(
            "/api/admin/login", json={"username": ADMIN, "password": ADMIN_PASSWORD}
        ).json()["token"]
        found = api.get(
            "/api/admin/documents",
            params={"q": "岸政发〔2026〕4号", "limit": 20},
            headers={"Authorization": "Bearer " + token},
        ).json()
    assert [d["doc_id"] for d in found["documents"]] == ["notice-4"]
    assert page.errors == []  # type: ignore[attr-defined]
