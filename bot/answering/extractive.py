"""Extractive answers: a cited part of the best-matching document, or a polite refusal.

Correctness first. An answer is given only when
1. the evidence is strong enough (`uncovered_reason`: terms or similarity, places, names);
2. the passage that would be cited speaks about what is asked — the question's focus words
   (宠物, 停车位, 跨境电商) are in it, its heading or its title (`bot.answering.focus`);
3. for the plainly checkable aspects (time, fee, place, hours, phone, deadline) the passage
   states the aspect asked (a number of days, an address, an amount …).
The quoted part follows the question's aspect (`bot.answering.aspects`) and the document's
structure (`bot.answering.structure`): the section whose heading names the aspect, a list
whole from its first item, lines kept as lines.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bot.answering.aspects import LABELS, LIST_ASPECTS, asked_aspects, heading_aspects, states
from bot.answering.faq import FaqMatch
from bot.answering.focus import FocusCheck, FocusChecker, FocusTerm
from bot.answering.structure import Layout, Line, layout
from bot.models import Answer, Document, DocumentHit, Retrieval, Source
from bot.places import foreign_places, other_places, places_in
from bot.text import bigram_set, join_sentences, normalize, strip_question_words

_NUMBER_CUE = re.compile(
    r"多少|几|多久|多长|金额|比例|期限|时限|何时|什么时候|哪一天|日期|标准|额度|补贴|奖励"
)
_LIST_CUE = re.compile(r"哪些|什么材料|哪几|条件|流程|步骤|材料|措施|方面")
_HAS_NUMBER = re.compile(r"[0-9０-９]|[一二三四五六七八九十百千万亿两]+[个天日年月元%万倍家项]")
_PLACE_CUE = re.compile(r"哪里|哪儿|在哪|什么地方|什么位置|地址|位置|哪条路|怎么走")
_HAS_ADDRESS = re.compile(r"\d+号|[路街道]\d|大道|大厦|大楼|广场|园区|[0-9一二三四五六七八九十]+楼")
_MARKER = re.compile(r"\[\d+\]")
_BULLET = re.compile(r"^\s*[-*•·▪●○]\s*")
# A sentence of the chosen document that states the asked aspect (举报电话：12320) answers
# when it has this share of the focus the best passage has (with the document's help).
_STATING_SHARE = 0.75
_LAST_STATING_SHARE = 0.3
# Days and times of day an hours question may name.
_DAYS = re.compile(r"周六|周日|周末|星期六|星期日|星期天|节假日|中午|午间|晚上|夜间")
# A sentence that introduces what follows (…告知如下：).
_INTRO_END = re.compile(r"[：:]\s*$")
# A sentence that opens by pointing back ("当日，…", "此外，…") needs the one before it.
_BACK_REFERENCE = re.compile(
    r"^(当日|当天|同日|次日|此前|此后|此外|其中|对此|为此|同时|另外|上述|这些|该)"
)
# Aspects a passage must visibly state before it is quoted as their answer: a question
# about the time limit is not answered by a passage that names no time.
CHECKED_ASPECTS = frozenset(
    {"count", "time", "fee", "place", "hours", "phone", "deadline", "materials", "online"}
)
# Where to go or apply — an address, a window — as opposed to "which region" (哪里).
_STRICT_PLACE = re.compile(
    r"在哪|去哪|到哪|地址|地点|窗口|几楼|哪层|几号楼|怎么去|怎么走|哪个大厅|什么位置|哪个位置|哪个区域"
)
# Aspects answered by the remaining aspects' evidence too (a phone number is a contact).
_ALSO_STATES = {
    "contact": ("phone",),
    "phone": ("contact",),
    "amount": ("fee",),
    "place": ("online",),  # 去哪登记 → 网上登记系统
}


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
    # A list, a procedure or a section that answers the asked aspect is quoted whole, up to
    # this many characters (then cut at a line).
    list_max_chars: int = 1200
    # … when its items are this short on average, and none more than twice as long (a
    # materials list, a procedure); a "list" of long paragraphs (（一）… of a notice) is a
    # run of sections, answered by a window.
    list_item_chars: int = 100
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
    # Score bonus of a sentence under a heading that names the asked aspect (办理时限 for
    # 要多久), and of a sentence that states the aspect itself.
    aspect_section_bonus: float = 0.3
    aspect_sentence_bonus: float = 0.1
    # Score bonus for the share of the question's terms a sentence's own heading names.
    heading_bonus: float = 0.1
    # Score bonus for the share of the question's focus words a sentence (in context) has.
    focus_bonus: float = 0.3
    # When the best document's passage lacks the question's focus, try the next documents
    # (at most this many more) before refusing.
    retry_documents: int = 2
    # … when the next document shares nearly as much of the question's terms (this share of
    # the failed one's coverage), or the failed one is an FAQ row: a clearly better first
    # document is not second-guessed by a weaker one.
    retry_score_ratio: float = 1.0
    # … or this share when the failed one is about the question but does not state the
    # asked aspect (no phone number): another document that states it may well answer.
    retry_aspect_ratio: float = 0.8
    # Below this confidence an answer is listed for staff review (insight page).
    low_confidence: float = 0.6
    hotline: str = "江岸区政务服务便民热线 12345"
    contact_coverage: float = 0.3


@dataclass
class _Candidate:
    score: float
    hit_rank: int
    section: int
    line: int
    position: int
    text: str
    focus: float = 1.0  # share of the question's focus it has, in context
    own: float = 0.0  # share of the question's terms it has itself (beyond title and heading)


@dataclass
class Evidence:
    """Why an answer was given (or not): what the staff's hit test shows, and the confidence."""

    focus: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    focus_coverage: float = 1.0
    aspects: list[str] = field(default_factory=list)
    aspect_matched: str = ""  # "section", "sentence" or "" (not stated)
    section: str = ""
    doc_id: str = ""
    confidence: float = 0.0

    def public(self) -> dict[str, object]:
        return {
            "focus": self.focus,
            "missing": self.missing,
            "focus_coverage": round(self.focus_coverage, 3),
            "aspects": [LABELS.get(a, a) for a in self.aspects],
            "aspect_matched": self.aspect_matched,
            "section": self.section,
            "doc_id": self.doc_id,
            "confidence": round(self.confidence, 3),
        }


@dataclass
class _Pick:
    hit_rank: int
    lines: list[tuple[int, list[str]]]  # (line number, sentences quoted from it), in order
    section: int
    aspect_matched: str

    def text(self) -> str:
        return "\n".join(join_sentences(s) for _, s in self.lines)


# a question that asks for the terms themselves (not who may apply)
_TERMS_ASKED = re.compile(r"条件|要求|门槛|资格")


def _mentions(document: Document, word: str) -> bool:
    return word in normalize(f"{document.title}\n{document.text}")


def _snippet(text: str, limit: int = 120) -> str:
    """One line for a source card: lines joined, bullet marks dropped (numbers kept)."""
    text = " ".join(_BULLET.sub("", line) for line in text.splitlines())
    text = re.sub(r"(?<=[；。，、：！？])\s+|\s+(?=[；。，、：！？])", "", text)
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _phrase(question: str, words: Sequence[str]) -> str:
    """The missing words as the question says them, adjacent ones joined (汇算 + 清缴 → 汇算清缴)."""
    text = normalize(question)
    spans = sorted((text.find(w), text.find(w) + len(w)) for w in words if w in text)
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    parts = [text[s:e] for s, e in merged] or list(words)
    return "、".join(f"“{p}”" for p in parts)


class ExtractiveAnswerer:
    """Builds an answer from retrieved evidence without any language model."""

    def __init__(
        self, policy: AnswerPolicy | None = None, focus: FocusChecker | None = None
    ) -> None:
        self.policy = policy or AnswerPolicy()
        self.focus = focus

    def answer(
        self, question: str, found: Retrieval, term_weight: Callable[[str], float] | None = None
    ) -> Answer:
        """Answer from the evidence, or refuse with a contact when it does not cover the question."""
        hits = found.hits
        reason = self.uncovered_reason(question, found)
        if reason:
            return self.refuse(question, found, reason)
        asked = asked_aspects(normalize(question)).aspects
        terms = self.focus.terms(question) if self.focus else []
        weight = term_weight or (lambda t: 1.0)
        refusal: tuple[str, Evidence, DocumentHit] | None = None
        excluded: set[int] = set()
        tried = 0
        while True:
            having: list[int] = []
            pick = self._pick(question, hits, weight, asked, terms, excluded)
            if pick is None:
                if refusal is not None:
                    reason, evidence, hit = refusal
                    return self.refuse(question, found, reason, evidence=evidence, hit=hit)
                return self.refuse(question, found, "no_sentence")
            reason, evidence = self._verify(question, pick, hits, asked, terms, found.home_places)
            if reason == "not_in_evidence":
                # the same document may say it elsewhere: its best passage that has the
                # whole focus (the right document, another part of it)
                other = self._pick(
                    question, hits, weight, asked, terms, excluded, only=pick.hit_rank
                )
                if other is not None:
                    other_reason, other_evidence = self._verify(
                        question, other, hits, asked, terms, found.home_places
                    )
                    if not other_reason:
                        pick, reason, evidence = other, other_reason, other_evidence
            hit = hits[pick.hit_rank]
            if not reason:
                break
            # This document does not answer what is asked: the next one may (its FAQ row
            # said 博士, the policy itself lists 硕士).
            refusal = refusal or (reason, evidence, hit)
            excluded.add(pick.hit_rank)
            nxt = next((i for i in range(min(3, len(hits))) if i not in excluded), None)
            ratio = (
                self.policy.retry_aspect_ratio
                if reason == "aspect_not_stated"
                else 0.0  # another place's document: any next one may be the right place's
                if reason == "other_place"
                else self.policy.retry_score_ratio
            )
            tried += 1
            if reason == "not_in_evidence" and evidence.missing:
                # a next document that has the words this one lacks goes first (SC证 asked:
                # the road permit ranked first on 多少个工作日, the food licence names SC证)
                rest = [i for i in range(min(3, len(hits))) if i not in excluded]
                having = [
                    i for i in rest if all(_mentions(hits[i].document, w) for w in evidence.missing)
                ]
                if having:
                    excluded.update(set(rest) - set(having))
                    nxt = having[0]
            close = nxt is not None and (
                hit.document.kind == "faq"  # an FAQ row: the document behind it may say more
                or hits[nxt].coverage >= ratio * hit.coverage
                or (reason == "not_in_evidence" and nxt in having)
            )
            if tried > self.policy.retry_documents or not close:
                reason, evidence, hit = refusal
                return self.refuse(question, found, reason, evidence=evidence, hit=hit)
        section = layout(hit.document.text).sections[pick.section]
        body = pick.text()
        evidence.confidence = self._confidence(evidence, hit)
        cited = self._source(hit, body, section.heading)
        further = [self._source(h) for i, h in enumerate(hits) if i != pick.hit_rank]
        return Answer(
            text=body + "[1]",
            answered=True,
            sources=[cited, *further],
            retrieved=hits,
            confidence=evidence.confidence,
            evidence=evidence,
        )

    def _verify(
        self,
        question: str,
        pick: _Pick,
        hits: list[DocumentHit],
        asked: frozenset[str],
        terms: list[FocusTerm],
        home: frozenset[str] = frozenset(),
    ) -> tuple[str, Evidence]:
        """Why the picked passage does not answer the question ('' if it does), and the evidence."""
        hit = hits[pick.hit_rank]
        lay = layout(hit.document.text)
        section = lay.sections[pick.section]
        # the passage is the quoted sentences' whole paragraphs (近日，中国人民银行…发布… 对受
        # 疫情影响严重的企业…可予以展期或续贷: the quote speaks for the paragraph's subject)
        paragraphs = [lay.lines[n].text for n, _ in pick.lines]
        evidence = Evidence(
            focus=[t.word for t in terms],
            aspects=sorted(asked),
            aspect_matched=pick.aspect_matched,
            section=section.heading,
            doc_id=hit.document.doc_id,
        )
        asked_places = places_in(normalize(question))
        if asked_places and not asked_places <= home:
            quoted = places_in(normalize("\n".join(paragraphs)))
            elsewhere = other_places(asked_places, places_in(normalize(hit.document.title))) and (
                not quoted or other_places(asked_places, quoted)
            )
        else:
            elsewhere = False
        if elsewhere:
            # 湖北省…绿色通道 is not answered by 《重庆出台十项措施…》 unless the quoted passage
            # itself speaks of the asked place (《江苏台商…》: …向湖北省慈善总会捐赠200万元)
            return "other_place", evidence
        if self.focus is not None:
            # a word the title of another document found names (区长质量奖 asked, the
            # high-tech guide quoted): never forgiven as a detail of wording
            others = [
                normalize(h.document.title)
                for i, h in enumerate(hits[:3])
                if i != pick.hit_rank and h.document.kind != "faq"
            ]
            terms = [
                dataclasses.replace(t, titled=True)
                if t.known and t.strong and not t.generic and any(t.word in o for o in others)
                else t
                for t in terms
            ]
            texts = [*paragraphs, section.context, hit.document.title]
            if asked and asked <= {"phone", "contact"} and pick.aspect_matched == "section":
                # whom to ask is the whole document's: what it speaks of, its office answers
                texts.append(hit.document.text)
            check = self.focus.check(terms, texts, hit.document.text)
            evidence.missing, evidence.focus_coverage = check.missing, check.coverage
            if not check.passed:
                return "not_in_evidence", evidence
        if self._checked(question, asked) and not pick.aspect_matched:
            return "aspect_not_stated", evidence
        return "", evidence

    @staticmethod
    def _checked(question: str, asked: frozenset[str]) -> bool:
        """Whether the question asks an aspect a passage must visibly state to answer it."""
        checked = asked & CHECKED_ASPECTS
        if checked == {"place"} and not _STRICT_PLACE.search(normalize(question)):
            return False  # 把哪里作为重点: a "where" that names a region, not an address
        return bool(checked)

    def _confidence(self, evidence: Evidence, hit: DocumentHit) -> float:
        """How well the quoted passage covers the focus and the aspect, and how strong the match."""
        aspect = (
            1.0
            if not evidence.aspects or evidence.aspect_matched == "section"
            else 0.75
            if evidence.aspect_matched == "sentence"
            else 0.5
        )
        strength = 1.0 if hit.coverage >= self.policy.min_coverage else 0.8
        return evidence.focus_coverage * aspect * strength

    def focus_accepts(self, question: str, texts: Sequence[str]) -> FocusCheck | None:
        """The focus check of a question against some texts (None without a checker)."""
        if self.focus is None:
            return None
        return self.focus.check(self.focus.terms(question), texts)

    @classmethod
    def from_faq(cls, match: FaqMatch, found: Retrieval, check: FocusCheck | None = None) -> Answer:
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
            doc_number=doc.doc_number,
            issuer=doc.issuer,
            issued=doc.issued,
            updated=doc.updated,
            sample=doc.sample,
        )
        further = [cls._source(h) for h in found.hits if h.document.doc_id != doc.doc_id]
        confidence = min(1.0, match.score) * (check.coverage if check else 1.0)
        return Answer(
            text=doc.text.strip() + "[1]",
            answered=True,
            sources=[source, *further[: max(len(found.hits) - 1, 0)]],
            retrieved=found.hits,
            mode="faq",
            confidence=confidence,
            evidence=Evidence(
                focus=[t.word for t in check.terms] if check else [],
                focus_coverage=check.coverage if check else 1.0,
                aspect_matched="faq",
                section="常见问答",
                doc_id=doc.doc_id,
                confidence=confidence,
            ),
        )

    def uncovered_reason(self, question: str, found: Retrieval) -> str:
        """Why the evidence cannot answer the question ('' when it can)."""
        if not found.hits:
            return "empty_index"
        unknown = found.unknown_terms
        if unknown and self.focus is not None:  # named in other words (IPO → 上市) is known
            unknown = [t for t in unknown if not self.focus.known_as_synonym(t)]
        if unknown:
            return "unknown_terms"  # e.g. "ICP", "Python": named, but in no document
        if found.unknown_doc_numbers:
            return "unknown_doc_number"  # 岸政发〔2026〕9号 when the series stops at 4号
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

    def refuse(
        self,
        question: str,
        found: Retrieval,
        reason: str = "weak_evidence",
        *,
        evidence: Evidence | None = None,
        hit: DocumentHit | None = None,
    ) -> Answer:
        """A polite 'not covered', with the most relevant department's contact or the hotline."""
        hits = found.hits
        contact = self.policy.hotline
        dept = ""
        near_doc = hit.document if hit is not None else None
        if near_doc is None and reason == "weak_evidence" and hits:
            near = hits[0].coverage >= self.policy.contact_coverage or (
                self.policy.min_similarity is not None
                and found.top_similarity >= self.policy.min_similarity
            )
            near_doc = hits[0].document if near else None
        if near_doc is not None and near_doc.contact:
            dept = near_doc.department or "相关部门"
            contact = f"{dept}（电话 {near_doc.contact}）"
        scope = "知识库只收录江岸区的政策与服务信息，" if reason == "other_place" else ""
        if reason == "not_in_evidence" and evidence is not None and near_doc is not None:
            missing = _phrase(question, evidence.missing)
            said = (
                f"抱歉，知识库中没有关于{missing}的规定：最接近的《{near_doc.title}》没有提到这一点。"
                "为避免误导，我不作推测。"
            )
        elif reason == "unknown_doc_number":
            said = (
                f"抱歉，知识库中没有收录{'、'.join(found.unknown_doc_numbers)}，"
                "为避免误导，我不作推测。"
            )
        elif reason == "aspect_not_stated" and evidence is not None and near_doc is not None:
            what = "、".join(LABELS[a] for a in evidence.aspects if a in CHECKED_ASPECTS)
            said = f"抱歉，《{near_doc.title}》中没有写明{what}，为避免误导，我不作推测。"
        else:
            said = (
                f"抱歉，{scope}知识库中没有找到能回答这个问题的政策信息，为避免误导，我不作推测。"
            )
        text = said + f"建议咨询{contact}" + (f"，或拨打{self.policy.hotline}。" if dept else "。")
        return Answer(
            text=text,
            answered=False,
            sources=[],
            retrieved=hits,
            contact=contact,
            refusal_reason=reason,
            evidence=evidence,
        )

    # --- which part of which document -------------------------------------------------
    def _pick(
        self,
        question: str,
        hits: list[DocumentHit],
        term_weight: Callable[[str], float],
        asked: frozenset[str],
        terms: list[FocusTerm],
        excluded: set[int] | None = None,
        only: int | None = None,
    ) -> _Pick | None:
        """The best-matching sentence of the top documents, grown into what answers the question.

        `only`: that document alone, and only sentences that have the question's whole focus.
        """
        query = bigram_set(strip_question_words(question))
        if not query:
            return None
        weights = {t: term_weight(t) for t in sorted(query)}  # fixed order: reproducible sums
        total = sum(weights.values())
        wants_number = bool(_NUMBER_CUE.search(question))
        wants_list = bool(_LIST_CUE.search(question)) or bool(asked & LIST_ASPECTS)
        wants_place = bool(_PLACE_CUE.search(question))
        # 周六开门吗: among the lines on office hours, the one that names Saturday
        days = list(_DAYS.findall(normalize(question))) if "hours" in asked else []
        extra_aspects = asked - {"amount", "time", "place", "materials", "steps", "conditions"}
        best: _Candidate | None = None
        sequences: dict[int, list[_Candidate]] = {}
        layouts: dict[int, Layout] = {}
        for hit_rank, hit in enumerate(hits[:3]):
            if (excluded and hit_rank in excluded and only is None) or (
                only is not None and hit_rank != only
            ):
                continue
            prior = (0.2, 0.05, 0.0)[hit_rank]
            lay = layouts[hit_rank] = layout(hit.document.text)
            title = bigram_set(hit.document.title)
            contexts = [title | bigram_set(s.context) for s in lay.sections]
            # the share of the question a section's own heading names (疑似人员的处置流程)
            headings = [bigram_set(s.heading) for s in lay.sections]
            named = [sum(w for t, w in weights.items() if t in h) / total for h in headings]
            sequence = sequences.setdefault(hit_rank, [])
            for n, line in enumerate(lay.lines):
                section = lay.sections[line.section]
                context = contexts[line.section]
                section_aspect = bool(asked & section.aspects)
                for sentence in line.sentences:
                    # A sentence is read in its context: under "企业开办指南 › 收费",
                    # "不收取任何费用" answers "企业开办收费吗"; among sentences that tie on
                    # that, the one naming the asked terms itself wins — counting only what
                    # the context does not already give every sentence (else a document's
                    # opening sentence, which restates the title, would always win).
                    own = bigram_set(sentence)
                    overlap = sum(w for t, w in weights.items() if t in own or t in context) / total
                    own_overlap = (
                        sum(w for t, w in weights.items() if t in own and t not in context) / total
                    )
                    score = (
                        overlap
                        + 0.1 * own_overlap
                        + self.policy.heading_bonus * named[line.section]
                        + prior
                    )
                    if wants_number and _HAS_NUMBER.search(sentence):
                        score += 0.1
                    if days and any(d in sentence for d in days):
                        score += 0.1
                    if wants_place and _HAS_ADDRESS.search(sentence):
                        score += 0.1
                    if wants_list and (
                        "、" in sentence or "；" in sentence or sentence.endswith(("：", ":"))
                    ):
                        score += 0.05
                    if section_aspect:
                        score += self.policy.aspect_section_bonus
                    elif any(states(a, sentence) for a in extra_aspects):
                        score += self.policy.aspect_sentence_bonus
                    focus = 1.0
                    if terms and self.focus is not None:
                        check = self.focus.check(
                            terms, [sentence, section.context, hit.document.title]
                        )
                        focus = check.specific_coverage
                        score += self.policy.focus_bonus * focus
                    cand = _Candidate(
                        score,
                        hit_rank,
                        line.section,
                        n,
                        len(sequence),
                        sentence,
                        focus,
                        own_overlap,
                    )
                    sequence.append(cand)
                    eligible = only is None or focus >= 1.0 - 1e-9
                    if (
                        eligible
                        and len(sentence) >= 6
                        and (best is None or cand.score > best.score)
                    ):
                        best = cand
        if best is None:
            return None
        # The document is chosen; the asked aspect now chooses its part: the section whose
        # heading names it (办理时限 for 要多久), the best-matching one if several do — unless
        # that section does not speak about what is asked and another sentence does.
        in_aspect = [
            c
            for c in self._aspect_candidates(
                sequences[best.hit_rank], layouts[best.hit_rank], asked
            )
            if self._compact(layouts[best.hit_rank], c.section)
        ]
        shares: dict[tuple[int, int], float] = {}

        def about(c: _Candidate) -> float:  # focus share with the whole document's help
            if not terms or self.focus is None:
                return 1.0
            key = (c.hit_rank, c.position)
            if key not in shares:
                doc = hits[c.hit_rank].document
                context = layouts[c.hit_rank].sections[c.section].context
                shares[key] = self.focus.check(
                    terms, [c.text, context, doc.title], doc.text
                ).specific_coverage
            return shares[key]

        # a row whose label names the aspect (| 办理流程 | 申请→受理→… | in a guide's table
        # of elements, - 地址：… in a summary) answers it: every such row of its table
        # (法定办结时限 and 承诺办结时限 both answer 几天)
        lay = layouts[best.hit_rank]
        rows = [
            c
            for c in (sequences[best.hit_rank] if asked else ())
            if (
                asked & _label_aspects(lay.lines[c.line])
                # 周六开门吗: the row on Saturday service, whatever its label
                or (days and any(d in c.text for d in days) and states("hours", c.text))
            )
            and (c.focus >= best.focus - 1e-9 or about(c) >= about(best) - 1e-9)
            and _labelled_rows(lay, lay.lines[c.line].block) >= 3
        ]
        row = max(rows, key=lambda c: c.score) if rows else None
        if in_aspect:
            top = max(in_aspect, key=lambda c: c.score)
            # words the document as a whole is about (设立区域总部) need not be in the section;
            # whom to ask is the whole document's (直播电商扶持找哪个部门 → 咨询方式)
            if (
                top.focus >= best.focus - 1e-9
                or about(top) >= about(best) - 1e-9
                # (the section is quoted whole: every office it names for every item)
                or asked <= {"contact", "phone"}
            ):
                # a row that matches better than the section whose heading names the aspect
                # (地址：… against 交通与停车 for 在哪个位置)
                bonus = self.policy.aspect_section_bonus  # what the heading gave the section
                if row is None or row.score + bonus <= top.score or row.focus < top.focus - 1e-9:
                    return self._section_pick(top, lay, asked, question)
        if row is not None:
            block = lay.lines[row.line].block
            lines = sorted({c.line for c in rows if lay.lines[c.line].block == block})
            return _Pick(
                best.hit_rank,
                [(n, list(lay.lines[n].sentences)) for n in lines],
                row.section,
                "section",
            )
        pick = self._plain_pick(
            best, sequences[best.hit_rank], layouts[best.hit_rank], asked, wants_list, terms
        )
        checked = asked & CHECKED_ASPECTS
        if checked and not pick.aspect_matched:
            # the sentence of the same document that states the aspect (a number of days,
            # an address …), if it is as much about the question (with the document's help)
            stating = [
                c
                for c in sequences[best.hit_rank]
                if len(c.text) >= 6
                and any(states(n, c.text) for a in checked for n in (a, *_ALSO_STATES.get(a, ())))
            ]
            if stating:
                floor = _STATING_SHARE * about(best)
                close = [c for c in stating if c.focus >= best.focus - 1e-9 or about(c) >= floor]
                # else, rather than say the document does not state it: the sentence that
                # states it and still speaks of the subject (举报电话：12320 for 如何电话举报…)
                stating = close or [
                    c for c in stating if about(c) >= _LAST_STATING_SHARE * about(best)
                ]
            if stating:
                top = max(stating, key=lambda c: c.score)
                pick = self._plain_pick(
                    top, sequences[best.hit_rank], layouts[best.hit_rank], asked, wants_list, terms
                )
        if asked and not pick.aspect_matched and not in_aspect:
            # the best document does not state the asked aspect: another top document's
            # section for it, if that section is as much about the question
            floor = about(best) - 1e-9
            others = [
                c
                for rank in sequences
                if rank != best.hit_rank
                for c in self._aspect_candidates(sequences[rank], layouts[rank], asked)
                if self._compact(layouts[rank], c.section) and about(c) >= floor
            ]
            if others:
                top = max(others, key=lambda c: c.score)
                return self._section_pick(top, layouts[top.hit_rank], asked, question)
        return pick

    def _compact(self, lay: Layout, section: int) -> bool:
        """A section short enough, in short lines, to be quoted whole as the aspect's answer
        (a guide's 办理时限 or 申请材料); a notice's long section is answered by a window."""
        lines = lay.section_lines(section)
        size = sum(len(line.text) for line in lines)
        return (
            bool(lines)
            and size <= self.policy.list_max_chars
            and (size / len(lines) <= self.policy.list_item_chars or size <= self.policy.max_chars)
        )

    @staticmethod
    def _aspect_candidates(
        sequence: list[_Candidate], lay: Layout, asked: frozenset[str]
    ) -> list[_Candidate]:
        return [c for c in sequence if asked & lay.sections[c.section].aspects and len(c.text) >= 2]

    def _plain_pick(
        self,
        best: _Candidate,
        sequence: list[_Candidate],
        lay: Layout,
        asked: frozenset[str],
        wants_list: bool,
        terms: Sequence[FocusTerm] = (),
    ) -> _Pick:
        """The best sentence's list (whole) or its window of sentences."""
        section = lay.sections[best.section]
        block = lay.block_lines(lay.lines[best.line].block)
        items = [line for line in block if line.item]
        if (
            wants_list
            and not _names_one_item(lay.lines[best.line], items, terms)
            and len(items) >= 2
            and sum(len(line.text) for line in items) / len(items) <= self.policy.list_item_chars
            # (a run of long numbered paragraphs under short titles is a notice, not a list)
            and max(len(line.text) for line in items) <= 2 * self.policy.list_item_chars
        ):
            lines = self._capped(list(block))
            return _Pick(
                best.hit_rank,
                [(lay.lines.index(line), list(line.sentences)) for line in lines],
                best.section,
                self._aspect_stated(asked, [line.text for line in lines], section.aspects),
            )
        window = self._window(best, sequence, lay)
        texts = [c.text for c in window]
        return _Pick(
            best.hit_rank,
            _by_line(window),
            best.section,
            self._aspect_stated(asked, texts, section.aspects),
        )

    def _section_pick(
        self, best: _Candidate, lay: Layout, asked: frozenset[str], question: str = ""
    ) -> _Pick:
        """The whole section whose heading names the asked aspect (and any other asked one)."""
        wanted = [best.section]
        mine = lay.sections[best.section].aspects
        for n, s in enumerate(lay.sections):
            if n != best.section and (asked - mine) & s.aspects:
                wanted.append(n)
            elif (
                n in (best.section - 1, best.section + 1)
                and "conditions" in asked & mine & s.aspects
                and self._compact(lay, n)
            ):
                wanted.append(
                    n
                )  # 支持对象 and 申请条件 side by side: who may apply, and on what terms
        lines: list[Line] = []
        for n in sorted(wanted):
            lines.extend(lay.section_lines(n))
        whole = self._capped(lines)
        if best.line not in {lay.lines.index(line) for line in whole}:
            # a section too long to quote whole: the block that matched, from its start
            whole = self._capped(list(lay.block_lines(lay.lines[best.line].block)))
        cited = best.section
        if _TERMS_ASKED.search(question) and "条件" not in lay.sections[cited].heading:
            # 适用对象 and 受理条件 quoted together for 有啥硬性要求: the terms are what was
            # asked (哪些店要办 asks who, and cites 适用范围)
            quoted = {line.section for line in whole}
            cited = next((n for n in sorted(quoted) if "条件" in lay.sections[n].heading), cited)
        return _Pick(
            best.hit_rank,
            [(lay.lines.index(line), list(line.sentences)) for line in whole],
            cited,
            "section",
        )

    def _capped(self, lines: list[Line]) -> list[Line]:
        """Lines up to the list budget, cut at a line; never empty."""
        out: list[Line] = []
        size = 0
        for line in lines:
            if out and size + len(line.text) > self.policy.list_max_chars:
                break
            out.append(line)
            size += len(line.text)
        return out

    @staticmethod
    def _aspect_stated(asked: frozenset[str], texts: list[str], heading: frozenset[str]) -> str:
        if not asked:
            return ""
        if asked & heading:
            return "section"
        for aspect in asked:
            for name in (aspect, *_ALSO_STATES.get(aspect, ())):
                if any(states(name, t) for t in texts):
                    return "sentence"
        return ""

    def _window(
        self, best: _Candidate, sequence: list[_Candidate], lay: Layout
    ) -> list[_Candidate]:
        """The best sentence, a short lead-in, what follows it in its section, and one more match."""
        window = [best]
        size = len(best.text)
        previous = sequence[best.position - 1] if best.position else None
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
        for nxt in sequence[best.position + 1 :]:  # then what follows
            if size >= self.policy.window_chars:
                break
            if nxt.section != window[-1].section and not _INTRO_END.search(window[-1].text):
                break  # (a lead-in ending in "：" goes on into what it introduces)
            if size + len(nxt.text) > self.policy.max_chars - 4:
                break
            window.append(nxt)
            size += len(nxt.text)
        last = window[-1]
        line = lay.lines[last.line]
        if (
            len(window) > 1
            and last.line != best.line
            and line.item
            and len(line.sentences) > 1
            and last.text == line.sentences[0]
        ):
            window.pop()  # the next item's bare title (2.询问交流。) without what it says
            size -= len(last.text)
        # At the end of a section (the last item of a list), fill up with what precedes it.
        for prev in reversed(sequence[: window[0].position]):
            if size >= self.policy.backfill_chars or prev.section != best.section:
                break
            if size + len(prev.text) > self.policy.max_chars - 4:
                break
            window.insert(0, prev)
            size += len(prev.text)
        window = self._whole_lists(window, sequence, lay, best)
        # A second strong match elsewhere in the same document joins if it still fits.
        size = sum(len(c.text) for c in window)
        inside = {c.position for c in window}
        extras = sorted(
            (
                c
                for c in sequence
                if c.position not in inside and c.score >= self.policy.extra_ratio * best.score
            ),
            key=lambda c: -c.score,
        )
        for extra in extras[:1]:
            if size + len(extra.text) <= self.policy.max_chars - 4:
                window.append(extra)
                size += len(extra.text)
                line = lay.lines[extra.line]
                if line.item and extra.text == line.sentences[0] and len(extra.text) <= 30:
                    # an item's title (5.实施援企稳岗政策。): what it says follows on its line
                    for nxt in sequence[extra.position + 1 :]:
                        if (
                            nxt.line != extra.line
                            or size + len(nxt.text) > self.policy.max_chars - 4
                        ):
                            break
                        window.append(nxt)
                        size += len(nxt.text)
                window.sort(key=lambda c: c.position)
        return window

    def _whole_lists(
        self, window: list[_Candidate], sequence: list[_Candidate], lay: Layout, best: _Candidate
    ) -> list[_Candidate]:
        """Never start in the middle of a list: take the list from its start, or only the best item."""
        first = lay.lines[window[0].line]
        start, _ = lay.blocks[first.block]
        items = {
            c.line
            for c in window
            if lay.lines[c.line].item and lay.lines[c.line].block == first.block
        }
        if window[0].line == start or not first.item or len(items) < 2:
            return window
        block = [c for c in sequence if lay.lines[c.line].block == first.block]
        head = [c for c in block if c.position < window[0].position]
        if sum(len(c.text) for c in head + window) <= self.policy.max_chars - 4:
            return sorted(head + window, key=lambda c: c.position)
        return [
            c
            for c in window
            if c.position >= best.position or lay.lines[c.line].block != first.block
        ]

    @staticmethod
    def _source(hit: DocumentHit, cited_text: str = "", section: str | None = None) -> Source:
        doc = hit.document
        chunk = hit.chunks[0] if hit.chunks else None
        head = cited_text.strip()[:16]
        quoted = next((c for c in hit.chunks if head and head in c.text), chunk)
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
            doc_number=doc.doc_number,
            issuer=doc.issuer,
            issued=doc.issued,
            updated=doc.updated,
            sample=doc.sample,
            page=quoted.page if quoted else 0,
        )


_LABEL = re.compile(r"^\s*[-*]?\s*([\u4e00-\u9fff]{2,8})\s*[：:]")


def _label_aspects(line: Line) -> frozenset[str]:
    """The aspects a 「label：value」 row's label names (办理时限：… → time)."""
    m = _LABEL.match(line.text) if line.item else None
    return heading_aspects(m.group(1)) if m else frozenset()


def _labelled_rows(lay: Layout, block: int) -> int:
    """How many 「label：value」 rows a block has (a table of elements has several)."""
    return sum(1 for line in lay.block_lines(block) if line.item and _LABEL.match(line.text))


def _names_one_item(line: Line, items: Sequence[Line], terms: Sequence[FocusTerm]) -> bool:
    """Whether the question names this item by its title (1.身体检视。…) with a word no
    other item of the list has: it asks about that item, not the whole list."""
    if not line.item or not line.sentences or len(line.sentences[0]) > 30:
        return False
    title = normalize(line.sentences[0])
    others = [normalize(other.text) for other in items if other is not line]
    return any(
        not t.generic
        and len(t.word) >= 2
        and t.word in title
        and not any(t.word in o for o in others)
        for t in terms
    )


def _by_line(window: list[_Candidate]) -> list[tuple[int, list[str]]]:
    out: list[tuple[int, list[str]]] = []
    for c in window:
        if out and out[-1][0] == c.line:
            out[-1][1].append(c.text)
        else:
            out.append((c.line, [c.text]))
    return out


def strip_markers(text: str) -> str:
    """Answer text without [n] markers or white space (how answers are compared)."""
    return re.sub(r"\s+", "", _MARKER.sub("", text))
