"""The 办事指南与政策 tab of /admin in real headless Chromium: parsed guide fields (a heading
typo shows as a missing field), terms read from the text to confirm, policies expiring within
30 days, and the conditions editor (a bad block is refused with the reason).

Screenshot: tests/artifacts/admin-policies.png (copied to docs/).
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from bot.assistant import Assistant
from bot.config import Settings
from bot.embedding import Embedder
from bot.index import KnowledgeIndex
from ingest.pipeline import Ingestor
from tests.test_admin_pages import ARTIFACTS, DOCS, _log_in
from tests.test_widget import LiveServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
ADMIN, PASSWORD = "root", "root-pass-2026"
SOON = dt.date.today() + dt.timedelta(days=10)

DOCS_WRITTEN = {
    "guide.md": """---
id: sign-permit
kind: service
title: 户外招牌设置审批办事指南
department: 区城管执法局
sample: true
---
# 户外招牌设置审批办事指南
## 申清材料
1. 申请表
2. 招牌效果图
## 办理流程
1. 提交申请
2. 现场踏勘
3. 作出决定
## 办理时限
5个工作日。
## 网上办理
https://zwfw.example.gov.cn/sign-permit
""",
    "award.md": f"""---
id: growth-award
kind: policy
title: 江岸区小微企业成长奖励办法
department: 区科技和经信局
valid_from: 2026-01-01
valid_until: {SOON.isoformat()}
benefit: 一次性奖励10万元
eligibility:
  - registered_in: 江岸区
  - employees: {{min: 10}}
sample: true
---
# 江岸区小微企业成长奖励办法
## 奖励标准
一次性奖励10万元。
""",
    "rent.md": """---
id: rent-subsidy
kind: policy
title: 江岸区科创企业房租补贴办法
department: 区科技和经信局
benefit: 房租补贴最高30万元
sample: true
---
# 江岸区科创企业房租补贴办法
## 补贴标准
房租补贴最高30万元。
## 附则
本办法自2026年1月1日起施行，有效期3年。
""",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("admin-policies")
    (root / "kb").mkdir()
    for name, text in DOCS_WRITTEN.items():
        (root / "kb" / name).write_text(text, encoding="utf-8")
    settings = Settings(data_dir=root / "data", admin_user=ADMIN, admin_password=PASSWORD)
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
    page.on(
        "console",
        lambda m: "Content Security Policy" in m.text and page.errors.append(m.text),  # type: ignore[attr-defined]
    )
    page.on("dialog", lambda d: d.accept())
    yield page
    context.close()


def test_guides_terms_expiring_and_the_conditions_editor(page: Page, server: LiveServer) -> None:
    _log_in(page, server.url, ADMIN, PASSWORD)
    page.get_by_role("tab", name="办事指南与政策").click()
    # the guide: parsed fields with their headings; the typo'd 申清材料 is a missing field
    guide = page.locator("#service-table tr[data-service='sign-permit']")
    expect(guide).to_contain_text("办理流程")
    assert "现场踏勘" in guide.locator("dl.fields").inner_text()
    assert "申请材料" in guide.locator(".missing").inner_text()
    assert "申清材料" in guide.locator(".other-headings").inner_text()
    assert guide.locator("a").get_attribute("href") == "https://zwfw.example.gov.cn/sign-permit"
    # expiring within 30 days
    soon = page.locator("#expiring-table tr[data-expiring='growth-award']")
    expect(soon).to_contain_text(SOON.isoformat())
    expect(soon).to_contain_text("10 天")
    # the term read from the text, to confirm
    term = page.locator("#validity-table tr[data-validity='rent-subsidy']")
    expect(term).to_contain_text("有效期3年")
    expect(term).to_contain_text("2026-01-01 至 2028-12-31")
    expect(term).to_contain_text("待确认")
    term.get_by_role("button", name="确认").click()
    expect(page.locator("#validity-table tr[data-validity='rent-subsidy']")).to_contain_text(
        "已确认"
    )
    # the policy without conditions is named as such
    rent = page.locator("#policy-table tr[data-policy='rent-subsidy']")
    expect(rent).to_contain_text("没有申请条件")
    expect(page.locator("#policies-note")).to_contain_text("1 项没有申请条件")
    # edit conditions: a bad block is refused with the reason, a good one is kept
    award = page.locator("#policy-table tr[data-policy='growth-award']")
    expect(award).to_contain_text("注册地在江岸区")
    award.get_by_role("button", name="编辑条件").click()
    editor = page.locator("tr[data-conditions-of='growth-award']")
    area = editor.locator("textarea")
    assert "- registered_in: 江岸区" in area.input_value()
    area.fill("- registered_in: 江岸区\n- employees: {min: many}")
    editor.get_by_role("button", name="保存条件").click()
    expect(editor.locator(".error")).to_contain_text("employees")
    area.fill("- registered_in: 江岸区\n- employees: {min: 20}\n- rd_ratio: {min: 0.03}")
    editor.get_by_role("button", name="保存条件").click()
    expect(editor).to_have_count(0)
    award = page.locator("#policy-table tr[data-policy='growth-award']")
    expect(award).to_contain_text("20")
    expect(award).to_contain_text("已人工修改")
    page.screenshot(path=str(ARTIFACTS / "admin-policies.png"), full_page=True)
    shutil.copyfile(ARTIFACTS / "admin-policies.png", DOCS / "admin-policies.png")
    award.get_by_role("button", name="恢复文件中的条件").click()
    expect(page.locator("#policy-table tr[data-policy='growth-award']")).not_to_contain_text(
        "已人工修改"
    )
    assert page.errors == []  # type: ignore[attr-defined]
