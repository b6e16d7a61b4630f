"""`Assistant`: the in-process API — understand the turn, retrieve, answer with citations."""

from __future__ import annotations

import copy
import datetime as dt
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

import anyio

from bot.answering.aspects import plainly_asked, states_plainly
from bot.answering.extractive import CHECKED_ASPECTS, AnswerPolicy, ExtractiveAnswerer
from bot.answering.faq import FaqMatch
from bot.answering.focus import FocusChecker, abbreviation_expansions
from bot.answering.followup import llm_rewrite, rule_rewrite
from bot.answering.generation import Generated, GroundedGenerator
from bot.answering.guides import asked_fields, field_answer
from bot.answering.lexicon import load_lexicon
from bot.answering.matching import match_answer
from bot.config import Settings
from bot.embedding import Embedder, ServingEmbedder, make_embedder
from bot.errors import GenerationError
from bot.feedback import FeedbackStore
from bot.index import KnowledgeIndex
from bot.llm import ChatModel
from bot.models import Answer, Document, DocumentHit, Retrieval
from bot.policies.catalog import Catalog
from bot.policies.edits import PolicyEdits
from bot.policies.profile import describes_enterprise, extract
from bot.policies.validity import chinese_date
from bot.questionlog import QuestionLog
from bot.rerank import make_reranker
from bot.retrieval import HybridRetriever, RetrievalConfig
from bot.safety import SensitiveWordBook, SensitiveWords
from bot.sessions import SessionStore, Turn
from bot.text import normalize

log = logging.getLogger(__name__)

# Why a question was not answered, as staff read it in the hit test.
REFUSAL_REASONS_ZH = {
    "empty_index": "知识库为空",
    "unknown_terms": "问题中的英文术语在知识库中不存在",
    "unknown_doc_number": "问题中的文号不在知识库中",
    "other_place": "问题问的是其他地区",
    "weak_evidence": "知识库中没有足够相关的内容",
    "not_in_evidence": "引用的段落没有提到问题所问的事物",
    "aspect_not_stated": "引用的文档没有写明所问的方面（时限、收费、地点等）",
    "no_sentence": "没有可引用的句子",
    "llm_declined": "语言模型判断资料不足以回答",
    "no_policy_matched": "没有条件相符的现行政策",
    "sensitive_word": "问题含敏感词",
    "sensitive_answer": "回答含敏感词，已改为婉拒",
}
# mode of a turn refused for its content (a sensitive word, WeChat's content check): the
# question never reached retrieval or a language model
BLOCKED = "blocked"


def reason_zh(reason: str) -> str:
    """A refusal reason as staff read it: `sensitive_word:赌博` → 问题含敏感词：赌博."""
    code, _, detail = reason.partition(":")
    said = REFUSAL_REASONS_ZH.get(code, code)
    return f"{said}：{detail}" if detail else said


NOTICE_TITLE_CHARS = 20  # longer titles are named by their citation in the expiry notice
# reasons of the ordinary gate that no guide's field overrides
_NOT_ANSWERABLE = frozenset({"empty_index", "unknown_terms", "unknown_doc_number", "other_place"})
# An expired document ranks below a current one of the same kind or category when that one
# scores at least this share of it: asked about a topic, the policy in force answers.
CURRENT_PREFERENCE = 0.5


@dataclass
class StreamEvent:
    """One Server-Sent Event: `delta`, `reset`, `sources` or `done`."""

    name: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Prepared:
    """What a question's answer is computed from, before the turn is recorded: a finished
    answer (a policy match or an FAQ entry, `asked` is what the turn logs), or the retrieval
    and the extractive answer that the LLM, if any, words."""

    ready: Answer | None
    asked: str
    found: Retrieval | None = None
    extractive: Answer | None = None

    def copy(self) -> _Prepared:
        """A copy whose answers a turn may stamp (session id, question) without touching the
        remembered ones; the hits and sources are not changed after preparing, so are shared."""
        return _Prepared(
            copy.copy(self.ready) if self.ready else None,
            self.asked,
            copy.copy(self.found) if self.found else None,
            copy.copy(self.extractive) if self.extractive else None,
        )


class AnswerMemo:
    """Prepared answers of questions asked before (real traffic repeats: the insight page's
    top questions), a bounded LRU keyed by the exact question, its rewrite and category.

    An entry is valid for one *generation*: the live snapshot of documents (replaced whole on
    every ingest, upload, rollback or FAQ edit), the policy edits' version and the date
    (validity notices depend on today). When the generation changes, everything is dropped.
    Thread-safe; a miss computes outside the lock (two racing misses both compute, which is
    harmless)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._items: OrderedDict[tuple[str, str, str], _Prepared] = OrderedDict()
        self._generation: tuple[object, ...] = ()
        self.hits = self.misses = 0

    def get(self, key: tuple[str, str, str], generation: tuple[object, ...]) -> _Prepared | None:
        if not self.size:
            return None
        with self._lock:
            if not _same(generation, self._generation):
                self._items.clear()
                self._generation = generation
            item = self._items.get(key)
            if item is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return item.copy()

    def put(
        self, key: tuple[str, str, str], generation: tuple[object, ...], item: _Prepared
    ) -> None:
        if not self.size:
            return
        with self._lock:
            if not _same(generation, self._generation):
                return  # computed on a generation that has since been replaced
            self._items[key] = item.copy()
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


def _same(a: tuple[object, ...], b: tuple[object, ...]) -> bool:
    """Generations compare by identity of the snapshot (a dict compared by value would cost a
    walk over every document) and by value of the rest."""
    return len(a) == len(b) and bool(a) and a[0] is b[0] and a[1:] == b[1:]


def _faq_texts(match: FaqMatch) -> list[str]:
    doc = match.document
    return [doc.title, *doc.alternatives, doc.text]


def _pieces(text: str) -> list[str]:
    """An extractive answer streamed as a few deltas, sentence by sentence."""
    parts = [p for p in re.split(r"(?<=[。！？；\n])", text) if p]
    return parts or [text]


class Assistant:
    """Answers enterprise questions from the indexed knowledge base, citing its sources.

    >>> bot = Assistant(Settings(data_dir="data"))   # doctest: +SKIP
    >>> bot.ask("企业开办要几天？").text              # doctest: +SKIP
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        embedder: Embedder | None = None,
        retrieval: RetrievalConfig | None = None,
        llm: ChatModel | None = None,
        writer: bool = True,
    ) -> None:
        """`writer=False` for a process that only answers (`python -m bot`): it takes no
        lock on the embedded vector directory, so it runs beside the web server."""
        self.settings = settings or Settings()
        self.embedder = ServingEmbedder(embedder or make_embedder(self.settings.embedding))
        self.index = KnowledgeIndex.open(self.settings, self.embedder, writer=writer)
        self.index.check_embedder()
        self.retriever = HybridRetriever(
            self.index, retrieval, reranker=make_reranker(self.settings.reranker)
        )
        self.focus = FocusChecker(
            load_lexicon(self.settings.synonyms or None),
            self.retriever.document_share,
            titled=self.retriever.titled,
        )
        self.answerer = ExtractiveAnswerer(
            AnswerPolicy(
                min_coverage=self.settings.min_coverage,
                min_similarity=self.settings.min_similarity
                if self.settings.min_similarity is not None
                else self.index.embedder.answer_similarity,
                max_chars=self.settings.answer_max_chars,
                hotline=self.settings.hotline,
            ),
            focus=self.focus,
        )
        self.llm = llm or ChatModel.from_settings(self.settings)
        self.generator = GroundedGenerator(self.llm) if self.llm else None
        log.info(
            "answers: %s",
            f"LLM {self.llm.model} at {self.settings.llm_base_url}, extractive fallback"
            if self.llm
            else "extractive (no BOT_LLM_BASE_URL / BOT_LLM_MODEL)",
        )
        database = self.index.database
        self.records_health = database.health
        self.feedback = FeedbackStore(database)
        self.questions = QuestionLog(database, retention_days=self.settings.question_log_days)
        self.sessions = SessionStore(
            database,
            max_turns=self.settings.session_turns,
            idle_minutes=self.settings.session_idle_minutes,
        )
        self.policy_edits = PolicyEdits(self.index.database)
        self.catalog = Catalog(lambda: self.retriever.documents, self.policy_edits)
        self.memo = AnswerMemo(self.settings.answer_cache)
        self.sensitive_words = SensitiveWordBook(database)

    @property
    def safety(self) -> SensitiveWords:
        """The sensitive-word matcher in force (`check(text)`); replaced whole on a change."""
        return self.sensitive_words.matcher

    # --- one turn, whole answer ------------------------------------------------------
    def ask(
        self, question: str, *, session_id: str | None = None, category: str | None = None
    ) -> Answer:
        """Answer one question; `answered` is False when the knowledge base does not cover it.

        A question with a sensitive word gets a polite refusal (mode `blocked`) before
        anything else happens; so does an answer with one."""
        verdict = self.safety.check(question)
        if verdict is not None:
            return self.refuse(
                question, session_id=session_id, reason=f"sensitive_word:{verdict.word}"
            )
        sid, history = self._session(session_id)
        standalone = self._standalone(question, history)
        prepared = self._prepare(question, standalone, category)
        if prepared.ready is not None:
            return self._finish(question, sid, prepared.asked, self._screened(prepared.ready))
        found, extractive = prepared.found, prepared.extractive
        assert found is not None and extractive is not None
        answer = extractive
        if self._generates(extractive, found):
            assert self.generator is not None
            try:
                answer = self._from_generated(
                    self.generator.generate(standalone, found.hits), standalone, found, extractive
                )
            except GenerationError as exc:
                log.warning("LLM unavailable (%s); answering extractively", exc.message)
        return self._finish(question, sid, standalone, self._screened(answer))

    # --- one turn, streamed ----------------------------------------------------------
    async def stream(
        self, question: str, *, session_id: str | None = None, category: str | None = None
    ) -> AsyncGenerator[StreamEvent, None]:
        """The answer as events: `delta`… then `sources`, then `done`.

        A `reset` event (clear what was shown) precedes the extractive answer when the
        LLM fails after it started writing, and the refusal when the LLM's answer turns out
        to hold a sensitive word. Closing the iterator (a client that went away) cancels
        the LLM request. A question with a sensitive word gets the refusal at once.
        """
        verdict = self.safety.check(question)
        if verdict is not None:
            refused = await anyio.to_thread.run_sync(
                lambda: self.refuse(
                    question, session_id=session_id, reason=f"sensitive_word:{verdict.word}"
                )
            )
            for event in self._refusal_events(refused):
                yield event
            return
        sid, history = await anyio.to_thread.run_sync(self._session, session_id)
        standalone = await anyio.to_thread.run_sync(self._standalone, question, history)
        prepared = await anyio.to_thread.run_sync(self._prepare, question, standalone, category)
        ready = prepared.ready
        if ready is not None:
            ready = self._screened(ready)
            for piece in _pieces(ready.text):
                yield StreamEvent("delta", {"text": piece})
            yield StreamEvent("sources", {"sources": [s.public() for s in ready.sources]})
            yield self._done(await self._finish_async(question, sid, prepared.asked, ready))
            return
        found, extractive = prepared.found, prepared.extractive
        assert found is not None and extractive is not None
        answer = extractive
        if self._generates(extractive, found):
            assert self.generator is not None
            shown = ""
            try:
                async with aclosing(self.generator.stream(standalone, found.hits)) as items:
                    async for item in items:
                        if isinstance(item, Generated):
                            if item.declined and shown:
                                yield StreamEvent("reset", {})
                            item.text = shown
                            answer = self._from_generated(item, standalone, found, extractive)
                            break
                        shown += item
                        yield StreamEvent("delta", {"text": item})
            except GenerationError as exc:
                log.warning("LLM unavailable (%s); answering extractively", exc.message)
                answer = extractive
                if shown:
                    yield StreamEvent("reset", {})
        streamed = answer.mode == "llm" and answer.answered  # its text was sent as deltas
        answer = self._screened(answer)
        if streamed and answer.mode == BLOCKED:
            yield StreamEvent("reset", {})
            streamed = False
        if not streamed:
            for piece in _pieces(answer.text):
                yield StreamEvent("delta", {"text": piece})
        yield StreamEvent("sources", {"sources": [s.public() for s in answer.sources]})
        yield self._done(await self._finish_async(question, sid, standalone, answer))

    # --- steps ---------------------------------------------------------------------
    def _session(self, session_id: str | None) -> tuple[str, list[Turn]]:
        if not self.sessions.valid_id(session_id):
            return self.sessions.new_id(), []
        assert session_id is not None
        return session_id, self.sessions.history(session_id)

    def _prepare(self, question: str, standalone: str, category: str | None) -> _Prepared:
        """A policy match, an FAQ answer, or the retrieval and extractive answer — from the
        memo when the same question was prepared on the same knowledge base today."""
        key = (question, standalone, category or "")
        generation = self._generation()
        prepared = self.memo.get(key, generation)
        if prepared is not None:
            return prepared
        matched = self._match(question)
        if matched is not None:
            prepared = _Prepared(matched, question)
        else:
            faq = self._faq(standalone, category)
            if faq is not None:
                prepared = _Prepared(faq, standalone)
            else:
                found, extractive = self._retrieve(standalone, category)
                prepared = _Prepared(None, standalone, found, extractive)
        self.memo.put(key, generation, prepared)
        return prepared

    def _generation(self) -> tuple[object, ...]:
        """What every prepared answer depends on besides the question (see `AnswerMemo`)."""
        return (self.retriever.documents, self.policy_edits.version, dt.date.today())

    def _standalone(self, question: str, history: list[Turn]) -> str:
        if not history:
            return question
        if self.llm is not None:
            return llm_rewrite(self.llm, question, history)
        return rule_rewrite(question, history, self.focus.lexicon)

    def match_faq(self, question: str, category: str | None = None) -> FaqMatch | None:
        """The FAQ entry the question closely matches, whose text speaks about its focus and,
        for a plainly checkable aspect (time, fee, place, hours …), states it."""
        terms = self.focus.terms(question)
        checked = plainly_asked(normalize(question)) & (CHECKED_ASPECTS | {"online", "amount"})

        def accept(match: FaqMatch) -> bool:
            if not self.focus.check(terms, _faq_texts(match)).passed:
                return False
            # an aspect the entry's own question asks is what staff answered; another one
            # (周六 against an entry about parking) must be in the entry's answer
            other = checked - plainly_asked(normalize(match.phrasing))
            return not other or any(states_plainly(a, match.document.text) for a in other)

        return self.retriever.match_faq(question, category, accept)

    def _faq(self, question: str, category: str | None) -> Answer | None:
        """A staff-written answer when the question closely matches an FAQ entry."""
        match = self.match_faq(question, category)
        if match is None:
            return None
        found = self._search(question, self.settings.top_k, category)
        check = self.focus.check(self.focus.terms(question), _faq_texts(match))
        return self.answerer.from_faq(match, found, check)

    def _match(self, question: str) -> Answer | None:
        """Policies for an enterprise that describes itself (我们是…的软件公司，能申请哪些补贴)."""
        profile = extract(question)
        if not describes_enterprise(question, profile) or not self.catalog.policies():
            return None
        return match_answer(profile, self.catalog, self.settings.hotline)

    def _retrieve(self, question: str, category: str | None) -> tuple[Retrieval, Answer]:
        found = self._prefer_current(
            question, self._search(question, self.settings.top_k, category)
        )
        return found, self._answer_found(question, found)

    def _answer_found(self, question: str, found: Retrieval) -> Answer:
        """A guide's asked field when the question asks one, else the extractive answer."""
        answer = None
        fields = asked_fields(question)
        guides = {s.doc_id: s for s in self.catalog.services()} if fields else {}
        # the gate of the ordinary path first (上海浦东新区的人才公寓 is not 江岸's guide); only
        # for a question that asks a guide's field, as the ordinary path runs it again
        if guides and self.answerer.uncovered_reason(question, found) not in _NOT_ANSWERABLE:
            answer = field_answer(question, found, guides, self.focus, fields)
        return self._with_terms(answer or self._about_expired(question, found))

    def _about_expired(self, question: str, found: Retrieval) -> Answer:
        """The extractive answer; but when the question is about an expired policy (it ranks
        first and has more of the question's subject than the document the answer would
        quote), the answer comes from that policy, so that it is said to have expired."""
        answer = self._answer(question, found)
        if not found.hits or not self.catalog.expired(found.hits[0].document.doc_id):
            return answer
        top = found.hits[0].document
        cited = answer.sources[0].doc_id if answer.answered and answer.sources else ""
        if cited == top.doc_id:
            return answer
        terms = self.focus.terms(question)

        def coverage(d: Document) -> float:
            return self.focus.check(terms, [d.title, d.text], d.text).coverage if terms else 1.0

        other = next((h.document for h in found.hits if h.document.doc_id == cited), None)
        if other is not None and coverage(other) >= coverage(top) - 1e-9:
            return answer
        only = copy.copy(found)
        only.hits = [h for h in found.hits if h.document.doc_id == top.doc_id]
        alone = self._answer(question, only)
        return alone if alone.answered else answer

    def _generates(self, extractive: Answer, found: Retrieval) -> bool:
        """Whether the LLM words the answer: not for a guide's field (quoted whole) nor for an
        expired document (the answer must say so first)."""
        return (
            self.generator is not None
            and extractive.answered
            and extractive.mode == "extractive"
            and not (extractive.sources and self.catalog.expired(extractive.sources[0].doc_id))
        )

    def _prefer_current(self, question: str, found: Retrieval) -> Retrieval:
        """Expired documents below the current ones on the same topic: the same kind or
        category, and the current one has as much of the question's subject as the expired
        one (an award does not replace the expired rent subsidy that was asked about)."""
        hits = list(found.hits)
        expired = [self.catalog.expired(h.document.doc_id) for h in hits]
        if not any(expired):
            return found
        terms = self.focus.terms(question)

        covered: dict[str, float] = {}  # each document checked once

        def coverage(hit: DocumentHit) -> float:
            d = hit.document
            if d.doc_id not in covered:
                covered[d.doc_id] = (
                    self.focus.check(terms, [d.title, d.text], d.text).coverage if terms else 1.0
                )
            return covered[d.doc_id]

        def same_topic(a: DocumentHit, b: DocumentHit) -> bool:
            da, db = a.document, b.document
            return (
                (da.kind == db.kind == "policy") or bool(da.category and da.category == db.category)
            ) and coverage(b) >= coverage(a) - 1e-9

        order = list(range(len(hits)))
        for i in [i for i in order if expired[i]]:
            pos = order.index(i)
            later = [
                n
                for n, j in enumerate(order)
                if n > pos
                and not expired[j]
                and hits[j].score >= CURRENT_PREFERENCE * hits[i].score
                and same_topic(hits[i], hits[j])
            ]
            if later:
                order.insert(later[-1], order.pop(pos))
        found.hits = [hits[j] for j in order]
        return found

    def _with_terms(self, answer: Answer) -> Answer:
        """Sources carry their validity; an answer citing an expired policy says so first."""
        for s in answer.sources:
            term = self.catalog.term(s.doc_id)
            s.valid_until = term.valid_until
            s.expired = term.status() == "expired"
        if not answer.answered or not answer.sources:
            return answer
        first = answer.sources[0]
        term = self.catalog.term(first.doc_id)
        state = term.status()
        # a long official title is in the citation card already; the notice stays one line
        name = f"《{first.title}》" if len(first.title) <= NOTICE_TITLE_CHARS else "该文件[1]"
        if state == "expired":
            until = chinese_date(term.valid_until)
            said = (
                f"据正文，有效期至{until}，待工作人员确认"
                if term.source == "text"
                else f"有效期至{until}，已到期"
            )
            contact = f"（电话 {first.contact}）" if first.contact else ""
            answer.text = (
                f"注意：{name}已失效（{said}），以下仅供参考；现行政策请咨询"
                f"{first.department or '主管部门'}{contact}：\n" + answer.text
            )
        elif state == "pending":
            read = "（据正文所载，待工作人员确认）" if term.source == "text" else ""
            answer.text = (
                f"注意：{name}自{chinese_date(term.valid_from)}起施行，目前尚未生效{read}。\n"
                + answer.text
            )
        return answer

    def _search(self, question: str, k: int, category: str | None = None) -> Retrieval:
        """Retrieval, with the full terms of the question's abbreviations added to its words
        (高企 → 高新技术企业: a word no document and no dictionary has)."""
        texts = self.retriever.normalized_texts
        also = []
        for term in self.focus.terms(question):
            if term.unknown and len(term.word) <= 3:
                also.extend(abbreviation_expansions(term.word, term.around, texts)[:1])
        return self.retriever.search(question, k=k, category=category, also=" ".join(also))

    def _from_generated(
        self, generated: Generated, question: str, found: Retrieval, basis: Answer
    ) -> Answer:
        """The LLM's answer; `basis` is the extractive answer whose evidence passed the gate."""
        if generated.declined:
            refusal = self.answerer.refuse(question, found, "weak_evidence")
            refusal.mode = "llm"
            refusal.refusal_reason = "llm_declined"
            return refusal
        return Answer(
            text=generated.text,
            answered=True,
            sources=generated.sources,
            retrieved=found.hits,
            mode="llm",
            confidence=basis.confidence,
            evidence=basis.evidence,
        )

    # --- content safety ----------------------------------------------------------------
    def refusal_text(self) -> str:
        """What a user is told when a question or answer is refused for its content; it
        never names what matched."""
        return (
            "抱歉，这个问题不在本助手的服务范围内。"
            f"如需咨询企业办事和惠企政策，请拨打{self.settings.hotline}。"
        )

    def refuse(self, question: str, *, session_id: str | None = None, reason: str) -> Answer:
        """The polite refusal for a question refused for its content (a sensitive word,
        `msg_sec_check:risky` from WeChat …), logged with `reason` for staff; nothing is
        retrieved and no language model is asked. The turn stays out of the session's
        history, so it does not steer the follow-ups."""
        sid = session_id if session_id and self.sessions.valid_id(session_id) else None
        answer = Answer(
            text=self.refusal_text(),
            answered=False,
            sources=[],
            contact=self.settings.hotline,
            mode=BLOCKED,
            refusal_reason=reason,
        )
        log.info("question refused (%s)", reason.partition(":")[0])
        return self._finish(question, sid or self.sessions.new_id(), question, answer)

    def _screened(self, answer: Answer) -> Answer:
        """The answer, or the refusal when its text holds a sensitive word that the passages
        it was drawn from do not: the district's own documents may name what they regulate
        (税务机关代开发票, 打击赌博), an answer may not add such a word (a language model's)."""
        verdict = self.safety.check(answer.text)
        if verdict is None:
            return answer
        evidence = "\n".join(c.text for hit in answer.retrieved for c in hit.chunks)
        verdict = self.safety.check(answer.text, besides=self.safety.found(evidence))
        if verdict is None:
            return answer
        log.warning("answer withheld: it holds a sensitive word (see the question log)")
        return Answer(
            text=self.refusal_text(),
            answered=False,
            sources=[],
            contact=self.settings.hotline,
            mode=BLOCKED,
            refusal_reason=f"sensitive_answer:{verdict.word}",
        )

    @staticmethod
    def _refusal_events(answer: Answer) -> list[StreamEvent]:
        return [
            StreamEvent("delta", {"text": answer.text}),
            StreamEvent("sources", {"sources": []}),
            Assistant._done(answer),
        ]

    def _finish(self, question: str, sid: str, standalone: str, answer: Answer) -> Answer:
        answer.session_id = sid
        answer.question = standalone
        # the question-log row and the session turn: both kept or neither (RecordsUnavailableError)
        with self.index.database.transaction() as conn:
            if self.settings.question_log_days:
                self.questions.write(
                    conn,
                    question,
                    standalone,
                    answer.answered,
                    answer.mode,
                    answer.sources[0].doc_id if answer.sources else "",
                    sid,
                    confidence=round(answer.confidence, 3) if answer.answered else None,
                    reason=answer.refusal_reason,
                )
            # a refused turn is not history: a follow-up is read against the turns before it
            if self.settings.session_turns and answer.mode != BLOCKED:
                self.sessions.write(
                    conn,
                    sid,
                    Turn(
                        question,
                        standalone,
                        answer.text,
                        answer.answered,
                        tuple(s.doc_id for s in answer.sources),
                    ),
                )
        return answer

    async def _finish_async(
        self, question: str, sid: str, standalone: str, answer: Answer
    ) -> Answer:
        return await anyio.to_thread.run_sync(self._finish, question, sid, standalone, answer)

    @staticmethod
    def _done(answer: Answer) -> StreamEvent:
        return StreamEvent(
            "done",
            {
                "answered": answer.answered,
                "mode": answer.mode,
                "session_id": answer.session_id,
                "answer": answer.text,
                "contact": answer.contact,
                "service": answer.service,
                "matches": answer.matches,
            },
        )

    # --- for staff ------------------------------------------------------------------
    def hit_test(self, question: str, k: int = 5) -> dict[str, Any]:
        """What the assistant would retrieve and answer for a question, with scores a person can
        read: how much of the question's focus and asked aspect the quoted passage covers, which
        section it comes from, each document's relevance (0–100, the best is 100) and term
        coverage (nothing is logged)."""
        found = self._prefer_current(question, self._search(question, k))
        match = self.match_faq(question)
        nearest = match or self.retriever.nearest_faq(question)
        if match:
            check = self.focus.check(self.focus.terms(question), _faq_texts(match))
            answer = self.answerer.from_faq(match, found, check)
        else:
            answer = self._answer_found(question, found)
        top_score = found.hits[0].score if found.hits else 0.0
        evidence = answer.evidence.public() if answer.evidence is not None else None
        blocked = self.safety.check(question)
        terms = self.focus.terms(question)
        return {
            "question": question,
            # a real user asking this gets the refusal: nothing below is reached
            "sensitive_word": blocked.word if blocked else None,
            "answered": answer.answered,
            "mode": answer.mode,
            "answer": answer.text,
            "refusal_reason": "" if answer.answered else answer.refusal_reason,
            "refusal_reason_zh": ""
            if answer.answered
            else REFUSAL_REASONS_ZH.get(answer.refusal_reason, answer.refusal_reason),
            "confidence": round(answer.confidence, 3),
            "evidence": evidence,
            "focus_terms": [
                {
                    "word": t.word,
                    "decisive": t.decisive,
                    "subject": t.head,
                    "generic": t.generic,
                }
                for t in terms
            ],
            "faq": None
            if nearest is None
            else {
                "doc_id": nearest.document.doc_id,
                "question": nearest.document.title,
                "phrasing": nearest.phrasing,
                "similarity": round(nearest.similarity, 4),
                "overlap": round(nearest.overlap, 4),
                "score": round(nearest.score, 4),
                "matched": match is not None,
            },
            "top_similarity": round(found.top_similarity, 4),
            "similarity_gap": round(found.similarity_gap, 4),
            "hits": [
                {
                    "rank": rank,
                    "doc_id": hit.document.doc_id,
                    "title": hit.document.title,
                    "kind": hit.document.kind,
                    "category": hit.document.category,
                    "score": round(hit.score, 6),
                    "relevance": round(100 * hit.score / top_score) if top_score else 0,
                    "coverage": round(hit.coverage, 4),
                    "cited": bool(answer.answered and answer.sources)
                    and answer.sources[0].doc_id == hit.document.doc_id,
                    "chunks": [
                        {
                            "chunk_id": chunk.chunk_id,
                            "section": chunk.section,
                            "text": chunk.text,
                            "bm25": round(bm25, 4),
                            "similarity": None if sim is None else round(sim, 4),
                        }
                        for chunk, (bm25, sim) in zip(hit.chunks, hit.chunk_scores, strict=True)
                    ],
                }
                for rank, hit in enumerate(found.hits, start=1)
            ],
        }

    def _answer(self, question: str, found: Retrieval) -> Answer:
        return self.answerer.answer(question, found, self.retriever.term_weight)

    # --- upkeep --------------------------------------------------------------------
    def refresh(self) -> None:
        """Pick up what changed since start-up: documents ingested, uploaded or edited (here
        or on another replica: bot/watch.py), policy edits and the sensitive-word list."""
        self.policy_edits.reload()
        self.sensitive_words.reload()
        self.retriever.refresh()

    @property
    def stats(self) -> tuple[int, int]:
        return self.retriever.document_count, self.retriever.chunk_count

    async def aclose(self) -> None:
        """`close()` for async hosts: also closes the streaming LLM client."""
        if self.llm is not None:
            await self.llm.aclose()
        self.close()

    def close(self) -> None:
        if self.llm is not None:
            self.llm.close()
        self.index.close()
        self.embedder.close()
