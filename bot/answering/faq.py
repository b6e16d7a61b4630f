"""FAQ question-to-question matching: a question that closely matches an entry is answered from it.

Every `kind == "faq"` document takes part — rows of FAQ tables in the knowledge folder and
entries staff edit at `/api/admin/faq` — with its question and its alternative phrasings.
A match needs both meaning (cosine of question embeddings) and wording (shared character
bigrams, question words kept, so 要多久 and 要钱吗 stay different questions); the thresholds
are measured in docs/EVALUATION.md ("FAQ matching").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from difflib import SequenceMatcher

import numpy as np

from bot.embedding import Embedder
from bot.models import Document
from bot.places import foreign_places
from bot.text import bigram_set, normalize, question_topic

# Courtesy and particles only: words such as 多久 / 多少 / 怎么 change what is asked.
_COURTESY = re.compile(
    r"请问一下|请问|请教一下|请教|你好|您好|麻烦问下|麻烦问一下|想问一下|想问下|我想问|我想知道"
    r"|[吗呢吧啊呀哈嘛的了]+(?=[?？。！!,，\s]|$)"
)
_PUNCT = re.compile(r"[\s?？。！!,，、；;：:“”\"'‘’（）()《》<>【】\[\]…·-]+")


def question_key(text: str) -> str:
    """A question reduced to what it asks: no courtesy words, particles or punctuation."""
    return _PUNCT.sub("", _COURTESY.sub("", normalize(text)))


# What kind of answer a question wants. A question that wants a kind the entry's question
# does not (要多久 vs 要钱吗, 要交什么材料 vs 有什么奖励) is a different question however
# many words they share.
_ASKS = {
    "time": re.compile(r"多久|多长时间|几天|多少天|几个工作日|什么时候|何时|几点|时间"),
    "money": re.compile(r"多少钱|要钱|收费|费用|花钱|免费|收钱|掏钱|租金|房租|价格"),
    "process": re.compile(
        r"怎么申请|如何申请|怎么办理|如何办理|申请流程|办理流程|流程|手续|怎么报名|步骤|怎么办(?!法)|怎么弄|怎么操作|如何操作|怎么加入|如何加入"
    ),
    "which": re.compile(r"哪些|哪几|什么|啥"),
    "count": re.compile(r"几次|多少次|次数|几回"),
    "place": re.compile(r"在哪|哪里|哪儿|地址|位置|怎么去"),
    "materials": re.compile(r"材料|准备什么|哪些东西|带什么|证件"),
    "conditions": re.compile(r"条件|要求|门槛|资格"),
}


# Characters that carry no topic of their own: a swap between these is a rewording
# (能 / 可以, 的 / 了), a swap between anything else is another question (硕士 / 博士).
_FUNCTION_CHARS = set(
    "的了吗呢吧啊呀么是有在和与及或都也还要能会可以把被给让对为从到向这那哪些个其该之于而并且将已"
)
_NEGATION = re.compile(r"[不没无非未别勿莫]")
_A_NOT_A = re.compile(r"(.)[不没]\1")  # 给不给, 有没有: a question form, not a negation


def _negations(key: str) -> int:
    return len(_NEGATION.findall(_A_NOT_A.sub("", key)))


# Everyday words that name the same thing in enterprise questions; compared as one when
# looking for swapped terms (a general list, not tied to any FAQ entry).
_SAME_THING = {
    "公司": "企业",
    "单位": "企业",
    "时候": "时间",
    "费用": "钱",
    "费": "钱",
    "干": "做",
    "搞": "做",
    "孩子": "子女",
    "小孩": "子女",
    "安排": "解决",
    "处理": "解决",
    "东西": "材料",
    "奖励": "奖",
}
_SAME_THING_RE = re.compile("|".join(sorted(_SAME_THING, key=len, reverse=True)))


def _topic_key(key: str) -> str:
    """The key without question words (多久, 什么, 怎么 …, which asks() compares), with
    everyday synonyms made one word."""
    topic = re.sub(r"\s+", "", question_topic(key)) or key
    return _SAME_THING_RE.sub(lambda m: _SAME_THING[m.group(0)], topic)


def swapped_terms(question: str, phrasing: str) -> list[tuple[str, str]]:
    """Short content words one question has where the other has a different one.

    ("硕士来江岸有多少补贴", "博士来江岸有多少补贴") → [("硕", "博")]: everything else is the
    same, so the two differ exactly in what they are about. Rewordings differ in function
    words, synonyms or long stretches, which this does not report.
    """
    a, b = _topic_key(question_key(question)), _topic_key(question_key(phrasing))
    swaps = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        x, y = a[i1:i2], b[j1:j2]
        if tag != "replace" or len(x) > 3 or len(y) > 3:
            continue
        if set(x) - _FUNCTION_CHARS and set(y) - _FUNCTION_CHARS:
            swaps.append((x, y))
    return swaps


def asks(text: str) -> set[str]:
    """The kinds of answer a question wants (time, money, process, which, count, place, materials, conditions)."""
    return {kind for kind, cue in _ASKS.items() if cue.search(text)}


def dice(a: set[str], b: set[str]) -> float:
    """Dice coefficient of two bigram sets: 1 for the same wording, 0 for nothing shared."""
    return 2 * len(a & b) / (len(a) + len(b)) if a and b else 0.0


@dataclass(frozen=True)
class FaqPolicy:
    """When a phrasing matches (cosine of the questions, Dice of their bigrams): nearly the
    same wording; or close meaning with half the wording; or the same meaning in other words.
    Either way the two must not want different kinds of answer or be about different places."""

    same_wording: float = 0.8
    min_similarity: float = 0.93
    min_overlap: float = 0.5
    strong_similarity: float = 0.975
    strong_min_overlap: float = 0.25

    def close(self, similarity: float, overlap: float) -> bool:
        return (
            overlap >= self.same_wording
            or (similarity >= self.min_similarity and overlap >= self.min_overlap)
            or (similarity >= self.strong_similarity and overlap >= self.strong_min_overlap)
        )


@dataclass(frozen=True)
class FaqMatch:
    document: Document
    phrasing: str  # the entry's question or the alternative phrasing that matched
    similarity: float  # cosine of the two questions' embeddings
    overlap: float  # Dice coefficient of their character bigrams

    @property
    def score(self) -> float:
        return (self.similarity + self.overlap) / 2


FAQ_EMBED_CHARS = 100  # as bot.retrieval.QUESTION_EMBED_CHARS: the embedder's cost is per character


class FaqMatcher:
    """Holds the embedded phrasings of the live FAQ entries (rebuilt on refresh)."""

    def __init__(
        self,
        documents: list[Document],
        embedder: Embedder,
        cache: dict[str, np.ndarray] | None = None,
        policy: FaqPolicy | None = None,
    ) -> None:
        self.embedder = embedder
        self.policy = policy or FaqPolicy()
        cache = {} if cache is None else cache
        self._entries: list[tuple[Document, str]] = []
        keys: list[str] = []
        for doc in documents:
            if doc.kind != "faq":
                continue
            for phrasing in dict.fromkeys((doc.title, *doc.alternatives)):
                key = question_key(phrasing)
                if key:
                    self._entries.append((doc, phrasing))
                    keys.append(key)
        for key in keys:  # phrasings embedded before (an earlier refresh) are reused
            if key not in cache:
                cache[key] = embedder.embed_question(key)
        self._keys = keys
        self._grams = [bigram_set(k) for k in keys]
        self._matrix = (
            np.stack([cache[k] for k in keys])
            if keys
            else np.zeros((0, embedder.dim), dtype=np.float32)
        )

    def __len__(self) -> int:
        return len(self._entries)

    def match(
        self,
        question: str,
        home: frozenset[str] = frozenset(),
        category: str | None = None,
        accept: Callable[[FaqMatch], bool] | None = None,
    ) -> FaqMatch | None:
        """The entry this question asks, or None when none is close enough.

        `home` are the knowledge base's own places (an entry naming none is about them);
        `category` limits the entries considered; `accept` may veto a candidate (the
        focus check: the entry must speak about what the question asks).
        """
        p = self.policy
        key = question_key(question)
        floor = min(p.same_wording, p.min_overlap, p.strong_min_overlap)
        if not any(dice(bigram_set(key), g) >= floor for g in self._grams):
            return None  # no phrasing shares enough words: skip embedding the question
        wants = asks(key)
        best = None
        for found in self._scored(key):
            if category and found.document.category != category:
                continue
            if not self.policy.close(found.similarity, found.overlap):
                continue
            other = asks(question_key(found.phrasing))
            if wants - other:  # asks for something the entry's question does not
                continue
            # Nearly the same words but one of them swapped or negated (博士 vs 硕士,
            # 可以 vs 不可以) is a different question; only a looser rewording may match.
            if found.overlap >= self.policy.min_overlap and (
                swapped_terms(question, found.phrasing)
                or _negations(key) != _negations(question_key(found.phrasing))
            ):
                continue
            doc = found.document
            evidence = " ".join((doc.title, *doc.alternatives, doc.text))
            if foreign_places(normalize(question), evidence, home):
                continue
            if best is not None and found.score <= best.score:
                continue
            if accept is not None and not accept(found):
                continue
            if best is None or found.score > best.score:
                best = found
        return best

    def nearest(self, question: str) -> FaqMatch | None:
        """The closest phrasing whether or not it is close enough (for the hit test)."""
        return max(self._scored(question_key(question)), key=lambda m: m.score, default=None)

    def _scored(self, key: str) -> list[FaqMatch]:
        """Every phrasing scored against a question reduced by question_key()."""
        if not key or not self._entries:
            return []
        grams = bigram_set(key)
        sims = self._matrix @ self.embedder.embed_question(key[:FAQ_EMBED_CHARS])
        return [
            FaqMatch(doc, phrasing, float(sims[i]), 1.0 if key == self._keys[i] else dice(grams, g))
            for i, ((doc, phrasing), g) in enumerate(zip(self._entries, self._grams, strict=True))
        ]
