"""Chinese text handling: normalisation, sentence splitting, tokens for lexical search."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# Runs of CJK characters, or ASCII words/numbers (decimals and percentages kept whole).
_RUN = re.compile(rf"[{_CJK}]+|[a-z0-9]+(?:\.[0-9]+)?%?")
_SENTENCE_END = re.compile(r"(?<=[。！？；!?;])|\n+")
# A space between two pieces of Chinese text is a paragraph break in flattened notices.
_PARAGRAPH_SPACE = re.compile(rf"(?<=[{_CJK}”）)】])[ \t\u3000]+(?=[{_CJK}“（(【])")
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")

# Words that make a question a question but carry no topic. Removed from queries before
# lexical matching and coverage checks (measured in docs/EVALUATION.md).
QUERY_STOP_PHRASES = (
    "请问一下",
    "请问",
    "请教",
    "你好",
    "您好",
    "麻烦问下",
    "想问一下",
    "想问下",
    "想了解",
    "我想",
    "是什么",
    "什么样",
    "什么",
    "有哪些",
    "哪些",
    "有什么",
    "如何",
    "怎么样",
    "怎么办",
    "怎么",
    "怎样",
    "多少",
    "多久",
    "多长时间",
    "几天",
    "是否",
    "能否",
    "能不能",
    "可不可以",
    "可以",
    "有没有",
    "是不是",
    "哪里",
    "哪儿",
    "在哪",
    "哪个",
    "哪家",
    "哪位",
    "为什么",
    "吗",
    "呢",
    "吧",
    "啊",
    "呀",
    "我们",
    "我司",
    "我",
    "你们",
    "您",
    "一下",
    "的话",
    "需要",
    "要",
    "了",
)
_STOP_RE = re.compile("|".join(sorted(map(re.escape, QUERY_STOP_PHRASES), key=len, reverse=True)))


# The same texts (a document's title and body, a chunk, the question) are normalised and
# cut into n-grams many times per answer; these caches make the repeats free. Bounded, and
# keyed by the text itself, so nothing needs clearing when the knowledge base changes.
_MEMO = 16384


@functools.lru_cache(maxsize=_MEMO)
def normalize(text: str) -> str:
    """NFKC (full-width → half-width), lower case, collapsed white space."""
    text = unicodedata.normalize("NFKC", text).lower()
    return re.sub(r"[ \t\u3000\xa0]+", " ", text).strip()


def question_topic(question: str) -> str:
    """The question without its scaffolding (请问, 什么, 如何 …); may be empty."""
    return _STOP_RE.sub(" ", normalize(question))


def strip_question_words(question: str) -> str:
    """Remove question scaffolding (请问, 什么, 如何 …) so only the topic is matched."""
    stripped = question_topic(question)
    return stripped if re.search(rf"[{_CJK}a-z0-9]", stripped) else normalize(question)


def split_sentences(text: str, *, spaces: bool = False) -> list[str]:
    """Split on 。！？； and line breaks (and, with `spaces`, on spaces between Chinese text)."""
    parts = [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]
    if spaces:
        parts = [p.strip() for part in parts for p in _PARAGRAPH_SPACE.split(part) if p.strip()]
    return parts


def sections(text: str) -> list[tuple[str, str]]:
    """(heading, body) pairs of Markdown-ish text; text before any `##` heading has heading ''."""
    out: list[tuple[str, list[str]]] = [("", [])]
    for line in text.splitlines():
        m = _HEADING.match(line.strip())
        if m:
            if len(m.group(1)) == 1:
                continue  # the document title; every chunk carries it anyway
            out.append((m.group(2).strip(), []))
        else:
            out[-1][1].append(line)
    return [(h, "\n".join(lines).strip()) for h, lines in out if "\n".join(lines).strip()]


def char_ngrams(text: str, *, unigrams: bool = True, bigrams: bool = True) -> list[str]:
    """Character unigrams and bigrams inside CJK runs; ASCII words and numbers whole."""
    return list(_char_ngrams(text, unigrams, bigrams))


def _char_ngrams(text: str, unigrams: bool, bigrams: bool) -> tuple[str, ...]:
    tokens: list[str] = []
    for run in _RUN.findall(normalize(text)):
        if not ("\u3400" <= run[0] <= "\ufaff"):
            tokens.append(run)
            continue
        if unigrams:
            tokens.extend(run)
        if bigrams:
            tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
    return tuple(tokens)


def word_tokens(text: str) -> list[str]:
    """Words from jieba's search mode (rjieba), punctuation dropped."""
    import rjieba

    out: list[str] = []
    for run in _RUN.findall(normalize(text)):
        if "\u3400" <= run[0] <= "\ufaff":
            out.extend(rjieba.cut_for_search(run))
        else:
            out.append(run)
    return out


def tokenize(text: str, mode: str = "bigram") -> list[str]:
    """Lexical tokens. `bigram`: character uni+bigrams; `word`: jieba words; `both`."""
    if mode == "bigram":
        return char_ngrams(text)
    if mode == "word":
        return word_tokens(text)
    if mode == "both":
        return char_ngrams(text) + [f"w:{w}" for w in word_tokens(text)]
    raise ValueError(f"unknown tokenizer mode {mode!r}")


def bigram_set(text: str) -> set[str]:
    """Distinct CJK bigrams (and ASCII words) — the unit of overlap and coverage checks."""
    return set(_bigram_set(text))


@functools.lru_cache(maxsize=_MEMO // 4)
def _bigram_set(text: str) -> frozenset[str]:
    return frozenset(_char_ngrams(text, False, True))


def join_sentences(sentences: Iterable[str]) -> str:
    """Concatenate sentences, with a space only between two Latin-script words."""
    out = ""
    for s in sentences:
        if out and out[-1].isascii() and out[-1].isalnum() and s[:1].isascii() and s[:1].isalnum():
            out += " "
        out += s
    return out


def compact(parts: Iterable[str]) -> str:
    """Join pieces of Chinese text without stray spaces."""
    return "".join(p.strip() for p in parts if p and p.strip())
