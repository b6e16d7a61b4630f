"""Extractive answers: the best-matching sentences of the top sources, cited with [n]."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.models import Answer, DocumentHit, Retrieval, Source
from bot.places import places_in
from bot.text import bigram_set, normalize, split_sentences, strip_question_words

_NUMBER_CUE = re.compile(
    r"多少|几|多久|多长|金额|比例|期限|时限|何时|什么时候|哪一天|日期|标准|额度|补贴|奖励"
)
_LIST_CUE = re.compile(r"哪些|什么材料|哪几|条件|流程|步骤|材料|措施|方面")
_HAS_NUMBER = re.compile(r"[0-9０-９]|[一二三四五六七八九十百千万亿两]+[个天日年月元%万倍家项]")
_MARKER = re.compile(r"\[\d+\]")


@dataclass(frozen=True)
class AnswerPolicy:
    """When to answer, and how long an answer may be (thresholds: docs/EVALUATION.md)."""

    # Answer when the best document contains this IDF-weighted share of the question's terms …
    min_coverage: float = 0.6
    # … or when the nearest passage is this similar (cosine) and stands out from the crowd.
    # None switches the dense test off (an embedder nobody calibrated).
    min_similarity: float | None = None
    min_similarity_gap: float = 0.017
    max_chars: int = 300
    max_sources_cited: int = 2
    hotline: str = "江岸区政务服务便民热线 12345"
    contact_coverage: float = 0.3


@dataclass
class _Candidate:
    score: float
    hit_rank: int
    chunk_rank: int
    position: int
    text: str


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
        picked = self._pick_sentences(question, hits, term_weight or (lambda t: 1.0))
        if not picked:
            return self.refuse(question, found, "no_sentence")
        order: list[int] = []
        for c in picked:
            if c.hit_rank not in order:
                order.append(c.hit_rank)
        lines = []
        for n, rank in enumerate(order, start=1):
            sentences = sorted(
                (c for c in picked if c.hit_rank == rank), key=lambda c: (c.chunk_rank, c.position)
            )
            lines.append("".join(c.text for c in sentences) + f"[{n}]")
        cited = [
            self._source(hits[r], next(c for c in picked if c.hit_rank == r).text) for r in order
        ]
        further = [self._source(h) for i, h in enumerate(hits) if i not in order]
        return Answer(text="\n".join(lines), answered=True, sources=cited + further, retrieved=hits)

    def uncovered_reason(self, question: str, found: Retrieval) -> str:
        """Why the evidence cannot answer the question ('' when it can)."""
        if not found.hits:
            return "empty_index"
        if found.unknown_terms:
            return "unknown_terms"  # e.g. "ICP", "Python": named, but in no document
        top = found.hits[0].document
        evidence = normalize(f"{top.title}\n{top.text}")
        if any(place not in evidence for place in places_in(normalize(question))):
            return "other_place"  # "上海的人才公寓" is not 江岸's
        if found.hits[0].coverage >= self.policy.min_coverage:
            return ""
        p = self.policy
        if (
            p.min_similarity is not None
            and found.top_similarity >= p.min_similarity
            and found.similarity_gap >= p.min_similarity_gap
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

    def _pick_sentences(
        self, question: str, hits: list[DocumentHit], term_weight: Callable[[str], float]
    ) -> list[_Candidate]:
        topic = strip_question_words(question)
        query = bigram_set(topic)
        if not query:
            return []
        weights = {t: term_weight(t) for t in query}
        total = sum(weights.values())
        wants_number = bool(_NUMBER_CUE.search(question))
        wants_list = bool(_LIST_CUE.search(question))
        candidates: list[_Candidate] = []
        for hit_rank, hit in enumerate(hits[:3]):
            prior = (0.2, 0.05, 0.0)[hit_rank]
            title = bigram_set(hit.document.title)
            for chunk_rank, chunk in enumerate(hit.chunks):
                # A sentence is read in its context: under "企业开办指南 › 收费",
                # "不收取任何费用" answers "企业开办收费吗".
                heading = title | bigram_set(chunk.section)
                for position, sentence in enumerate(split_sentences(chunk.text)):
                    grams = bigram_set(sentence)
                    if len(sentence) < 6 or not grams:
                        continue
                    grams |= heading
                    overlap = sum(w for t, w in weights.items() if t in grams) / total
                    score = overlap + prior
                    if wants_number and _HAS_NUMBER.search(sentence):
                        score += 0.1
                    if wants_list and (
                        "、" in sentence or "；" in sentence or sentence.endswith(("：", ":"))
                    ):
                        score += 0.05
                    candidates.append(_Candidate(score, hit_rank, chunk_rank, position, sentence))
        if not candidates:
            return []
        candidates.sort(key=lambda c: -c.score)
        best = candidates[0]
        picked = [best]
        budget = self.policy.max_chars - len(best.text) - 4
        ranks = {best.hit_rank}
        for cand in candidates[1:]:
            if cand.score < 0.7 * best.score or len(cand.text) > budget:
                continue
            if cand.text in {p.text for p in picked}:
                continue
            if cand.hit_rank not in ranks and len(ranks) >= self.policy.max_sources_cited:
                continue
            picked.append(cand)
            ranks.add(cand.hit_rank)
            budget -= len(cand.text) + 4
            if len(picked) >= 3:
                break
        return picked

    @staticmethod
    def _source(hit: DocumentHit, cited_text: str = "") -> Source:
        doc = hit.document
        chunk = hit.chunks[0] if hit.chunks else None
        if cited_text:
            chunk = next((c for c in hit.chunks if cited_text in c.text), chunk)
        return Source(
            doc_id=doc.doc_id,
            title=doc.title,
            section=chunk.section if chunk else "",
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
