"""The 敏感词 section of /admin end to end: real uvicorn, real headless Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import httpx
import pytest

from bot.assistant import Assistant
from bot.config import Settings
from bot.embedding import Embedder
from bot.records import Database
from bot.safety import default_words
from bot.staff import StaffStore
from tests.test_admin_pages import ARTIFACTS, _log_in
from tests.test_admin_pages import page as page  # the pages' browser tab (errors, dialogs kept)
from tests.test_widget import LiveServer

if TYPE_CHECKING:
    from playwright.sync_api import Page

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
ADMIN, ADMIN_PASSWORD = "root", "root-pass-2026"
EDITOR, EDITOR_PASSWORD = "zhang.wei", "editor-pass-2026"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[LiveServer]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("safety-page") / "data",
        admin_user=ADMIN,
        admin_password=ADMIN_PASSWORD,
    )
    bot = Assistant(settings, embedder=embedder)
    StaffStore(Database.from_settings(settings)).create(EDITOR, EDITOR_PASSWORD, "editor")
    with LiveServer(settings, bot) as live:
        yield live
    bot.close()


def test_admins_edit_the_list_on_the_page(server: LiveServer, page: Page) -> None:
    _log_in(page, server.url, ADMIN, ADMIN_PASSWORD)
    page.locator(".tabs [data-view=safety]").click()
    words = page.locator("#safety-form textarea[name=words]")
    expect(page.locator("#safety-meta")).to_contain_text("默认清单")
    assert words.input_value().splitlines() == default_words()
    expect(page.locator("#safety-defaults")).to_be_disabled()

    words.fill("# 本区活动\n斗地主\n 赌球 \n\n!斗地主培训\n赌球")
    expect(page.locator("#safety-count")).to_have_text("共 3 个敏感词，1 个放行短语")
    page.locator("#safety-form button[type=submit]").click()
    expect(page.locator("#safety-meta")).to_contain_text("第 1 版")
    expect(page.locator("#safety-meta")).to_contain_text("由 root 于")
    assert words.input_value() == "斗地主\n赌球\n!斗地主培训"  # comments, blanks, repeats gone
    expect(page.locator("#notice")).to_contain_text("已保存")

    with httpx.Client(base_url=server.url, timeout=60) as client:
        asked = client.post("/api/chat", json={"question": "周末哪里有斗 地 主比赛？"}).json()
    assert asked["mode"] == "blocked" and "斗地主" not in asked["answer"]

    words.fill("斗地主\n" + "长" * 51)
    page.locator("#safety-form button[type=submit]").click()
    expect(page.locator("#safety-error")).to_contain_text("第 2 个词超过 50 个字符")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "admin-safety.png"), full_page=True)

    page.locator("#safety-reload").click()  # drop the bad edit
    expect(words).to_have_value("斗地主\n赌球\n!斗地主培训")

    # the refused question is listed for staff, with the word that matched
    page.locator(".tabs [data-view=insight]").click()
    row = page.locator("#blocked-table tbody tr").first
    expect(row).to_contain_text("周末哪里有斗 地 主比赛？")
    expect(row).to_contain_text("问题含敏感词：斗地主")
    page.locator("#blocked-table").screenshot(path=str(ARTIFACTS / "admin-safety-insight.png"))

    page.locator(".tabs [data-view=audit]").click()
    expect(page.locator("#audit-table tbody tr").first).to_contain_text("修改敏感词")

    page.locator(".tabs [data-view=safety]").click()
    page.locator("#safety-defaults").click()  # confirm() accepted
    expect(page.locator("#safety-meta")).to_contain_text("默认清单")
    assert words.input_value().splitlines() == default_words()
    assert page.errors == []  # type: ignore[attr-defined]


def test_editors_do_not_see_the_list(server: LiveServer, page: Page) -> None:
    _log_in(page, server.url, EDITOR, EDITOR_PASSWORD)
    expect(page.locator(".tabs [data-view=safety]")).to_be_hidden()
    page.goto(server.url + "/admin#safety")
    expect(page.locator("#view-documents")).to_be_visible()
    expect(page.locator("#view-safety")).to_be_hidden()
