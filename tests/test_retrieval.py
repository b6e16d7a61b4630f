"""Retrieval and refusal on the bundled knowledge base, with paraphrased questions.

Two independently written question sets (kb_questions, kb_holdout) and two out-of-scope sets;
the refusal thresholds were calibrated on the first pair and checked on the second.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.answering.extractive import strip_markers
from bot.assistant import Assistant
from tests.conftest import DATA


def _questions(name: str) -> list[dict[str, str]]:
    return [
        json.loads(line)
        for line in (DATA / name).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def _lines(name: str) -> list[str]:
    return [
        line.strip()
        for line in (DATA / name).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


@pytest.mark.parametrize("name", ["kb_questions.jsonl", "kb_holdout.jsonl"])
def test_paraphrased_questions_find_their_document(assistant: Assistant, name: str) -> None:
    questions = _questions(name)
    hit3 = answered = contains = 0
    for q in questions:
        answer = assistant.ask(q["question"])
        ranked = [h.document.doc_id for h in answer.retrieved]
        hit3 += q["doc_id"] in ranked[:3]
        answered += answer.answered
        contains += q["answer"] in strip_markers(answer.text)
    n = len(questions)
    assert hit3 / n >= 0.9, f"hit@3 {hit3}/{n}"
    # Issue #2's paraphrases avoid the documents' words on purpose; since answers must name
    # what is asked (bot/answering/focus.py), some are refused (docs/EVALUATION.md).
    assert answered / n >= 0.6, f"answered {answered}/{n}"
    assert contains / n >= 0.45, f"answer contains gold {contains}/{n}"


@pytest.mark.parametrize("name", ["out_of_scope.txt", "out_of_scope_holdout.txt"])
def test_out_of_scope_questions_are_refused(assistant: Assistant, name: str) -> None:
    questions = _lines(name)
    answered = [q for q in questions if assistant.ask(q).answered]
    assert len(answered) / len(questions) <= 0.15, answered


@pytest.mark.parametrize(
    "question",
    [
        "今天江岸区天气怎么样？",
        "明天武汉会下雨吗",
        "写一首关于长江的诗",
        "帮我作一首七言律诗赞美江岸",
        "上海浦东新区的人才公寓怎么申请？",
        "深圳南山区的创业补贴有多少",
        "杭州的企业开办要几天？",
        "推荐几只明天会涨的股票",
        "江岸区有哪些股票值得买",
    ],
)
def test_named_out_of_scope_kinds_are_refused_with_a_contact(
    assistant: Assistant, question: str
) -> None:
    answer = assistant.ask(question)
    assert answer.answered is False
    assert answer.sources == []
    assert "12345" in answer.text or "027-" in answer.text
    assert "[1]" not in answer.text


def test_refusal_near_a_topic_names_that_department(assistant: Assistant) -> None:
    found = assistant.retriever.search("人才公寓的申请条件和租金标准", k=5)
    assert found.hits[0].document.doc_id == "talent-apartment"
    refusal = assistant.answerer.refuse("人才公寓的申请条件和租金标准", found)
    doc = found.hits[0].document
    assert (
        refusal.answered is False and doc.department in refusal.text and doc.contact in refusal.text
    )
    assert "12345" in refusal.text  # the hotline is offered as well
    far = assistant.ask("红烧肉怎么做才好吃？")
    assert far.answered is False and far.contact.endswith("12345")


def test_answer_cites_sources_it_returns(assistant: Assistant) -> None:
    answer = assistant.ask("惟楚荟在什么地方？")
    assert answer.answered
    assert "岳飞街1号" in answer.text
    assert answer.text.count("[1]") == 1 and answer.sources[0].doc_id == "weichuhui"
    assert len(strip_markers(answer.text)) <= 300


def test_facts_from_the_article_are_exact(assistant: Assistant) -> None:
    answer = assistant.ask("江岸区上半年地区生产总值是多少？")
    assert answer.answered and "838.02亿元" in answer.text
    assert answer.sources[0].doc_id in {"economy-overview"} or "838.02" in answer.sources[0].snippet


def test_category_filter_restricts_documents(assistant: Assistant) -> None:
    found = assistant.retriever.search("补贴", k=5, category="人才政策")
    assert found.hits and {h.document.category for h in found.hits} == {"人才政策"}


def test_results_are_grouped_per_document(assistant: Assistant) -> None:
    found = assistant.retriever.search("岱家山科创城 孵化器 入驻 租金", k=5)
    ids = [h.document.doc_id for h in found.hits]
    assert len(ids) == len(set(ids))
    assert all(
        h.chunks and all(c.doc_id == h.document.doc_id for c in h.chunks) for h in found.hits
    )


def test_the_bundled_knowledge_base_is_marked_as_sample(assistant: Assistant) -> None:
    docs = assistant.index.records.documents()
    markdown = [d for d in docs if d.kind == "document"]
    assert len(markdown) >= 30
    assert sum(d.kind == "faq" for d in docs) >= 40
    # a document with an illustrative phone number must say sample: true
    assert all(d.sample for d in markdown if d.contact)


def test_ingest_is_fresh_for_this_checkout(assistant: Assistant) -> None:
    paths = {Path(d.source_path).name for d in assistant.index.records.documents()}
    assert "faq.csv" in paths
