"""Service guides (kind: service): headings parsed to fields, a field answered whole, the API."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.config import Settings
from bot.embedding import Embedder
from bot.index import KnowledgeIndex
from bot.services import FIELDS, field_of_heading, parse_fields
from ingest.pipeline import Ingestor, IngestReport
from tests.conftest import staff_client

PASSWORD = "guide-pass-1"
MATERIALS = [
    "食品经营许可申请书",
    "营业执照复印件",
    "法定代表人身份证明",
    "与食品经营相适应的主要设备设施布局图",
    "操作流程说明",
    "食品安全管理制度文本",
    "食品安全管理人员健康证明",
    "经营场所使用证明（租赁合同或产权证明）",
    "从业人员食品安全培训记录",
    "餐饮服务场所平面图",
    "委托代理人身份证明及授权委托书",
    "承诺书",
]
FOOD = (
    """---
id: food-license
title: 食品经营许可办理指南
kind: service
category: 审批服务
department: 江岸区市场监督管理局
contact: 027-8276-0001
---
# 食品经营许可办理指南
## 适用对象
在江岸区从事食品销售和餐饮服务的企业和个体工商户。
## 受理条件
有与经营的食品品种、数量相适应的经营场所，并与有毒、有害场所保持规定的距离。
## 所需材料
"""
    + "\n".join(f"{n}. {m}" for n, m in enumerate(MATERIALS, 1))
    + """
## 办理流程
1. 网上或窗口提交申请
2. 窗口受理并审查材料
3. 现场核查经营场所
4. 作出许可决定并发放许可证
## 承诺时限
自受理之日起7个工作日内办结。
## 收费标准
不收费。
## 办理窗口
江岸区政务服务中心二楼市场监管窗口（沿江大道188号）。
## 办公时间
周一至周五上午9:00-12:00，下午13:30-17:30，法定节假日除外。
## 咨询电话
027-8276-0001
## 网上办理
登录湖北政务服务网 https://zwfw.hubei.gov.cn 搜索“食品经营许可”在线申报。
## 设定依据
《中华人民共和国食品安全法》第三十五条；《食品经营许可和备案管理办法》。
"""
)
# the same fields under other names, numbered the way official guides write them
BUILD = """---
id: construction-permit
title: 建筑工程施工许可证核发办事指南
kind: service
category: 审批服务
department: 江岸区住房和城市更新局
---
# 建筑工程施工许可证核发办事指南
## 一、服务对象
在江岸区行政区域内新建、改建、扩建房屋建筑工程的建设单位。
## 二、申请条件
已经办理建设工程规划许可证，施工场地已经基本具备施工条件。
## 三、申请材料
1. 建筑工程施工许可证申请表
2. 建设工程规划许可证
3. 施工合同
4. 建设资金已经落实的承诺书
## 四、办事流程
### 1. 申请
建设单位在线提交申请。
### 2. 审查
住房和城市更新局审查材料。
### 3. 发证
符合条件的核发施工许可证。
## 五、法定时限
法定15个工作日，承诺3个工作日办结。
## 六、是否收费
不收取任何费用。
## 七、受理地点
江岸区政务服务中心三楼工程建设项目审批专区18号窗口。
## 八、办理时间
工作日9:00-17:00，每周六上午9:00-12:00延时服务。
## 九、联系电话
027-8276-0302
## 十、在线办理
武汉市工程建设项目审批管理系统 https://gcxm.wuhan.gov.cn 在线申报。
## 十一、办理依据
《中华人民共和国建筑法》第七条；《建筑工程施工许可管理办法》。
"""
# kind: service, but no heading names a field
BARE = """---
id: bare-guide
title: 户外广告设置备案
kind: service
department: 江岸区城市管理执法局
---
# 户外广告设置备案
## 概述
户外广告设置须向城管部门备案，具体要求以窗口告知为准。
"""
NOTICE = """---
id: district-intro
title: 江岸区概况
category: 区情概况
---
# 江岸区概况
## 区位
江岸区位于武汉市长江北岸，是武汉的中心城区之一，辖16个街道。
"""


# --- headings → fields ---------------------------------------------------------------------
CONTRACT_HEADINGS = {  # DESIGN.md "Service guides"
    "audience": "办理对象 适用对象 服务对象",
    "conditions": "受理条件 申请条件 办理条件",
    "materials": "申请材料 所需材料 提交材料",
    "steps": "办理流程 办理程序 办事流程",
    "time_limit": "办理时限 承诺时限 法定时限",
    "fee": "收费标准 收费情况 是否收费",
    "location": "办理地点 办理窗口 受理地点",
    "hours": "办理时间 办公时间",
    "phone": "咨询电话 咨询方式 联系电话",
    "online": "网上办理 在线办理",
    "basis": "办理依据 设定依据",
}


@pytest.mark.parametrize(
    ("heading", "field"),
    [(h, f) for f, hs in CONTRACT_HEADINGS.items() for h in hs.split()]
    + [
        ("三、申请材料", "materials"),
        ("（三）办理时限", "time_limit"),
        ("3. 所需材料", "materials"),
        ("十一、设定依据", "basis"),
        ("申请材料清单", "materials"),
        ("办理时限（工作日）", "time_limit"),
        ("办公时间：", "hours"),
        ("概述", ""),
        ("政策解读", ""),
        ("常见问题", ""),
    ],
)
def test_heading_names_its_field(heading: str, field: str) -> None:
    assert field_of_heading(heading) == field


def test_parse_fields_numbered_headings_and_sub_headings() -> None:
    fields = parse_fields(BUILD.split("---\n", 2)[2])
    assert list(fields) == list(FIELDS)  # all eleven, in the table's order here
    assert fields["materials"].heading == "申请材料"  # its number dropped
    assert fields["materials"].text.splitlines() == [
        "1. 建筑工程施工许可证申请表",
        "2. 建设工程规划许可证",
        "3. 施工合同",
        "4. 建设资金已经落实的承诺书",
    ]
    # ### steps under ## 四、办事流程 stay inside the field
    steps = fields["steps"].text
    for part in ("建设单位在线提交申请", "审查材料", "核发施工许可证"):
        assert part in steps
    assert fields["time_limit"].text == "法定15个工作日，承诺3个工作日办结。"
    assert "延时服务" in fields["hours"].text  # the section after steps is its own field


def test_parse_fields_stops_at_the_next_heading_and_ignores_empty_ones() -> None:
    fields = parse_fields(
        "## 申请材料\n1. 申请表\n2. 身份证\n## 温馨提示\n请提前预约。\n"
        "## 收费标准\n\n## 办理时限\n即办件。\n## 申请材料\n重复的栏目不覆盖前一个。\n"
    )
    assert fields["materials"].text == "1. 申请表\n2. 身份证"  # not the tip, not the repeat
    assert "fee" not in fields  # a heading with nothing under it
    assert fields["time_limit"].text == "即办件。"


# --- the index, the chat and the API ------------------------------------------------------
@dataclass
class Served:
    client: TestClient
    report: IngestReport


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("guides")
    kb = tmp / "kb"
    kb.mkdir()
    for name, text in (
        ("food.md", FOOD),
        ("build.md", BUILD),
        ("bare.md", BARE),
        ("intro.md", NOTICE),
    ):
        (kb / name).write_text(text, encoding="utf-8")
    settings = Settings(data_dir=tmp / "data", admin_user="root", admin_password=PASSWORD)
    index = KnowledgeIndex.open(settings, embedder)
    report = Ingestor(index, progress=False).run([kb])
    index.close()
    for client in staff_client(settings, embedder, "root", PASSWORD):
        yield Served(client, report)


@pytest.fixture(scope="module")
def client(served: Served) -> TestClient:
    return served.client


def _ask(client: TestClient, question: str) -> dict[str, Any]:
    res = client.post("/api/chat", json={"question": question})
    assert res.status_code == 200, res.text
    return res.json()  # type: ignore[no-any-return]


def test_guide_without_fields_is_indexed_with_a_warning(served: Served) -> None:
    report = served.report
    assert report.ok and len(report.added) == 4
    assert [Path(w.path).name for w in report.warnings] == ["bare.md"]
    assert "kind: service" in report.warnings[0].reason
    assert "办事指南" in report.warnings[0].reason_zh


def test_twelve_materials_answered_whole(client: TestClient) -> None:
    answer = _ask(client, "食品经营许可要带啥材料？")
    assert answer["answered"] and answer["mode"] == "service"
    for item in MATERIALS:
        assert item in answer["answer"], item
    assert answer["answer"].index(MATERIALS[0]) < answer["answer"].index(MATERIALS[-1])
    source = answer["sources"][0]
    assert source["doc_id"] == "food-license" and source["section"] == "所需材料"
    assert answer["service"]["id"] == "food-license" and answer["service"]["asked"] == ["materials"]
    assert "matches" not in answer


QUESTIONS = {  # field → a colloquial question about it, {} the service's name
    "audience": "哪些{who}需要办{name}？",
    "conditions": "办{name}需要什么条件？",
    "materials": "{name}要带啥材料？",
    "steps": "{name}怎么办，流程是什么？",
    "time_limit": "{name}多久能办下来？",
    "fee": "{name}要钱吗？",
    "location": "{name}在哪儿办？",
    "hours": "{name}窗口几点上班？",
    "phone": "{name}咨询电话多少？",
    "online": "{name}网上能办吗？",
    "basis": "{name}依据什么规定？",
}
GUIDES = {  # doc id → (name in questions, who applies)
    "food-license": ("食品经营许可", "人"),
    "construction-permit": ("施工许可证", "单位"),
}


def test_a_guide_never_answers_for_another_place(client: TestClient) -> None:
    # the ordinary gate runs first: 上海's food licence is not this district's guide
    other = _ask(client, "上海浦东新区的食品经营许可要带啥材料？")
    assert not other["answered"] and other["mode"] != "service"


@pytest.mark.parametrize("doc_id", list(GUIDES))
@pytest.mark.parametrize("field", list(QUESTIONS))
def test_each_field_answered_from_a_colloquial_question(
    client: TestClient, doc_id: str, field: str
) -> None:
    name, who = GUIDES[doc_id]
    question = QUESTIONS[field].format(name=name, who=who)
    expected = client.get(f"/api/services/{doc_id}").json()["fields"][field]
    answer = _ask(client, question)
    assert answer["answered"] and answer["mode"] == "service", (question, answer["answer"])
    assert answer["sources"][0]["doc_id"] == doc_id
    assert answer["service"]["asked"] == [field]
    for line in expected.splitlines():  # the whole field, line by line
        assert line in answer["answer"], (question, line)


def test_services_api_lists_parsed_fields(client: TestClient) -> None:
    res = client.get("/api/services")
    assert res.status_code == 200
    services = {s["id"]: s for s in res.json()["services"]}
    assert set(services) == {"food-license", "construction-permit", "bare-guide"}
    food = services["food-license"]
    assert food["title"] == "食品经营许可办理指南" and food["department"] == "江岸区市场监督管理局"
    assert set(food["fields"]) == set(FIELDS)
    assert food["fields"]["materials"].count("\n") == 11  # twelve lines
    assert food["fields"]["fee"] == "不收费。"
    assert food["headings"]["location"] == "办理窗口"
    assert food["online_url"] == "https://zwfw.hubei.gov.cn"
    assert services["bare-guide"]["fields"] == {}
    one = client.get("/api/services/construction-permit")
    assert one.status_code == 200 and one.json() == services["construction-permit"]
    assert one.json()["headings"]["materials"] == "申请材料"
    assert one.json()["fields"]["phone"] == "027-8276-0302"


@pytest.mark.parametrize("doc_id", ["no-such-guide", "district-intro"])
def test_unknown_service_is_404(client: TestClient, doc_id: str) -> None:
    res = client.get(f"/api/services/{doc_id}")
    assert res.status_code == 404
    assert doc_id in res.json()["error"]["message"]


def test_admin_services_show_parsed_and_missing_fields(client: TestClient) -> None:
    res = client.get("/api/admin/services")
    assert res.status_code == 200, res.text
    data = res.json()
    assert data["labels"]["materials"] == "申请材料"
    services = {s["id"]: s for s in data["services"]}
    assert services["food-license"]["missing"] == []
    assert services["bare-guide"]["missing"] == list(FIELDS)
    assert services["construction-permit"]["headings"]["time_limit"] == "法定时限"
