"""Extractive answers: a cited window of the best-matching document, or a polite refusal."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.answering.faq import FaqMatch
from bot.models import Answer, DocumentHit, Retrieval, Source
from bot.places import foreign_places
from bot.text import (
    bigram_set,
    join_sentences,
    normalize,
    sections,
    split_sentences,
    strip_question_words,
)

_NUMBER_CUE = re.compile(
    r"多少|几|多久|多长|金额|比例|期限|时限|何时|什么时候|哪一天|日期|标准|额度|补贴|奖励"
)
_LIST_CUE = re.compile(r"哪些|什么材料|哪几|条件|流程|步骤|材料|措施|方面")
_HAS_NUMBER = re.compile(r"[0-9０-９]|[一二三四五六七八九十百千万亿两]+[个天日年月元%万倍家项]")
_PLACE_CUE = re.compile(r"哪里|哪儿|在哪|什么地方|什么位置|地址|位置|哪条路|怎么走")
_HAS_ADDRESS = re.compile(r"\d+号|[路街道]\d|大道|大厦|大楼|广场|园区|[0-9一二三四五六七八九十]+楼")
_MARKER = re.compile(r"\[\d+\]")
# A sentence that opens by pointing back ("当日，…", "此外，…") needs the one before it.
_BACK_REFERENCE = re.compile(
    r"^(当日|当天|同日|次日|此前|此后|此外|其中|对此|为此|同时|另外|上述|这些|该)"
)


@dataclass(frozen=True)
class AnswerPolicy:
    """When to answer, and how long an answer may be (thresholds: docs/EVALUATION.md)."""

    # Answer when the best document contains this IDF-weighted share of the question's terms …
    min_coverage: float = 0.6
    # … or when the nearest passage is this similar (cosine) and stands out from the crowd.
    # None switches the dense test off (an embedder nobody calibrated).
    min_similarity: float | None = None
    min_similarity_gap: float = 0.017
    # … or when that passage is similar and the document also shares this much of the terms
    # (formal questions that name their topic precisely but sit among many similar notices).
    similar_coverage: float = 0.4
    max_chars: int = 300
    # An answer is the best sentence and what follows it in the same section, up to this
    # many characters: the question usually restates the topic, the next sentences answer it.
    window_chars: int = 240
    # Sentences before the best one that join the window when they are this short or
    # shorter (a date or a lead-in such as "2月12日，" often precedes the matching sentence).
    lead_in_chars: int = 40
    # When the section ends before `window_chars`, earlier sentences of the section fill the
    # window up to this size.
    backfill_chars: int = 120
    # One more sentence of the same document joins when it scores this share of the best.
    extra_ratio: float = 0.9
    hotline: str = "江岸区政务服务便民热线 12345"
    contact_coverage: float = 0.3


@dataclass
class _Candidate:
    score: float
    hit_rank: int
    section: str
    position: int
    text: str


def _document_sentences(hit: DocumentHit) -> list[tuple[str, str]]:
    """(section, sentence) in document order; an FAQ entry is its answer."""
    doc = hit.document
    parts = [("", doc.text)] if doc.kind == "faq" else sections(doc.text)
    return [(h, s) for h, body in parts for s in split_sentences(body, spaces=True)]


def _snippet(text: str, limit: int = 120) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


class ExtractiveAnswerer:
    """Builds an answer from retrieved evidence without any language model."""

    def __init__(self, policy: AnswerPolicy | None = None) -> None:
        self.policy = policy or AnswerPolicy()

    def answer(
        self, question: str, found: Retrieval, term_weight: Callable[[str], float] | None = None
    ) -> Answer:
        """Answer from the evidence, or refuse with a contact when it does not cover the question."""
        hits = found.hits
        reason = self.uncovered_reason(question, found)
        if reason:
            return self.refuse(question, found, reason)
        window = self._pick_window(question, hits, term_weight or (lambda t: 1.0))
        if not window:
            return self.refuse(question, found, "no_sentence")
        rank = window[0].hit_rank
        body = join_sentences(c.text for c in window)
        cited = self._source(hits[rank], body, window[0].section)
        further = [self._source(h) for i, h in enumerate(hits) if i != rank]
        return Answer(text=body + "[1]", answered=True, sources=[cited, *further], retrieved=hits)

    @classmethod
    def from_faq(cls, match: FaqMatch, found: Retrieval) -> Answer:
        """The answer staff wrote for the FAQ entry the question matched, citing the entry.

        The retrieved documents follow as further reading, as they do after an extract.
        """
        doc = match.document
        source = Source(
            doc_id=doc.doc_id,
            title=doc.title,
            section="常见问答",
            snippet=_snippet(doc.text),
            url=doc.url,
            score=match.score,
            category=doc.category,
            department=doc.department,
            contact=doc.contact,
        )
        further = [cls._source(h) for h in found.hits if h.document.doc_id != doc.doc_id]
        return Answer(
            text=doc.text.strip() + "[1]",
            answered=True,
            sources=[source, *further[: max(len(found.hits) - 1, 0)]],
            retrieved=found.hits,
            mode="faq",
        )

    def uncovered_reason(self, question: str, found: Retrieval) -> str:
        """Why the evidence cannot answer the question ('' when it can)."""
        if not found.hits:
            return "empty_index"
        if found.unknown_terms:
            return "unknown_terms"  # e.g. "ICP", "Python": named, but in no document
        top = found.hits[0].document
        evidence = normalize(f"{top.title}\n{top.text}")
        if foreign_places(normalize(question), evidence, found.home_places):
            return "other_place"  # "上海的人才公寓" is not 江岸's
        if found.hits[0].coverage >= self.policy.min_coverage:
            return ""
        p = self.policy
        if (
            p.min_similarity is not None
            and found.top_similarity >= p.min_similarity
            and (
                found.similarity_gap >= p.min_similarity_gap
                or found.hits[0].coverage >= p.similar_coverage
            )
        ):
            return ""
        return "weak_evidence"

    def refuse(self, question: str, found: Retrieval, reason: str = "weak_evidence") -> Answer:
        """A polite 'not covered', with the most relevant department's contact or the hotline."""
        hits = found.hits
        contact = self.policy.hotline
        dept = ""
        near = hits and (
            hits[0].coverage >= self.policy.contact_coverage
            or (
                self.policy.min_similarity is not None
                and found.top_similarity >= self.policy.min_similarity
            )
        )
        if near and reason == "weak_evidence" and hits[0].document.contact:
            doc = hits[0].document
            dept = doc.department or "相关部门"
            contact = f"{dept}（电话 {doc.contact}）"
        scope = "知识库只收录江岸区的政策与服务信息，" if reason == "other_place" else ""
        text = (
            f"抱歉，{scope}知识库中没有找到能回答这个问题的政策信息，为避免误导，我不作推测。"
            f"建议咨询{contact}" + (f"，或拨打{self.policy.hotline}。" if dept else "。")
        )
        return Answer(text=text, answered=False, sources=[], retrieved=hits, contact=contact)

    def _pick_window(
        self, question: str, hits: list[DocumentHit], term_weight: Callable[[str], float]
    ) -> list[_Candidate]:
        """The best-matching sentence of the top documents and the sentences that follow it."""
        query = bigram_set(strip_question_words(question))
        if not query:
            return []
        weights = {t: term_weight(t) for t in sorted(query)}  # fixed order: reproducible sums
        total = sum(weights.values())
        wants_number = bool(_NUMBER_CUE.search(question))
        wants_list = bool(_LIST_CUE.search(question))
        wants_place = bool(_PLACE_CUE.search(question))
        best: _Candidate | None = None
        sequences: dict[int, list[_Candidate]] = {}
        for hit_rank, hit in enumerate(hits[:3]):
            prior = (0.2, 0.05, 0.0)[hit_rank]
            title = bigram_set(hit.document.title)
            sequence = sequences.setdefault(hit_rank, [])
            for section, sentence in _document_sentences(hit):
                # A sentence is read in its context: under "企业开办指南 › 收费",
                # "不收取任何费用" answers "企业开办收费吗".
                # Read in context (title, section); among sentences that tie on that, the one
                # naming the asked terms itself wins.
                own = bigram_set(sentence)
                context = title | bigram_set(section)
                overlap = sum(w for t, w in weights.items() if t in own or t in context) / total
                # the tie-break counts only what the context does not already give every
                # sentence: otherwise a document's opening sentence, which restates the
                # title, wins whenever the question names the document's topic
                own_overlap = (
                    sum(w for t, w in weights.items() if t in own and t not in context) / total
                )
                score = overlap + 0.1 * own_overlap + prior
                if wants_number and _HAS_NUMBER.search(sentence):
                    score += 0.1
                if wants_place and _HAS_ADDRESS.search(sentence):
                    score += 0.1
                if wants_list and (
                    "、" in sentence or "；" in sentence or sentence.endswith(("：", ":"))
                ):
                    score += 0.05
                cand = _Candidate(score, hit_rank, section, len(sequence), sentence)
                sequence.append(cand)
                if len(sentence) >= 6 and (best is None or score > best.score):
                    best = cand
        if best is None:
            return []
        window = [best]
        size = len(best.text)
        previous = sequences[best.hit_rank][best.position - 1] if best.position else None
        if (
            previous is not None
            and previous.section == best.section
            and (
                len(previous.text) <= self.policy.lead_in_chars
                or (_BACK_REFERENCE.match(best.text) and len(previous.text) <= 150)
            )
        ):
            window.insert(0, previous)
            size += len(previous.text)
        for nxt in sequences[best.hit_rank][best.position + 1 :]:  # then what follows
            if size >= self.policy.window_chars or nxt.section != best.section:
                break
            if size + len(nxt.text) > self.policy.max_chars - 4:
                break
            window.append(nxt)
            size += len(nxt.text)
        # At the end of a section (the last item of a list), fill up with what precedes it.
        for prev in reversed(sequences[best.hit_rank][: window[0].position]):
            if size >= self.policy.backfill_chars or prev.section != best.section:
                break
            if size + len(prev.text) > self.policy.max_chars - 4:
                break
            window.insert(0, prev)
            size += len(prev.text)
        # A second strong match elsewhere in the same document joins if it still fits.
        inside = {c.position for c in window}
        extras = sorted(
            (
                c
                for c in sequences[best.hit_rank]
                if c.position not in inside and c.score >= self.policy.extra_ratio * best.score
            ),
            key=lambda c: -c.score,
        )
        for extra in extras[:1]:
            if size + len(extra.text) <= self.policy.max_chars - 4:
                window.append(extra)
                window.sort(key=lambda c: c.position)
        return window

    @staticmethod
    def _source(hit: DocumentHit, cited_text: str = "", section: str | None = None) -> Source:
        doc = hit.document
        chunk = hit.chunks[0] if hit.chunks else None
        return Source(
            doc_id=doc.doc_id,
            title=doc.title,
            section=section if section is not None else (chunk.section if chunk else ""),
            snippet=_snippet(cited_text or (chunk.text if chunk else doc.text)),
            url=doc.url,
            score=hit.score,
            category=doc.category,
            department=doc.department,
            contact=doc.contact,
        )


def strip_markers(text: str) -> str:
    """Answer text without [n] markers or white space (how answers are compared)."""
    return re.sub(r"\s+", "", _MARKER.sub("", text))
