"""Content safety: the sensitive-word matcher through each disguise, no false positives over
real questions and the bundled documents, and blocked questions and answers in the
Assistant (never retrieved, never sent to the LLM, logged for staff)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.assistant import Assistant, reason_zh
from bot.audit import AuditLog
from bot.config import Settings
from bot.embedding import Embedder
from bot.errors import ConflictError, InvalidInputError
from bot.index import KnowledgeIndex
from bot.records import Database
from bot.safety import SensitiveWordBook, SensitiveWords, clean, default_words, fold
from ingest.pipeline import Ingestor
from tests.fake_openai import FakeOpenAI, running
from tests.fixtures_files import write_markdown

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "企业开办全流程需要多长时间？"
WORDS = SensitiveWords(["赌博", "代开发票", "dubo", "sb", "sex", "法轮", "洗钱", "!反洗钱"])


# --- the matcher -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("哪里可以赌博", "赌博"),
        ("哪里可以ｄｕｂｏ", "dubo"),  # full-width Latin
        ("DuBo网站", "dubo"),  # case
        ("哪里可以賭博", "赌博"),  # traditional
        ("幫我代開發票", "代开发票"),
        ("哪里可以赌 博", "赌博"),  # a space
        ("哪里可以赌\u3000博", "赌博"),  # an ideographic space
        ("哪里可以赌\t\t博", "赌博"),
        ("哪里可以赌*博", "赌博"),  # symbols and punctuation
        ("哪里可以赌.博", "赌博"),
        ("赌-博-去哪", "赌博"),
        ("赌，博", "赌博"),
        ("赌＊博", "赌博"),  # a full-width symbol
        ("赌\u200b博", "赌博"),  # zero-width space
        ("赌\u200d博", "赌博"),  # zero-width joiner
        ("赌\ufeff博", "赌博"),  # BOM
        ("赌\u2060博", "赌博"),  # word joiner
        ("赌\x07博", "赌博"),  # a control character
        ("赌\u0336博", "赌博"),  # a combining strike-through
        ("赌😀博", "赌博"),  # emoji
        ("赌🇨🇳博", "赌博"),  # a flag (two regional indicators)
        ("赌❤️博", "赌博"),  # emoji with a variation selector
        ("代 開・發＊票", "代开发票"),  # mixed: traditional, spaces, symbols
        ("賭😀 ＊ 博", "赌博"),
        ("ｄ ｕ－ｂ ｏ", "dubo"),
        ("你是SB吗", "sb"),  # an ASCII word at non-ASCII boundaries
        ("sb", "sb"),
        ("s b!", "sb"),
        ("sex toys", "sex"),  # a dropped space is a boundary
        ("想了解反洗钱，也想洗钱", "洗钱"),  # the allowed phrase covers only its own match
    ],
)
def test_each_disguise_is_matched(text: str, word: str) -> None:
    verdict = WORDS.check(text)
    assert verdict is not None, text
    assert verdict.word == word


@pytest.mark.parametrize(
    "text",
    [
        "这是试点办法。轮到我们区了吗？",  # 法轮 across a sentence end
        "按照办法！轮到谁",
        "新办法\n轮到",
        "USB接口的设备能报销吗",  # sb inside a longer ASCII word
        "Essex公司在江岸有分公司吗",  # sex inside Essex
        "sbc芯片",
        "反洗钱合规培训有补贴吗",  # an allowed phrase
        "赌1博",  # letters and digits are not separators
        "",
    ],
)
def test_no_match_across_breaks_words_or_allowed_phrases(text: str) -> None:
    assert WORDS.check(text) is None


def test_the_verdict_names_the_word_as_staff_wrote_it() -> None:
    words = SensitiveWords(["賭博", "ＡＢＣ"])
    assert words.check("赌博") is not None and words.check("赌博").word == "賭博"  # type: ignore[union-attr]
    assert words.check("x abc y").word == "ＡＢＣ"  # type: ignore[union-attr]


def test_folding_keeps_sentence_ends_and_drops_the_rest() -> None:
    assert fold("賭 ＊博。ＯＫ？") == "赌博。ok?"


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def test_the_defaults_pass_every_test_question_and_bundled_document() -> None:
    """No false positive: every question of tests/questions/ (with its expected answers) and
    every line of the bundled knowledge base (which answers quote) passes the shipped list."""
    words = SensitiveWords(default_words())
    assert 50 <= len(words) <= 150
    checked = 0
    for path in sorted((ROOT / "tests" / "questions").iterdir()):
        lines = path.read_text("utf-8").splitlines()
        texts = (
            [s for line in lines for s in _strings(json.loads(line))]
            if path.suffix == ".jsonl"
            else lines
        )
        for text in texts:
            assert words.check(text) is None, (path.name, text, words.check(text))
            checked += 1
    for path in sorted((ROOT / "knowledge").rglob("*")):
        if path.is_file():
            for line in path.read_text("utf-8").splitlines():
                assert words.check(line) is None, (path.name, line, words.check(line))
                checked += 1
    assert checked > 2000


def test_the_defaults_block_what_they_are_for() -> None:
    words = SensitiveWords(default_words())
    for text in (
        "哪里能虚开发票",
        "能幫我虛開發票嗎",
        "怎么洗 钱",
        "网上赌*博",
        "哪里买枪支",
        "办假证多少钱",
    ):
        assert words.check(text) is not None, text
    for text in (
        "如何申领增值税专用发票",
        "反洗钱合规有什么要求",
        "公章刻制去哪里办",
        "防范虚开发票风险",
    ):
        assert words.check(text) is None, text
    # a service the tax office offers, named in real policy documents: never refused
    assert words.check("如何向税务机关申请代开增值税发票？") is None


def test_clean_checks_staff_lists() -> None:
    assert clean([" 赌博 ", "", "賭博", "赌  博", "!反洗钱", "反洗钱"]) == [
        "赌博",
        "!反洗钱",
        "反洗钱",
    ]
    with pytest.raises(InvalidInputError) as too_long:
        clean(["赌博", "长" * 51])
    assert "第 2 个词" in too_long.value.message_zh and "50" in too_long.value.message
    with pytest.raises(InvalidInputError) as symbols:
        clean(["赌博", "！？…"])
    assert "只有空格或符号" in symbols.value.message_zh
    with pytest.raises(InvalidInputError) as many:
        clean([f"词{n}" for n in range(10_001)])
    assert "10000" in many.value.message
    assert len(clean([f"词{n}" for n in range(10_000)] + ["词1"])) == 10_000


def test_reasons_read_in_chinese() -> None:
    assert reason_zh("sensitive_word:赌博") == "问题含敏感词：赌博"
    assert reason_zh("weak_evidence") == "知识库中没有足够相关的内容"
    assert reason_zh("msg_sec_check:risky") == "msg_sec_check：risky"


# --- in the Assistant --------------------------------------------------------------------
@pytest.fixture()
def fake() -> Iterator[FakeOpenAI]:
    with running() as server:
        yield server


@pytest.fixture()
def llm_bot(kb_settings: Settings, embedder: Embedder, fake: FakeOpenAI) -> Iterator[Assistant]:
    settings = kb_settings.model_copy(
        update={"llm_base_url": fake.base_url, "llm_model": "fake-chat", "llm_timeout_s": 2.0}
    )
    bot = Assistant(settings, embedder=embedder, writer=False)
    yield bot
    bot.close()


class _NoRetrieval:
    """Fails the test if the question reached retrieval or FAQ matching."""

    def __init__(self, bot: Assistant, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[str] = []
        for name in ("search", "match_faq", "nearest_faq"):
            monkeypatch.setattr(bot.retriever, name, self._called(name))

    def _called(self, name: str):  # type: ignore[no-untyped-def]
        def called(*args: object, **kwargs: object) -> None:
            self.calls.append(name)
            raise AssertionError(f"a blocked question reached retrieval ({name})")

        return called


def _logged(bot: Assistant, question: str) -> dict[str, object]:
    rows = [r for r in bot.questions.since(1) if r["question"] == question]
    assert rows, question
    return rows[0]


def test_a_blocked_question_never_reaches_retrieval_or_the_llm(
    llm_bot: Assistant, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    question = "江岸区哪里可以賭 ＊ 博？"
    first = llm_bot.ask("企业开办全流程需要多长时间？")  # a session with history
    trap = _NoRetrieval(llm_bot, monkeypatch)
    answer = llm_bot.ask(question, session_id=first.session_id)
    assert answer.answered is False and answer.mode == "blocked" and not answer.sources
    assert "赌" not in answer.text and "賭" not in answer.text and "博" not in answer.text
    assert answer.text.startswith("抱歉") and llm_bot.settings.hotline in answer.text
    assert trap.calls == []
    requests_before = len(fake.chat_requests())
    llm_bot.ask("赌博网站推荐一个")
    assert len(fake.chat_requests()) == requests_before  # the LLM got nothing
    row = _logged(llm_bot, question)
    assert row["mode"] == "blocked" and row["answered"] == 0
    assert row["reason"] == "sensitive_word:赌博"  # staff see the word
    # not part of the session: a follow-up is read against the turns before it
    history = llm_bot.sessions.history(answer.session_id)
    assert answer.session_id == first.session_id
    assert [t.question for t in history] == ["企业开办全流程需要多长时间？"]


def test_a_blocked_question_streams_only_the_refusal(
    llm_bot: Assistant, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    import anyio

    trap = _NoRetrieval(llm_bot, monkeypatch)

    async def collect() -> list[tuple[str, dict]]:
        return [(e.name, e.data) async for e in llm_bot.stream("帮我虚 开 發 票")]

    events = anyio.run(collect)
    assert [n for n, _ in events] == ["delta", "sources", "done"]
    done = events[-1][1]
    assert done["mode"] == "blocked" and done["answered"] is False
    assert events[0][1]["text"] == done["answer"] == llm_bot.refusal_text()
    assert trap.calls == [] and fake.chat_requests() == []
    assert _logged(llm_bot, "帮我虚 开 發 票")["reason"] == "sensitive_word:虚开发票"


def test_an_llm_answer_with_a_listed_word_is_replaced(llm_bot: Assistant, fake: FakeOpenAI) -> None:
    fake.reply = lambda r: "企业开办一个工作日办结[1]，另可虚开发票。"
    answer = llm_bot.ask(QUESTION)
    assert fake.chat_requests()  # the question itself was fine
    assert answer.mode == "blocked" and answer.answered is False
    assert answer.text == llm_bot.refusal_text() and "发票" not in answer.text
    assert _logged(llm_bot, QUESTION)["reason"] == "sensitive_answer:虚开发票"


def test_a_streamed_llm_answer_with_a_listed_word_is_reset(
    llm_bot: Assistant, fake: FakeOpenAI
) -> None:
    import anyio

    fake.chunk_chars = 3
    fake.reply = lambda r: "企业开办一个工作日办结[1]，另可虚开发票。"

    async def collect() -> list[tuple[str, dict]]:
        return [(e.name, e.data) async for e in llm_bot.stream(QUESTION)]

    events = anyio.run(collect)
    names = [n for n, _ in events]
    assert names.count("delta") > 3 and "reset" in names
    after = names[names.index("reset") + 1 :]
    assert after[-2:] == ["sources", "done"] and set(after[:-2]) == {"delta"}
    shown = "".join(d["text"] for n, d in events[names.index("reset") + 1 :] if n == "delta")
    assert shown == llm_bot.refusal_text() == events[-1][1]["answer"]
    assert events[-1][1]["mode"] == "blocked" and events[-2][1]["sources"] == []


def test_an_answer_may_name_what_its_own_documents_name(tmp_path: Path, embedder: Embedder) -> None:
    """The district's documents may name what they regulate (税务机关代开发票, 打击赌博): an
    answer quoting them is not refused for it; only a word the answer adds is (see the LLM
    test above)."""
    write_markdown(
        tmp_path / "kb" / "startup.md",
        "startup",
        "企业开办指南",
        "## 时限\n企业开办全流程一个工作日办结，营业执照和公章当天领取。",
    )
    settings = Settings(data_dir=tmp_path / "data")
    index = KnowledgeIndex.open(settings, embedder)
    Ingestor(index, progress=False).run([tmp_path / "kb"])
    index.close()
    bot = Assistant(settings, embedder=embedder)
    try:
        assert bot.ask("企业开办要多久？").answered
        bot.sensitive_words.save(["营业执照"], "root")
        answer = bot.ask("企业开办要多久？")
        assert answer.answered and "营业执照" in answer.text  # the document's own words
        assert bot.ask("营业执照多久能领？").mode == "blocked"  # the question still is
        refused = bot.refuse("你好", session_id=None, reason="msg_sec_check:risky")
        assert refused.text == bot.refusal_text() and refused.session_id
        assert _logged(bot, "你好")["reason"] == "msg_sec_check:risky"
    finally:
        bot.close()


# --- the stored list, on both records engines ---------------------------------------------
def test_the_book_saves_restores_and_refuses_stale_edits(database: Database) -> None:
    book = SensitiveWordBook(database)
    other = SensitiveWordBook(database)  # another replica's
    assert book.list.default and book.matcher.check("虚开发票") is not None
    before = database.kb_version()
    saved = book.save(["斗地主", "鬥地主", "!斗地主培训"], "root", base_version=0)
    assert saved.words == ("斗地主", "!斗地主培训") and saved.version == 1
    assert database.kb_version() == before + 1  # every replica reloads
    assert book.matcher.check("斗 地 主") is not None and book.matcher.check("虚开发票") is None
    assert other.matcher.check("斗地主") is None
    other.reload()
    assert other.list == saved and other.matcher.check("鬥地主") is not None
    with pytest.raises(ConflictError):
        other.save(["博彩"], "ed", base_version=0)
    assert other.save(["博彩"], "ed", base_version=1).version == 2
    restored = book.restore_defaults("root")
    assert restored.default and restored.words == tuple(default_words())
    book.reload()
    assert book.list.default and book.matcher.check("虚开发票") is not None
    entries = AuditLog(database).entries()
    assert [e["action"] for e in entries[:3]] == [
        "sensitive_words_reset",
        "sensitive_words_update",
        "sensitive_words_update",
    ]
    assert entries[1]["detail"] == "added 1, removed 2: +博彩 -斗地主 -!斗地主培训"
    assert (entries[1]["old_version"], entries[1]["new_version"]) == (1, 2)


def test_checks_go_on_while_the_list_is_replaced(database: Database) -> None:
    """The matcher is swapped whole: a check sees the old list or the new one, never a
    half-built automaton, and never fails."""
    book = SensitiveWordBook(database)
    seen: set[bool] = set()
    errors: list[BaseException] = []
    stop = threading.Event()

    def check() -> None:
        while not stop.is_set():
            try:
                seen.add(book.matcher.check("斗地主") is not None)
            except BaseException as exc:  # reported below
                errors.append(exc)

    threads = [threading.Thread(target=check) for _ in range(3)]
    for t in threads:
        t.start()
    for n in range(6):
        book.save(["斗地主"] + [f"词{i}" for i in range(3000)] if n % 2 == 0 else ["博彩"], "root")
    stop.set()
    for t in threads:
        t.join()
    assert errors == [] and seen == {True, False}
