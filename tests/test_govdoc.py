"""Government documents (红头文件, issue 16, point 4): 文号, issuer, date of issue and title
read off the text, attachments as sections, and a question naming a 文号 finds the document."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.assistant import Assistant
from bot.config import Settings
from bot.doc_numbers import mentions, names, parse_doc_number
from bot.embedding import Embedder
from bot.index import KnowledgeIndex
from bot.models import Document
from ingest.govdoc import chinese_date, enrich, read_particulars
from ingest.parsers import parse_file
from ingest.pipeline import Ingestor

NOTICE = """江岸区人民政府办公室文件
岸政办发{number}
江岸区人民政府办公室关于印发江岸区支持高层次人才
安家落户若干措施的通知
各街道办事处，区人民政府各部门：
经区人民政府同意，现将《江岸区支持高层次人才安家落户若干措施》印发给你们，请认真贯彻执行。
根据岸政发〔2020〕1号文件精神制定本措施。
附件：1.高层次人才认定目录
2.安家补贴申请表
江岸区人民政府办公室
{date}
（此件公开发布）
附件1
高层次人才认定目录
一、A类人才：诺贝尔奖获得者。
二、B类人才：国家级人才计划入选者。
附件2：安家补贴申请表
姓名、工作单位、人才类别、联系电话。
"""


@pytest.mark.parametrize(
    "spelling",
    ["〔2026〕12号", "[2026]12号", "（2026）12号", "(2026)12号", "【2026】12号", "［2026］12号",
     "〈2026〉12号", "﹝2026﹞第12号", "〔 2026 〕 12 号"],
)  # fmt: skip
def test_the_doc_number_in_every_bracket_spelling(spelling: str) -> None:
    found = read_particulars(NOTICE.format(number=spelling, date="2026年3月5日"))
    assert found.doc_number == "岸政办发〔2026〕12号"


def test_issuer_date_and_title() -> None:
    found = read_particulars(NOTICE.format(number="〔2026〕12号", date="二〇二六年三月五日"))
    assert found.issuer == "江岸区人民政府办公室"
    assert found.issued == "2026-03-05"
    assert found.title == "江岸区人民政府办公室关于印发江岸区支持高层次人才安家落户若干措施的通知"
    assert chinese_date("二〇二六年十二月三十一日") == "2026-12-31"
    assert chinese_date("二〇二六年二月三十日") == ""  # no such day


def test_the_signature_names_the_issuer_without_a_red_header() -> None:
    text = (
        "关于开展2026年度中小企业贷款贴息申报工作的通知\n各有关企业：\n现将有关事项通知如下。\n"
        "一、申报时间：4月1日至4月30日。\n江岸区财政局\n江岸区科学技术局\n2026年4月1日"
    )
    found = read_particulars(text)
    assert found.issuer == "江岸区科学技术局" and found.issued == "2026-04-01"
    assert found.doc_number == ""  # none given: none invented


def test_a_date_inside_a_sentence_is_not_the_date_of_issue() -> None:
    text = (
        "关于申报的通知\n岸政发〔2026〕5号\n一、申报时间\n2025年3月1日至4月15日。\n联系电话：12345"
    )
    assert read_particulars(text).issued == ""


def test_a_number_cited_in_the_text_is_not_the_documents_own() -> None:
    text = "关于转发文件的通知\n根据岸政发〔2020〕1号文件精神，现通知如下。\n2026年4月1日"
    assert read_particulars(text).doc_number == ""


def test_attachments_become_sections_and_the_list_under_the_text_does_not() -> None:
    doc = enrich(
        Document(
            doc_id="n",
            title="江岸区人民政府办公室文件",
            text=NOTICE.format(number="〔2026〕12号", date="2026年3月5日"),
        )
    )
    assert doc.doc_number == "岸政办发〔2026〕12号" and doc.issued == "2026-03-05"
    assert doc.title.startswith("江岸区人民政府办公室关于印发")
    lines = doc.text.splitlines()
    assert "## 附件1 高层次人才认定目录" in lines and "## 附件2 安家补贴申请表" in lines
    assert "附件：1.高层次人才认定目录" in lines  # the list stays text
    assert "高层次人才认定目录" not in lines  # the attachment's title moved into its heading


def test_front_matter_sets_the_fields_and_the_number_is_indexed(tmp_path: Path) -> None:
    (tmp_path / "policy.md").write_text(
        "---\ntitle: 人才新政\ndoc_number: 岸政发(2026)7\nissuer: 江岸区人民政府\n"
        "issued: 2026-02-01\n---\n# 人才新政\n正文。\n",
        "utf-8",
    )
    (doc,) = parse_file(tmp_path / "policy.md", tmp_path)
    assert (doc.doc_number, doc.issuer, doc.issued) == (
        "岸政发〔2026〕7号",
        "江岸区人民政府",
        "2026-02-01",
    )
    assert doc.title == "人才新政" and doc.text.splitlines()[:2] == [
        "# 人才新政",
        "文号：岸政发〔2026〕7号",
    ]


@pytest.mark.parametrize(
    "question",
    [
        "岸政发〔2026〕3号讲了什么",
        "请问岸政发(2026)3号",
        "岸政发2026年3号文件",
        "岸政发［2026］第3号",
    ],
)
def test_a_question_names_a_number_in_any_spelling(question: str) -> None:
    number = parse_doc_number("岸政发〔2026〕3号")
    assert number is not None
    assert any(names(m, number) for m in mentions(question))
    other = parse_doc_number("岸政发〔2026〕13号")
    assert other is not None and not any(names(m, other) for m in mentions(question))


TOPICS = {
    1: ("支持楼宇经济发展", "对新引进的总部企业给予最高500万元落户奖励。"),
    2: ("促进科技创新", "对新认定的高新技术企业给予一次性奖励20万元。"),
    3: ("支持人才安家", "对新引进的博士给予一次性安家补贴6万元。"),
    4: ("促进消费升级", "对年度销售额增长超过20%的商贸企业给予奖励10万元。"),
}


@pytest.fixture(scope="module")
def notices_bot(
    tmp_path_factory: pytest.TempPathFactory, embedder: Embedder
) -> Iterator[Assistant]:
    """Four look-alike notices, 岸政发〔2026〕1号 to 4号, as plain text."""
    root = tmp_path_factory.mktemp("govdoc")
    folder = root / "kb"
    folder.mkdir()
    for n, (topic, measure) in TOPICS.items():
        (folder / f"notice-{n}.txt").write_text(
            f"江岸区人民政府文件\n岸政发〔2026〕{n}号\n江岸区人民政府关于印发{topic}若干措施的通知\n"
            f"各街道办事处，区人民政府各部门：\n现将《{topic}若干措施》印发给你们，请认真贯彻执行。\n"
            f"一、{measure}\n二、本措施由区发展和改革局负责解释，自印发之日起施行。\n"
            + ("三、原岸政发2025年12号文件同时废止。\n" if n == 4 else "")
            + f"江岸区人民政府\n2026年{n}月10日\n",
            "utf-8",
        )
    settings = Settings(data_dir=root / "data")
    index = KnowledgeIndex.open(settings, embedder)
    report = Ingestor(index, progress=False).run([folder])
    index.close()
    assert report.ok, report.failed
    bot = Assistant(settings, embedder=embedder)
    yield bot
    bot.close()


@pytest.mark.parametrize(
    "question",
    [
        "岸政发〔2026〕3号的主要内容是什么？",
        "岸政发(2026)3号规定了哪些补贴",
        "岸政发[2026]3号由哪个单位负责解释",
    ],
)
def test_a_question_naming_a_number_finds_that_notice_among_look_alikes(
    notices_bot: Assistant, question: str
) -> None:
    found = notices_bot.retriever.search(question)
    assert found.hits[0].document.doc_id == "notice-3"
    answer = notices_bot.ask(question)
    assert answer.answered, answer.refusal_reason
    assert answer.sources[0].doc_id == "notice-3"
    public = answer.sources[0].public()
    assert public["doc_number"] == "岸政发〔2026〕3号"
    assert public["issuer"] == "江岸区人民政府" and public["issued"] == "2026-03-10"


def test_the_fields_survive_the_records(notices_bot: Assistant) -> None:
    doc = notices_bot.retriever.documents["notice-2"]
    assert (doc.doc_number, doc.issuer, doc.issued) == (
        "岸政发〔2026〕2号",
        "江岸区人民政府",
        "2026-02-10",
    )
    assert doc.title == "江岸区人民政府关于印发促进科技创新若干措施的通知"


def test_naming_a_number_does_not_make_any_question_answerable(notices_bot: Assistant) -> None:
    question = "岸政发〔2026〕3号的申报截止日期"  # the notice gives none
    assert notices_bot.retriever.search(question).hits[0].document.doc_id == "notice-3"
    assert not notices_bot.ask(question).answered


def test_a_number_the_series_lacks_is_refused_not_answered_from_a_neighbour(
    notices_bot: Assistant,
) -> None:
    # 3号 holds the answer; 9号 is named: answering from 3号 would say 9号 grants it
    assert notices_bot.ask("岸政发〔2026〕3号对博士的安家补贴").answered
    answer = notices_bot.ask("岸政发〔2026〕9号对博士的安家补贴")
    assert not answer.answered and answer.refusal_reason == "unknown_doc_number"
    assert "没有收录岸政发〔2026〕9号" in answer.text
    # not a 文号: no brackets, no 号
    assert notices_bot.retriever.search("岸政发2026年9月的补贴").unknown_doc_numbers == []
    # a number a document cites without brackets is known: never "not in the knowledge base"
    assert notices_bot.retriever.search("岸政发〔2025〕12号废止了吗").unknown_doc_numbers == []
    unknown = notices_bot.retriever.search("岸政发〔2025〕13号废止了吗").unknown_doc_numbers
    assert unknown == ["岸政发〔2025〕13号"]
