"""A scanned PDF uploaded on /admin in headless Chromium: the upload line follows the OCR
page by page (the server's /api/admin/documents/progress), the document is marked as read
by OCR, and its pages' confidence can be opened; the answer cites the page."""

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
from tests.fixtures_files import write_markdown
from tests.scans import page_image, scanned_pdf
from tests.test_ocr import PAGE_1, PAGE_2, TEXT_PAGE, TITLE
from tests.test_widget import LiveServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

sync_api = pytest.importorskip("playwright.sync_api")
pytest.importorskip("rapidocr_onnxruntime")
expect = sync_api.expect
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
ADMIN, ADMIN_PASSWORD = "root", "root-pass-2026"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("admin-ocr")
    write_markdown(
        root / "kb" / "startup.md", "startup", "企业开办指南", "## 时限\n一个工作日办结。"
    )
    settings = Settings(data_dir=root / "data", admin_user=ADMIN, admin_password=ADMIN_PASSWORD)
    index = KnowledgeIndex.open(settings, embedder)
    assert Ingestor(index, progress=False).run([root / "kb"]).ok
    index.close()
    bot = Assistant(settings, embedder=embedder)
    with LiveServer(settings, bot) as live:
        yield live
    bot.close()


@pytest.fixture()
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.errors = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda err: page.errors.append(str(err)))  # type: ignore[attr-defined]
    yield page
    context.close()


def test_a_scan_uploaded_on_the_admin_page_shows_ocr_progress_and_confidence(
    page: Page, server: LiveServer, tmp_path: Path
) -> None:
    scan = scanned_pdf(
        tmp_path / "安家补贴扫描件.pdf",
        [
            None,
            page_image(PAGE_1, title=TITLE, header="江岸区人民政府文件"),
            page_image(PAGE_2, seed=2),
        ],
        text_pages={0: TEXT_PAGE},
    )
    page.goto(server.url + "/admin")
    page.locator("#login-form input[name=username]").fill(ADMIN)
    page.locator("#login-form input[name=password]").fill(ADMIN_PASSWORD)
    page.locator("#login-form button[type=submit]").click()
    page.locator("#doc-table tbody tr[data-doc-id]").first.wait_for()

    page.locator("#upload-files").set_input_files(str(scan))
    page.locator("#upload-form button[type=submit]").click()
    item = page.locator("#uploads > li").first
    # between the two scanned pages the line says how far the OCR is
    expect(item.locator(".state")).to_contain_text("第 1 / 2 页", timeout=120_000)
    assert "正在识别扫描件 安家补贴扫描件.pdf" in item.locator(".state").inner_text()
    expect(item).to_have_attribute("data-state", "done", timeout=120_000)

    row = page.locator("#doc-table tr[data-doc-id='安家补贴扫描件']")
    ocr = row.locator("details.ocr")
    expect(ocr).to_contain_text("文字识别 OCR")
    expect(ocr).to_contain_text("2 页")
    ocr.locator("summary").click()
    pages = ocr.locator(".ocr-pages li")
    expect(pages).to_have_count(2)
    assert pages.nth(0).inner_text().startswith("第 2 页：")
    assert pages.nth(1).inner_text().startswith("第 3 页：")
    ARTIFACTS.mkdir(exist_ok=True)
    row.screenshot(path=str(ARTIFACTS / "admin-ocr-row.png"))
    assert page.errors == []  # type: ignore[attr-defined]

    # the progress is over; the answer cites the scan's page
    with httpx.Client(base_url=server.url, timeout=60) as client:
        token = client.post(
            "/api/admin/login", json={"username": ADMIN, "password": ADMIN_PASSWORD}
        ).json()["token"]
        now = client.get(
            "/api/admin/documents/progress", headers={"Authorization": "Bearer " + token}
        ).json()
        assert now == {"files_total": 0, "files_done": 0, "ocr": None}
        answer = client.post("/api/chat", json={"question": "博士的一次性安家补贴是多少？"}).json()
        assert "6万元" in answer["answer"]
        assert answer["sources"][0]["page"] == 2
