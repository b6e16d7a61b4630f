"""Answers on documents written for this test: the asked subject must be in the evidence, the
asked aspect picks the section, lists arrive whole and as lines, follow-ups follow."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from bot.answering.extractive import AnswerPolicy
from bot.assistant import Assistant
from bot.config import Settings
from bot.embedding import Embedder
from bot.index import KnowledgeIndex
from ingest.pipeline import Ingestor
from web.app import create_app

MATERIALS = [
    "《江滩区餐饮经营许可申请表》（在政务网下载或窗口领取）",
    "营业执照复印件（加盖公章，个体工商户签字）",
    "法定代表人或负责人身份证件",
    "经营场所平面布局图（标明加工、存储、就餐区域）",
    "经营场所使用证明（产权证明或租赁合同）",
    "食品安全管理制度文本（进货查验、清洗消毒等）",
    "食品安全管理人员培训合格证明",
    "全体从业人员健康证明",
    "主要设备设施清单（冷藏、消毒、留样设备）",
    "给排水和油烟处理说明",
    "委托他人办理的，提交授权委托书和受托人身份证件",
    "申请人对材料真实性的书面承诺书",
]

GUIDE = (
    "---\nid: catering-permit\ntitle: 江滩区餐饮经营许可办事指南\nkind: service\ncategory: 审批服务\n"
    "department: 区行政审批局\nupdated: 2026-04-01\ncontact: 027-6000-1001\nsample: true\n---\n"
    "# 江滩区餐饮经营许可办事指南\n\n## 适用对象\n在江滩区从事餐饮服务的企业和个体工商户。\n\n"
    "## 申请材料\n申请人应提交以下材料：\n\n"
    + "\n".join(f"{n}. {m}；" for n, m in enumerate(MATERIALS, start=1))
    + "\n\n## 办理流程\n1. 网上申报：登录江滩政务网提交申请；\n2. 受理审查：窗口当场受理；\n"
    "3. 现场核查：5个工作日内完成；\n4. 作出决定：核查通过后即时发证；\n5. 领取证照：可选择免费邮寄。\n\n"
    "## 办理时限\n承诺时限为3个工作日（法定时限20个工作日）。\n\n"
    "## 收费标准\n不收费。\n\n## 办理地点\n江滩区政务服务中心二楼12号窗口（滨江大道88号）。\n\n"
    "## 办理时间\n周一至周五 9:00—12:00，13:30—17:30（法定节假日除外）。\n\n"
    "## 咨询电话\n区行政审批局餐饮许可科：027-6000-1001。\n\n"
    "## 网上办理\n登录“江滩政务网”餐饮许可专栏，全程网办。\n"
)
APARTMENT = (
    "---\nid: youth-apartment\ntitle: 江滩区青年人才公寓申请指南\ncategory: 人才政策\n"
    "department: 区人才服务中心\nupdated: 2026-03-01\ncontact: 027-6000-2002\nsample: true\n---\n"
    "# 江滩区青年人才公寓申请指南\n\n## 申请条件\n在江滩区就业的全日制本科及以上毕业生，本人在江滩区无自有住房。\n\n"
    "## 租金标准\n| 人员 | 租金 | 期限 |\n|---|---|---|\n| 博士 | 免租金 | 3年 |\n| 硕士 | 市场租金的50% | 3年 |\n"
    "| 本科 | 市场租金的70% | 2年 |\n\n## 申请材料\n- 入住申请表；\n- 学历证书；\n- 劳动合同。\n\n"
    "## 咨询电话\n区人才服务中心：027-6000-2002。\n"
)
# A flattened notice: headings and paragraphs run on one line, separated by spaces.
NOTICE = (
    "江滩区关于加强小区封闭管理的通告 为做好防控工作，江滩区决定实施小区封闭管理，现将相关措施通告如下： "
    "一、小区一律封闭管理 社区统一制作出入证，出入证不得转借、冒用；无证人员原则上不得进入小区，"
    "确需进入的要严格登记。快递、外卖送至小区指定区域。 二、返岗人员登记 返岗人员应在到达当日向社区报告。"
    " 江滩区防控指挥部 2026年2月1日"
)
# A guide whose elements are rows of one table, and whose premises section says 场所.
ELEMENTS = (
    "---\nid: fireworks-permit\ntitle: 江滩区烟花爆竹零售经营许可办事指南\nkind: service\ncategory: 安全生产\n"
    "department: 区应急管理局\nupdated: 2026-04-01\ncontact: 027-6000-3003\nsample: true\n---\n"
    "# 江滩区烟花爆竹零售经营许可办事指南\n\n## 办事要素一览\n\n| 项目 | 内容 |\n| --- | --- |\n"
    "| 适用对象 | 在江滩区零售烟花爆竹的个体工商户和企业（办理的许可俗称“鞭炮证”） |\n"
    "| 办理流程 | 申请→受理→现场核查→审批→发证 |\n"
    "| 法定时限 | 20个工作日 |\n| 承诺时限 | 7个工作日 |\n| 收费标准 | 不收费 |\n"
    "| 办理地点 | 江滩区政务服务中心三楼应急窗口（滨江大道88号） |\n\n"
    "## 经营场所要求\n\n- 零售点设在建筑物首层，面积不少于10平方米；\n- 不得与居民居住场所设置在同一建筑物内；\n"
    "- 配备灭火器材。\n"
)
# A service centre's summary: its rows say where and when; 交通指引 says how to get there.
CENTRE = (
    "---\nid: service-centre\ntitle: 江滩区政务服务中心办事指引\nkind: info\ncategory: 政务服务\n"
    "department: 区政务服务局\nupdated: 2026-04-01\ncontact: 027-6000-0001\nsample: true\n---\n"
    "# 江滩区政务服务中心办事指引\n\n## 区政务服务中心\n\n- 地址：江滩区滨江大道100号\n"
    "- 办公时间：周一至周五上午9:00—12:00，下午14:00—17:30\n"
    "- 周末服务：每周六上午9:00—12:00开设综合窗口\n- 服务热线：027-6000-0001\n\n"
    "## 交通指引\n\n可乘坐公交在政务中心站下车，步行约200米到达政务服务中心。\n"
)
# A policy that says who may apply and on what terms in two sections side by side.
LOAN = (
    "---\nid: first-loan\ntitle: 江滩区小微企业首贷贴息实施细则\nkind: policy\ncategory: 金融服务\n"
    "department: 区金融服务中心\nupdated: 2026-04-01\ncontact: 027-6000-4004\nsample: true\n---\n"
    "# 江滩区小微企业首贷贴息实施细则\n\n## 一、支持对象\n\n在江滩区注册纳税、此前从未获得过银行经营性贷款的小微企业。\n\n"
    "## 二、申请条件\n\n1. 首笔贷款期限在6个月以上；\n2. 贷款用于企业生产经营；\n3. 按期付息，无逾期记录。\n\n"
    "## 三、贴息标准\n\n按首笔贷款实际支付利息的50%给予贴息，单户最高10万元。\n"
)
FAQ = (
    "question,answer,category\n"
    "总部企业有什么奖励？,经认定的总部企业按实缴注册资本给予落户奖励，最高500万元。,招商引资\n"
    "青年人才公寓租金怎么收？,博士免租金，硕士按市场租金的50%，本科按70%。,人才政策\n"
    "技术咨询合同也能拿技术合同奖励吗？,可以。技术咨询合同交易额在30万元以上的，可按规定申请奖励。,科技创新\n"
)


@pytest.fixture(scope="module")
def guide_settings(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Settings:
    root = tmp_path_factory.mktemp("guide-kb")
    (root / "catering.md").write_text(GUIDE, encoding="utf-8")
    (root / "apartment.md").write_text(APARTMENT, encoding="utf-8")
    (root / "faq.csv").write_text(FAQ, encoding="utf-8")
    (root / "notice.txt").write_text(NOTICE, encoding="utf-8")
    (root / "fireworks.md").write_text(ELEMENTS, encoding="utf-8")
    (root / "centre.md").write_text(CENTRE, encoding="utf-8")
    (root / "loan.md").write_text(LOAN, encoding="utf-8")
    settings = Settings(data_dir=tmp_path_factory.mktemp("guide-data"), question_log_days=30)
    index = KnowledgeIndex.open(settings, embedder)
    assert Ingestor(index, progress=False).run([root]).ok
    index.close()
    return settings


@pytest.fixture(scope="module")
def bot(guide_settings: Settings, embedder: Embedder) -> Iterator[Assistant]:
    assistant = Assistant(guide_settings, embedder=embedder)
    yield assistant
    assistant.close()


def _body(text: str) -> str:
    return re.sub(r"\[\d+\]", "", text)


@pytest.mark.parametrize(
    ("question", "focus"),
    [
        ("青年人才公寓可以养宠物吗？", "宠物"),
        ("青年人才公寓有没有停车位？", "停车位"),
        ("青年人才公寓有食堂吗？", "食堂"),
    ],
)
def test_near_topic_questions_are_refused_with_the_department(
    bot: Assistant, question: str, focus: str
) -> None:
    answer = bot.ask(question)
    assert not answer.answered and answer.sources == []
    assert answer.refusal_reason == "not_in_evidence"
    # says what it does not know, and whom to ask
    assert focus[:2] in answer.text and "027-6000-2002" in answer.text
    assert "区人才服务中心" in answer.contact


@pytest.mark.parametrize(
    ("question", "phrase"),
    [
        ("青年人才公寓租金怎么收？", "50%"),
        ("青年人才公寓要满足什么条件才能申请？", "无自有住房"),
        ("青年人才公寓申请要带什么材料", "入住申请表"),
    ],
)
def test_their_answerable_twins_are_answered(bot: Assistant, question: str, phrase: str) -> None:
    answer = bot.ask(question)
    assert answer.answered and phrase in _body(answer.text)


def test_an_faq_entry_about_another_subject_is_not_a_match(bot: Assistant) -> None:
    assert bot.ask("总部企业有什么奖励？").mode == "faq"
    other = bot.ask("高新技术企业有什么奖励？")
    assert other.mode != "faq"
    assert not other.answered  # nothing in this knowledge base is about 高新技术企业
    # the same subject, another aspect the entry's answer does not state (几年 against 租金)
    assert bot.ask("青年人才公寓最长能住几年？").mode != "faq"
    # how much is asked; the entry only says who may apply (30万元以上的 is a threshold)
    assert bot.ask("技术咨询合同也能拿技术合同奖励吗？").mode == "faq"
    assert bot.ask("技术合同奖励能拿多少？").mode != "faq"


@pytest.mark.parametrize(
    ("question", "section"),
    [
        ("餐饮许可多久能办下来？", "办理时限"),
        ("开饭店办许可证要钱吗", "收费标准"),
        ("餐饮许可去哪办？", "办理地点"),
        ("办餐饮许可的窗口几点上班", "办理时间"),
        ("餐饮许可证要准备啥", "申请材料"),
        ("餐饮许可怎么办，步骤是什么", "办理流程"),
        ("餐饮许可的咨询电话多少", "咨询电话"),
        ("餐饮许可网上能办吗", "网上办理"),
        ("哪些单位可以申请餐饮许可", "适用对象"),
    ],
)
def test_each_aspect_is_answered_from_its_section(
    bot: Assistant, question: str, section: str
) -> None:
    answer = bot.ask(question)
    assert answer.answered, answer.text
    assert answer.sources[0].doc_id == "catering-permit"
    assert answer.sources[0].section == section


def test_a_twelve_item_list_is_quoted_whole_from_item_one_line_by_line(bot: Assistant) -> None:
    answer = bot.ask("办餐饮许可需要提交哪些材料？")
    lines = _body(answer.text).strip().split("\n")
    items = [line for line in lines if re.match(r"^\d+\. ", line)]
    assert [re.sub(r"^\d+\. |；$", "", line) for line in items] == MATERIALS
    assert items[0].startswith("1. ") and lines[-1].startswith("12. ")
    # past the usual window of an answer: a list is not cut
    assert len(_body(answer.text)) > AnswerPolicy().window_chars


def test_a_table_row_stays_a_label_value_row(bot: Assistant) -> None:
    answer = bot.ask("青年人才公寓租金标准是多少")
    assert "硕士：租金为市场租金的50%，期限3年。" in answer.text.split("\n")


def test_a_row_of_a_table_of_elements_answers_the_aspect_its_label_names(bot: Assistant) -> None:
    where = bot.ask("烟花爆竹零售许可去哪办？")
    assert where.answered and where.evidence.aspect_matched == "section", where.text
    assert _body(where.text).startswith("办理地点：江滩区政务服务中心三楼应急窗口")
    assert "首层" not in where.text  # 经营场所要求 is what the premises must be, not a place
    steps = bot.ask("烟花爆竹零售许可要走哪几步？")
    assert _body(steps.text).startswith("办理流程：申请→受理→现场核查→审批→发证")
    # every row of the table that answers: the legal and the promised time limit
    days = _body(bot.ask("烟花爆竹零售许可几天能办好？").text)
    assert "法定时限：20个工作日" in days and "承诺时限：7个工作日" in days
    assert "不收费" not in days


def test_a_name_the_document_gives_itself_is_its_subject(bot: Assistant) -> None:
    # 鞭炮证 is named once, in the 适用对象 row; the time rows answer for it
    days = bot.ask("办鞭炮证要几天？")
    assert days.answered, days.text
    assert "承诺时限：7个工作日" in _body(days.text)


def test_a_labelled_row_beats_a_section_named_only_loosely(bot: Assistant) -> None:
    # 在哪个位置 is answered by 地址：…, not by how to get there (交通指引)
    where = _body(bot.ask("江滩区政务服务中心在哪个位置？").text)
    assert where.startswith("- 地址：江滩区滨江大道100号"), where
    # 周六开门吗: the row on Saturday service comes with the office hours
    saturday = _body(bot.ask("周六政务服务中心开门吗？").text)
    assert "每周六上午9:00—12:00" in saturday


def test_who_may_apply_and_on_what_terms_come_together(bot: Assistant) -> None:
    answer = _body(bot.ask("借了3个月的贷款，能申请首贷贴息吗？").text)
    assert "此前从未获得过银行经营性贷款" in answer and "首笔贷款期限在6个月以上" in answer, answer
    assert "50%" not in answer
    # asked for the terms themselves, the terms' section is the one cited
    terms = bot.ask("首贷贴息有啥硬性要求？")
    assert terms.sources[0].section == "申请条件", terms.text


def test_whom_to_ask_is_the_whole_documents(bot: Assistant) -> None:
    # the phone line names the office, not the graduates: the document speaks of them (once)
    answer = bot.ask("青年人才公寓毕业生申请的事打哪个电话问？")
    assert answer.answered and answer.sources[0].section == "咨询电话", answer.text
    assert _body(answer.text).strip() == "区人才服务中心：027-6000-2002。"


def test_lines_reach_http_and_the_stream(guide_settings: Settings, bot: Assistant) -> None:
    with TestClient(create_app(guide_settings, bot)) as client:
        body = client.post("/api/chat", json={"question": "餐饮许可怎么办理？流程是什么"}).json()
        assert body["answered"] and body["answer"].startswith("1. 网上申报")
        assert "\n2. 受理审查" in body["answer"] and "\n5. 领取证照" in body["answer"]
        source = body["sources"][0]
        assert source["updated"] == "2026-04-01" and source["sample"] is True
        assert source["contact"] == "027-6000-1001"
        events = []
        with client.stream("POST", "/api/chat/stream", json={"question": "餐饮许可怎么办理？流程是什么"}) as res:
            for block in res.read().decode().split("\n\n"):
                if block.strip():
                    name = re.search(r"event: (\w+)", block).group(1)  # type: ignore[union-attr]
                    data = json.loads(re.search(r"data: (.*)", block).group(1))  # type: ignore[union-attr]
                    events.append((name, data))
        deltas = "".join(d["text"] for n, d in events if n == "delta")
        done = next(d for n, d in events if n == "done")
        assert deltas == done["answer"] == body["answer"]


def test_a_follow_up_that_changes_the_aspect_keeps_the_topic(bot: Assistant) -> None:
    first = bot.ask("餐饮许可要多久？")
    assert first.sources[0].section == "办理时限"
    second = bot.ask("需要什么材料？", session_id=first.session_id)
    assert second.question == "餐饮许可需要什么材料？"
    assert second.sources[0].section == "申请材料" and MATERIALS[0] in second.text
    third = bot.ask("在哪办？", session_id=first.session_id)
    assert third.sources[0].section == "办理地点"


def test_a_follow_up_that_substitutes_an_entity_answers_for_it(bot: Assistant) -> None:
    first = bot.ask("硕士住青年人才公寓租金多少？")
    assert "50%" in first.text
    second = bot.ask("那博士呢？", session_id=first.session_id)
    assert "博士" in second.question and "硕士" not in second.question
    assert second.answered and "免租金" in second.text


def test_a_new_topic_starts_fresh(bot: Assistant) -> None:
    first = bot.ask("餐饮许可要多久？")
    second = bot.ask("青年人才公寓申请条件是什么？", session_id=first.session_id)
    assert second.question == "青年人才公寓申请条件是什么？"
    assert second.sources[0].doc_id == "youth-apartment"


def test_the_hit_test_explains_the_gate(bot: Assistant) -> None:
    result = bot.hit_test("青年人才公寓可以养宠物吗")
    assert not result["answered"] and result["refusal_reason"] == "not_in_evidence"
    assert result["refusal_reason_zh"] and result["evidence"]["missing"] == ["宠物"]
    assert any(t["word"] == "宠物" and t["subject"] for t in result["focus_terms"])
    ok = bot.hit_test("餐饮许可多久能办下来")
    assert ok["answered"] and ok["evidence"]["section"] == "办理时限"
    assert ok["evidence"]["aspect_matched"] == "section" and ok["evidence"]["aspects"] == ["办理时限"]
    assert ok["hits"][0]["relevance"] == 100 and 0 <= ok["hits"][-1]["relevance"] <= 100


def test_a_lead_in_goes_on_into_what_it_introduces(bot: Assistant) -> None:
    # "…措施通告如下：" is the best match; what it introduces is under the next heading
    answer = bot.ask("江滩区实施小区封闭管理有哪些相关措施？")
    assert answer.answered
    body = _body(answer.text)
    assert "措施通告如下：\n社区统一制作出入证" in body


def test_a_source_card_reads_a_bulleted_list_as_one_line(bot: Assistant) -> None:
    answer = bot.ask("青年人才公寓申请要带哪些材料？")
    assert answer.answered, answer.text
    snippet = answer.sources[0].snippet
    assert snippet.startswith("入住申请表；") and "- " not in snippet, snippet


def test_a_passage_about_another_place_does_not_answer(
    tmp_path_factory: pytest.TempPathFactory, embedder: Embedder
) -> None:
    # Two provinces' measures for front-line medical staff: 湖北's do not mention a 绿色通道,
    # 重庆's do; a question about 湖北's 绿色通道 is not answered from 重庆's.
    root = tmp_path_factory.mktemp("places-kb")
    (root / "hubei.md").write_text(
        "# 湖北省针对一线防控医务人员建立的关爱措施\n\n湖北省发放临时性工作补助，"
        "对因公感染的按规定给予抚恤。\n",
        encoding="utf-8",
    )
    (root / "chongqing.md").write_text(
        "# 重庆出台十项措施\n\n重庆针对一线防控医务人员建立职称评审绿色通道，"
        "医务人员优先晋升。\n",
        encoding="utf-8",
    )
    others = {
        "企业开办指南": "企业开办全程网办，0.5个工作日内办结。",
        "人才公寓申请办法": "符合条件的人才可申请入住人才公寓。",
        "创业担保贷款": "个人最高30万元，贷款期限3年。",
        "高新技术企业奖励": "首次认定的给予20万元奖励。",
        "政务服务中心": "位于后湖大道198号，周一至周五办公。",
        "餐饮许可": "承诺5个工作日办结。",
    }
    for n, (title, body) in enumerate(others.items()):
        (root / f"other-{n}.md").write_text(f"# {title}\n\n{body}\n", encoding="utf-8")
    settings = Settings(data_dir=tmp_path_factory.mktemp("places-data"))
    index = KnowledgeIndex.open(settings, embedder)
    assert Ingestor(index, progress=False).run([root]).ok
    index.close()
    assistant = Assistant(settings, embedder=embedder)
    try:
        answer = assistant.ask("湖北省针对一线防控医务人员建立了什么样的绿色通道？")
        assert not answer.answered, answer.text
        assert "重庆" not in answer.text
    finally:
        assistant.close()
