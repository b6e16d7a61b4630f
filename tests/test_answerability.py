"""Answer or refuse, measured: on a district knowledge base written for the tests (硚口, the
set the rules were tuned on) and on the bundled knowledge base's dev questions. The held-out
sets (tests/corpora/hongshan, the `holdout` lines) are reported by bench/answers.py only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.assistant import Assistant
from bot.config import Settings
from bot.embedding import Embedder
from bot.evaluation import evaluate_answerability, read_jsonl
from bot.index import KnowledgeIndex
from ingest.pipeline import Ingestor

TESTS = Path(__file__).resolve().parent
QIAOKOU = TESTS / "corpora" / "qiaokou"
QUESTIONS = TESTS / "questions"


@pytest.fixture(scope="module")
def qiaokou(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[Assistant]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("qiaokou"), question_log_days=0)
    index = KnowledgeIndex.open(settings, embedder)
    assert Ingestor(index, progress=False).run([QIAOKOU / "docs"]).ok
    index.close()
    bot = Assistant(settings, embedder=embedder)
    yield bot
    bot.close()


def test_a_district_knowledge_base_written_for_the_tests(qiaokou: Assistant) -> None:
    result = evaluate_answerability(
        qiaokou,
        read_jsonl(QIAOKOU / "answerable.jsonl"),
        read_jsonl(QIAOKOU / "near_topic.jsonl"),
        read_jsonl(QIAOKOU / "followups.jsonl"),
    )
    m = result.metrics()
    wrong = [v.question for v in result.near_topic if not v.ok]
    assert m["near_topic_refused"] >= 0.9, wrong
    assert m["answered"] >= 0.95, [v.question for v in result.answered if not v.ok]
    assert m["aspect_right_section"] >= 0.85, [v.question for v in result.aspects if not v.ok]
    assert m["followups_correct"] >= 0.8, [v.question for v in result.followups if not v.ok]


def test_the_bundled_knowledge_base_dev_questions(assistant: Assistant) -> None:
    result = evaluate_answerability(
        assistant,
        read_jsonl(QUESTIONS / "kb_twins.jsonl", "dev") + read_jsonl(QUESTIONS / "kb_aspects.jsonl", "dev"),
        read_jsonl(QUESTIONS / "kb_near_topic.jsonl", "dev"),
        read_jsonl(QUESTIONS / "kb_followups.jsonl", "dev"),
    )
    m = result.metrics()
    assert m["near_topic_refused"] >= 0.85, [v.question for v in result.near_topic if not v.ok]
    assert m["answered"] >= 0.95, [v.question for v in result.answered if not v.ok]
    assert m["aspect_right_section"] >= 0.8, [v.question for v in result.aspects if not v.ok]
    assert m["followups_correct"] >= 0.75, [v.question for v in result.followups if not v.ok]
