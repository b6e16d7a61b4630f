"""The widget's service card, expired badge and 政策匹配 form, in real headless Chromium.

The documents are written here (a guide, a current policy with eligibility, an expired one);
screenshots go to tests/artifacts/ (the README's copies live in docs/).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from bot.assistant import Assistant
from bot.config import Settings
from bot.embedding import Embedder
from bot.index import KnowledgeIndex
from ingest.pipeline import Ingestor
from tests.test_widget import ARTIFACTS, LiveServer, _wait_done

MATERIALS = [
    "设立登记申请书",
    "公司章程",
    "法定代表人身份证明",
    "股东主体资格证明",
    "住所使用证明",
    "董事、监事、经理任职文件",
]

GUIDE = """---
id: test-dog-grooming
kind: service
title: 宠物美容店开业备案办事指南
category: 审批服务
department: 区农业农村局
updated: 2026-10-01
contact: 027-8000-1234
sample: true
---
# 宠物美容店开业备案办事指南
## 办理对象
在本区开办宠物美容店的企业和个体工商户。
## 申请材料
{materials}
## 办理流程
1. 网上或窗口提交材料
2. 窗口受理并核对
3. 现场查看
4. 发放备案回执
## 承诺时限
3个工作日。
## 收费标准
不收费。
## 办理地点
江岸区政务服务中心二楼12号窗口。
## 办公时间
工作日上午9:00-12:00，下午13:30-17:30。
## 网上办理
登录 https://zwfw.example.gov.cn/pet-grooming 在线提交。
""".format(materials="\n".join(f"{i}. {m}" for i, m in enumerate(MATERIALS, 1)))

TODAY = dt.date.today()

POLICY = f"""---
id: test-pet-economy-award
kind: policy
title: 江岸区宠物经济企业成长奖励办法
category: 商贸物流
department: 区商务局
updated: 2026-10-01
contact: 027-8000-5678
sample: true
valid_from: 2026-01-01
valid_until: {TODAY.year + 1}-12-31
benefit: 一次性奖励最高20万元
eligibility:
  - registered_in: 江岸区
  - employees: {{min: 10}}
  - revenue_wan: {{min: 500}}
  - qualifications: {{any: [科技型中小企业, 高新技术企业]}}
---
# 江岸区宠物经济企业成长奖励办法
## 支持对象
在江岸区注册、员工10人以上、年营业收入500万元以上的宠物经济科技型企业。
## 奖励标准
一次性奖励最高20万元。
"""

OLD_POLICY = """---
id: test-pet-rent-2023
kind: policy
title: 江岸区宠物门店房租补贴办法（2023年版）
category: 商贸物流
department: 区商务局
updated: 2023-03-01
contact: 027-8000-5678
sample: true
valid_from: 2023-01-01
valid_until: 2025-06-30
benefit: 房租补贴每年最高5万元
---
# 江岸区宠物门店房租补贴办法（2023年版）
## 补贴标准
宠物门店房租补贴每年最高5万元，连续补贴两年。
"""


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("widget-services")
    kb = root / "kb"
    kb.mkdir()
    for name, text in (("guide.md", GUIDE), ("policy.md", POLICY), ("old.md", OLD_POLICY)):
        (kb / name).write_text(text, encoding="utf-8")
    settings = Settings(data_dir=root / "data")
    index = KnowledgeIndex.open(settings, embedder)
    report = Ingestor(index, progress=False).run([kb])
    index.close()
    assert report.ok, report.failed
    bot = Assistant(settings, embedder=embedder)
    with LiveServer(settings, bot) as server:
        yield server
    bot.close()


@pytest.fixture()
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")  # type: ignore[attr-defined]
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda err: page.errors.append(str(err)))
    yield page
    context.close()


def test_a_service_answer_is_a_card_with_labelled_rows_and_the_online_link(
    page: object, live: LiveServer
) -> None:
    page.goto(live.url + "/chat")  # type: ignore[attr-defined]
    page.locator("textarea").fill("开宠物美容店备案要带啥材料？")  # type: ignore[attr-defined]
    page.keyboard.press("Enter")  # type: ignore[attr-defined]
    _wait_done(page)
    card = page.locator(".msg.bot").nth(1).locator(".card.service")  # type: ignore[attr-defined]
    assert card.count() == 1
    assert card.locator(".card-title").inner_text() == "宠物美容店开业备案办事指南"
    asked = card.locator(".row.asked")
    assert asked.count() == 1 and asked.locator(".label").inner_text() == "申请材料"
    items = asked.locator("li")
    assert [items.nth(i).inner_text() for i in range(items.count())] == MATERIALS  # whole
    # the other fields are one click away, as labelled rows
    more = card.locator("details")
    assert "另有" in more.locator("summary").inner_text()
    more.locator("summary").click()
    labels = more.locator(".row .label").all_inner_texts()
    assert {"办理流程", "办理时限", "收费标准", "办理地点", "办理时间"} <= set(labels)
    link = card.locator("a.online")
    assert link.get_attribute("href") == "https://zwfw.example.gov.cn/pet-grooming"
    assert "027-8000-1234" in card.locator(".card-foot").inner_text()
    # the title opens the cited source
    card.locator(".card-title").click()
    assert page.locator("section.source h3").inner_text().startswith("宠物美容店开业备案办事指南")  # type: ignore[attr-defined]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "widget-service-card.png"))  # type: ignore[attr-defined]
    # a reload keeps the card
    page.reload()  # type: ignore[attr-defined]
    assert page.locator(".msg.bot").nth(1).locator(".card.service .row.asked li").count() == 6  # type: ignore[attr-defined]
    assert page.errors == []  # type: ignore[attr-defined]


def test_an_expired_policy_is_said_expired_and_its_source_card_shows_it(
    page: object, live: LiveServer
) -> None:
    page.goto(live.url + "/chat")  # type: ignore[attr-defined]
    page.locator("textarea").fill("宠物门店房租补贴现在还能申请吗？")  # type: ignore[attr-defined]
    page.keyboard.press("Enter")  # type: ignore[attr-defined]
    _wait_done(page)
    answer = page.locator(".msg.bot").nth(1)  # type: ignore[attr-defined]
    text = answer.inner_text()
    assert "已失效" in text and "2025年6月30日" in text
    answer.locator("button.cite").first.click()
    source = page.locator("section.source")  # type: ignore[attr-defined]
    assert source.locator(".badge.expired").inner_text() == "已失效"
    assert "2025-06-30" in source.inner_text()
    page.screenshot(path=str(ARTIFACTS / "widget-expired.png"))  # type: ignore[attr-defined]


def test_the_match_form_calls_the_api_and_shows_the_statuses(
    page: object, live: LiveServer
) -> None:
    page.goto(live.url + "/chat")  # type: ignore[attr-defined]
    page.locator("button.tool", has_text="政策匹配").click()  # type: ignore[attr-defined]
    form = page.locator("form.mform")  # type: ignore[attr-defined]
    assert form.locator("input[name=registered_in]").input_value() == "江岸区"
    page.screenshot(path=str(ARTIFACTS / "widget-policy-form.png"))  # type: ignore[attr-defined]
    # a negative count is refused in the page: no request, nothing shown
    form.locator("input[name=employees]").fill("-3")
    form.locator("button.go").click()
    assert page.locator(".results").count() == 0  # type: ignore[attr-defined]
    # a partial profile: the award is possible, what is missing is listed to check
    form.locator("input[name=employees]").fill("25")
    form.locator("button.go").click()
    first = page.locator(".results").first  # type: ignore[attr-defined]
    first.wait_for(timeout=15_000)
    policy = first.locator(".policy.possible")
    assert policy.locator("h4").inner_text() == "江岸区宠物经济企业成长奖励办法"
    assert "一次性奖励最高20万元" in policy.inner_text()
    assert policy.locator("ul.met li").count() == 2  # district and staff
    assert policy.locator("ul.unknown li").count() == 2  # revenue and qualification
    # the expired policy is never offered
    assert "2023年版" not in page.locator(".log").inner_text()  # type: ignore[attr-defined]
    # the rest filled in: eligible
    form.locator("input[name=revenue_wan]").fill("800")
    form.locator("label", has_text="科技型中小企业").locator("input").check()
    form.locator("button.go").click()
    page.locator(".results").nth(1).wait_for(timeout=15_000)  # type: ignore[attr-defined]
    second = page.locator(".results").nth(1)  # type: ignore[attr-defined]
    assert second.locator(".policy.eligible").count() == 1
    assert "符合条件（1）" in second.inner_text()
    # too few staff: ineligible, folded under 暂不符合 with the unmet condition
    form.locator("input[name=employees]").fill("5")
    form.locator("button.go").click()
    page.locator(".results").nth(2).wait_for(timeout=15_000)  # type: ignore[attr-defined]
    third = page.locator(".results").nth(2)  # type: ignore[attr-defined]
    third.locator("summary").click()
    assert third.locator(".policy.ineligible ul.unmet li").count() == 1
    page.locator(".results").nth(1).scroll_into_view_if_needed()  # type: ignore[attr-defined]
    page.screenshot(path=str(ARTIFACTS / "widget-policy-match.png"))  # type: ignore[attr-defined]
    assert page.errors == []  # type: ignore[attr-defined]
