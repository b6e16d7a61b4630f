"""The levers of answer throughput (issue #13, point 1): question embeddings cached and
batched, dense search in memory, no embedding when the words decide."""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from bot.assistant import Assistant
from bot.config import Settings
from bot.embedding import Embedder, ServingEmbedder
from bot.index import KnowledgeIndex
from bot.retrieval import HybridRetriever, RetrievalConfig
from ingest.pipeline import Ingestor
from tests.fixtures_files import write_markdown


class _Counting(Embedder):
    """A deterministic embedder that records every batch it is given (and can be slow)."""

    name = "counting"
    dim = 8

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.batches: list[list[str]] = []
        self.fail = False

    def _vec(self, text: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")
        v = np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
        return v / np.linalg.norm(v)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return np.stack([self._vec(t) for t in texts])

    def embed_question(self, text: str) -> np.ndarray:
        return self._vec(text)

    def embed_questions(self, texts: list[str]) -> np.ndarray:
        self.batches.append(list(texts))
        time.sleep(self.delay)
        if self.fail:
            raise RuntimeError("model failed")
        return np.stack([self._vec(t) for t in texts])


def test_repeated_questions_come_from_the_cache() -> None:
    inner = _Counting()
    serving = ServingEmbedder(inner, cache_size=2)
    first = serving.embed_question("人才公寓怎么申请")
    again = serving.embed_question("人才公寓怎么申请")
    assert np.array_equal(first, inner.embed_question("人才公寓怎么申请"))
    assert again is first and len(inner.batches) == 1 and serving.hits == 1
    with pytest.raises(ValueError):  # shared through the cache: nobody may change it
        first[0] = 0.0
    serving.embed_question("b")
    serving.embed_question("c")  # the cache holds two: the first question has left it
    serving.embed_question("人才公寓怎么申请")
    assert len(inner.batches) == 4
    serving.close()


def test_questions_asked_together_are_embedded_in_one_batch() -> None:
    inner = _Counting(delay=0.3)
    serving = ServingEmbedder(inner)
    results: dict[str, np.ndarray] = {}

    def ask(text: str) -> None:
        results[text] = serving.embed_question(text)

    first = threading.Thread(target=ask, args=("第一个问题",))
    first.start()
    while not inner.batches:  # the first batch is being embedded …
        time.sleep(0.01)
    others = [threading.Thread(target=ask, args=(f"问题{i}",)) for i in range(6)]
    others.append(threading.Thread(target=ask, args=("问题0",)))  # the same text twice
    for t in others:
        t.start()
    for t in [first, *others]:
        t.join()
    # … and the questions that arrived meanwhile went together into the next one, each
    # text once, every row the same as embedding that question alone
    assert inner.batches[0] == ["第一个问题"]
    assert sorted(inner.batches[1]) == sorted(f"问题{i}" for i in range(6))
    assert len(inner.batches) == 2
    for text, vec in results.items():
        assert np.array_equal(vec, inner.embed_question(text))
    serving.close()


def test_a_failing_model_fails_every_waiting_question_and_the_worker_goes_on() -> None:
    inner = _Counting()
    serving = ServingEmbedder(inner)
    inner.fail = True
    with pytest.raises(RuntimeError, match="model failed"):
        serving.embed_question("甲")
    inner.fail = False
    assert serving.embed_question("甲").shape == (8,)  # not cached as a failure
    serving.close()
    assert serving.embed_question("乙").shape == (8,)  # a question after close starts it again
    serving.close()


def test_the_bundled_model_batches_exactly(embedder: Embedder) -> None:
    texts = ["人才公寓怎么申请？", "开个公司要跑几趟", "incubator rent subsidy"]
    batch = embedder.embed_questions(texts)
    assert batch.shape == (3, embedder.dim)
    for row, text in zip(batch, texts, strict=True):
        assert np.allclose(row, embedder.embed_question(text), atol=1e-6)


def test_dense_search_in_memory_agrees_with_the_vector_store(assistant: Assistant) -> None:
    retriever = assistant.retriever
    snap = retriever._snap
    question = "毕业生来江岸工作有没有租房补贴"
    vector = assistant.embedder.embed_question(question)
    dense = retriever._dense(question, snap, None)
    store = assistant.index.vectors.search(vector, retriever.config.dense_candidates)
    top_store = [cid for cid, _ in store[:10]]
    top_memory = [snap.chunks[i].chunk_id for i, _ in sorted(dense.items(), key=lambda kv: -kv[1])]
    # the store's search is approximate (HNSW), ours exact: the best ten agree
    assert top_memory[:10] == top_store
    for cid, sim in store[:10]:
        assert abs(dense[snap.chunk_pos[cid]] - sim) < 1e-4
    category = snap.documents[snap.chunks[next(iter(dense))].doc_id].category
    only = retriever._dense(question, snap, category)
    assert only and all(snap.documents[snap.chunks[i].doc_id].category == category for i in only)


def test_a_document_added_later_is_found_by_meaning(tmp_path: Path, embedder: Embedder) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    write_markdown(tmp_path / "kb" / "a.md", "apt", "人才公寓申请", "## 申请\n登录江岸人才网申请。")
    index = KnowledgeIndex.open(settings, embedder)
    ingest = Ingestor(index, progress=False)
    assert ingest.run([tmp_path / "kb"]).ok
    retriever = HybridRetriever(index, RetrievalConfig(words_decide=None))
    write_markdown(
        tmp_path / "kb" / "b.md", "loan", "科技贷款贴息", "## 标准\n按贷款利息的50%给予贴息。"
    )
    assert ingest.run([tmp_path / "kb"]).ok
    retriever.refresh()  # the new chunks' vectors are read; the old ones are kept
    found = retriever.search("银行借钱的利息能补助吗", k=2)
    assert found.hits[0].document.doc_id == "loan" and found.top_similarity > 0.5
    index.close()


def test_a_question_whose_words_decide_is_not_embedded(assistant: Assistant) -> None:
    retriever = assistant.retriever
    title = next(d.title for d in retriever.documents.values() if d.kind != "faq")
    serving = assistant.embedder
    before = serving.hits + serving.misses
    found = retriever.search(title, k=3)
    assert found.hits[0].coverage >= retriever.config.words_decide  # type: ignore[operator]
    assert serving.hits + serving.misses == before  # the words decided alone
    assert found.top_similarity == 0.0
    vague = retriever.search("刚毕业来这边上班，住的地方有啥照顾", k=3)
    assert vague.top_similarity > 0.5  # a colloquial paraphrase still leans on meaning
    assert serving.hits + serving.misses == before + 1


def _memo_kb(root: Path, fee: str) -> None:
    write_markdown(
        root / "apt.md",
        "apt",
        "人才公寓申请",
        f"## 申请方式\n登录江岸人才网提交人才公寓申请，审核通过后签订租赁合同。\n"
        f"## 租金\n人才公寓租金为每平方米每月{fee}元。",
    )
    write_markdown(root / "loan.md", "loan", "科技贷款贴息", "## 标准\n按贷款利息的50%给予贴息。")


def test_an_answer_asked_again_is_reused_until_the_knowledge_base_changes(
    tmp_path: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    _memo_kb(tmp_path / "kb", "20")
    settings = Settings(data_dir=tmp_path / "data")
    index = KnowledgeIndex.open(settings, embedder)
    assert Ingestor(index, progress=False).run([tmp_path / "kb"]).ok
    index.close()
    bot = Assistant(settings, embedder=embedder)
    try:
        q = "人才公寓租金多少钱"
        first = bot.ask(q)
        assert first.answered and "20元" in first.text and bot.memo.misses == 1
        again = bot.ask(q)
        assert bot.memo.hits == 1
        assert (again.text, again.sources) == (first.text, first.sources)
        # each turn is its own: its own session, and both questions are logged
        assert again.session_id != first.session_id and first.session_id
        assert bot.ask(q, session_id=first.session_id).session_id == first.session_id
        assert len(bot.questions.since(1)) == 3
        # a follow-up that rewrites to another question is another entry
        follow = bot.ask("申请方式呢", session_id=first.session_id)
        assert follow.question != "申请方式呢" and bot.memo.misses == 2

        # the document changes: the next answer is the new one
        _memo_kb(tmp_path / "kb", "25")
        index = KnowledgeIndex.open(settings, embedder)
        assert Ingestor(index, progress=False).run([tmp_path / "kb"]).ok
        index.close()
        bot.refresh()
        changed = bot.ask(q)
        assert "25元" in changed.text and "20元" not in changed.text
        hits = bot.memo.hits
        bot.ask(q)
        assert bot.memo.hits == hits + 1
        # a policy edit, and the next day, start afresh too (validity notices depend on them)
        bot.policy_edits.review("some-policy", "长期有效", "confirmed", "tester")
        bot.ask(q)
        assert bot.memo.hits == hits + 1

        class _Tomorrow:
            class date:  # noqa: N801 - stands in for datetime.date
                @staticmethod
                def today() -> object:
                    import datetime

                    return datetime.date.today() + datetime.timedelta(days=1)

        monkeypatch.setattr("bot.assistant.dt", _Tomorrow)
        bot.ask(q)
        assert bot.memo.hits == hits + 1
        bot.ask(q)
        assert bot.memo.hits == hits + 2
    finally:
        bot.close()


def test_the_answer_memo_can_be_turned_off(tmp_path: Path, embedder: Embedder) -> None:
    _memo_kb(tmp_path / "kb", "20")
    settings = Settings(data_dir=tmp_path / "data", answer_cache=0)
    index = KnowledgeIndex.open(settings, embedder)
    assert Ingestor(index, progress=False).run([tmp_path / "kb"]).ok
    index.close()
    bot = Assistant(settings, embedder=embedder)
    try:
        assert bot.ask("人才公寓租金多少钱").text == bot.ask("人才公寓租金多少钱").text
        assert bot.memo.hits == 0 and len(bot.memo) == 0
    finally:
        bot.close()
