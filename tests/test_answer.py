"""The extractive answerer on hand-made evidence: which passage it quotes, when it refuses."""

from __future__ import annotations

from bot.answering.extractive import AnswerPolicy, ExtractiveAnswerer, strip_markers
from bot.models import Document, DocumentHit, Retrieval

NOTICE = (
    "海陵区关于疫情防控期间企业复工工作的通告为加强疫情防控，保障企业复工有序进行，现通告如下。"
    "一、企业复工必须落实疫情防控主体责任，做到防控机制到位、员工排查到位。"
    "三、企业复工审批材料：企业复工申请表；企业疫情防控承诺书；企业返岗员工名册。"
)
FILLER = (
    "各单位要严格落实防控责任，做好人员排查、体温检测、场所消毒和物资储备，"
    "确保防控措施落实到位，发现异常情况及时报告属地卫生健康部门。"
)


def _found(
    text: str, coverage: float = 0.9, similarity: float = 0.9, gap: float = 0.05
) -> Retrieval:
    doc = Document(doc_id="notice", title="海陵区审批服务公告", text=text)
    return Retrieval(
        hits=[DocumentHit(document=doc, score=1.0, coverage=coverage)],
        top_similarity=similarity,
        similarity_gap=gap,
    )


def test_the_opening_sentence_does_not_win_by_restating_the_title() -> None:
    # The opening sentence repeats the title's terms (企业复工) and names one asked term
    # (审批); a later sentence names a rarer asked term (材料). The title already gives its
    # terms to every sentence, so they must not also break the tie for the opening.
    text = "企业复工通告：本区企业复工的审批工作由各园区负责。" + FILLER * 6
    text += "所需材料如下：\n复工申请表、防控承诺书、返岗员工名册。" + FILLER
    doc = Document(doc_id="notice", title="企业复工通告", text=text)
    found = Retrieval(hits=[DocumentHit(document=doc, score=1.0, coverage=0.9)])
    answer = ExtractiveAnswerer().answer(
        "企业复工审批材料", found, lambda t: 1.5 if t == "材料" else 1.0
    )
    body = strip_markers(answer.text)
    assert answer.answered and "复工申请表" in body
    assert not body.startswith("企业复工通告")


def test_similar_evidence_with_a_fair_share_of_the_terms_is_answered() -> None:
    answerer = ExtractiveAnswerer(AnswerPolicy(min_similarity=0.87))
    question = "海陵区企业复工审批材料都需要什么？"
    # close in meaning, but among many similar passages (small gap)
    crowded = _found(NOTICE, coverage=0.45, similarity=0.9, gap=0.01)
    assert answerer.uncovered_reason(question, crowded) == ""
    # the same closeness with few shared terms is not enough
    vague = _found(NOTICE, coverage=0.2, similarity=0.9, gap=0.01)
    assert answerer.uncovered_reason(question, vague) == "weak_evidence"
    # and shared terms without closeness are not either
    far = _found(NOTICE, coverage=0.45, similarity=0.8, gap=0.01)
    assert answerer.uncovered_reason(question, far) == "weak_evidence"


def test_a_sentence_that_points_back_brings_the_one_before() -> None:
    text = (
        "2月12日，长春市轻轨站的工作人员在进站口为每一位乘客测量体温，并提醒乘客全程规范佩戴口罩。"
        "当日，长春市公共交通工具正式启用市民出行实名制登记系统。"
        "市民进站乘车时需扫描二维码完成登记。"
    )
    doc = Document(doc_id="changchun", title="公交实名制让疫情防控可追溯", text=text)
    found = Retrieval(hits=[DocumentHit(document=doc, score=1.0, coverage=0.9)])
    answer = ExtractiveAnswerer(AnswerPolicy(backfill_chars=0)).answer(
        "长春市何时启用实名制登记系统？", found
    )
    assert "2月12日" in strip_markers(answer.text)
