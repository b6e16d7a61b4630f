"""The sensitive-word matcher: one Aho-Corasick automaton over the folded list.

Both the list and the text are *folded* the same way before matching, so that the usual
disguises meet the word they hide:

1. NFKC: full-width letters, digits and punctuation become half-width (ｄｕｂｏ → dubo,
   ＊ → *), compatibility forms their plain letter;
2. casefold (DuBo → dubo);
3. OpenCC `t2s`: traditional characters become simplified (賭博 → 赌博);
4. everything that is not a letter or a digit is dropped — spaces, punctuation, symbols,
   emoji, zero-width and control characters, combining marks, `_` — so 「赌 博」「赌*博」
   「赌​博」「赌😀博」 read 赌博; **except** the sentence ends 。 ! ? ; and line breaks,
   which stay as breaks: a word never matches across them (「…办法。轮到…」 is not 法轮).

(Step 4 runs first on the raw text too — NFKC and OpenCC then see only what is left — and
once more at the end, for what NFKC makes of compatibility characters: ½ → 1⁄2.)

False positives are kept down by two rules besides the breaks:

- a word that begins (ends) with an ASCII letter or digit matches only where the text does
  not continue with another ASCII letter or digit before (after) it — separators dropped by
  folding count as a boundary — so `sb` is not found in `USB接口`, nor `sex` in `Essex`;
- *allowed phrases* (list lines starting with `!`, e.g. `!反洗钱`, `!防范虚开`): a match
  that overlaps an occurrence of an allowed phrase is ignored (「反洗钱合规」「如何防范虚开
  发票」 are legitimate questions though 洗钱 and 虚开发票 are listed).

Not matched: a word split by other letters or digits (赌1博, 赌x博), pinyin or homophones
not on the list (du bo, 堵博), characters that merely look alike (a Cyrillic о for o).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources

import ahocorasick
import opencc

ALLOW_PREFIX = "!"
MAX_WORD_CHARS = 50
# Every character that is not a letter or digit (\w without _) and not a break is dropped:
# first from the raw text (its full-width breaks ！？；｡ kept), so that NFKC and OpenCC see
# only what is left (NFKC costs ~0.2 µs a character on text with full-width punctuation);
# then once more after them, for what NFKC makes of a compatibility character (½ → 1⁄2).
_DROP_RAW = re.compile(r"[^\w。!?;！？；｡\n]|_")
_DROP = re.compile(r"[^\w。!?;\n]|_")
_WIDE_BREAKS = (("？", "?"), ("！", "!"), ("；", ";"), ("｡", "。"))
_DROP_ALL = re.compile(r"\W|_")  # for list words: breaks too
_ASCII_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


@cache
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def _unfolded(text: str) -> str:
    """Steps 1–3 of folding: half-width, case-folded, simplified; separators still in."""
    return _t2s().convert(unicodedata.normalize("NFKC", text).casefold())


def fold(text: str) -> str:
    """The text as it is matched (see the module's docstring)."""
    kept = _DROP_RAW.sub("", text)
    # the full-width breaks as NFKC would write them: what is left is then usually NFKC
    # already, which NFKC's quick check sees at once (~0.4 µs instead of ~20 for 100 characters)
    for wide, narrow in _WIDE_BREAKS:
        kept = kept.replace(wide, narrow)
    return _DROP.sub("", _unfolded(kept))


def fold_word(word: str) -> str:
    """A list word as it is matched: folded, with no breaks in it ('' if nothing is left)."""
    return _DROP_ALL.sub("", _unfolded(word))


@dataclass(frozen=True)
class Verdict:
    """Why a text was blocked: the list word it matched (for staff logs, never for users)."""

    word: str


@dataclass(frozen=True)
class _Entry:
    word: str  # as staff wrote it
    folded: str
    allowed: bool
    ascii_start: bool
    ascii_end: bool


def parse_lines(text: str) -> list[str]:
    """List lines → entries: stripped, without blank lines and `#` comments (a `#` starts a
    comment only at the start of a line or after whitespace)."""
    words = []
    for line in text.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", line).strip()
        if line:
            words.append(line)
    return words


def default_words() -> list[str]:
    """The shipped list (bot/safety/default_words.txt)."""
    return parse_lines(
        resources.files("bot.safety").joinpath("default_words.txt").read_text("utf-8")
    )


class SensitiveWords:
    """An immutable matcher over one word list; thread-safe (nothing changes after build).

    >>> SensitiveWords(["赌博"]).check("哪里可以賭 博？")
    Verdict(word='赌博')
    """

    def __init__(self, words: Iterable[str]) -> None:
        self.words: tuple[str, ...] = tuple(dict.fromkeys(w.strip() for w in words if w.strip()))
        automaton = ahocorasick.Automaton()
        for word in self.words:
            allowed = word.startswith(ALLOW_PREFIX)
            folded = fold_word(word[1:] if allowed else word)
            if not folded:
                continue
            if automaton.exists(folded):
                # the same folded key twice (賭博 and 赌博): a blocking word wins over an allowed
                # phrase, else the first one written is the one named
                old: _Entry = automaton.get(folded)
                if old.allowed and not allowed:
                    automaton.add_word(folded, self._entry(word, folded, allowed))
                continue
            automaton.add_word(folded, self._entry(word, folded, allowed))
        self._automaton = automaton if len(automaton) else None
        if self._automaton is not None:
            self._automaton.make_automaton()
        self.count = sum(1 for w in self.words if not w.startswith(ALLOW_PREFIX))

    @staticmethod
    def _entry(word: str, folded: str, allowed: bool) -> _Entry:
        return _Entry(word, folded, allowed, folded[0] in _ASCII_ALNUM, folded[-1] in _ASCII_ALNUM)

    def __len__(self) -> int:
        return self.count

    def check(self, text: str, *, besides: frozenset[str] = frozenset()) -> Verdict | None:
        """The first list word the text contains (through the disguises folding undoes),
        other than the words in `besides`."""
        for word in self._matches(text):
            if word not in besides:
                return Verdict(word)
        return None

    def found(self, text: str) -> frozenset[str]:
        """Every list word the text contains."""
        return frozenset(self._matches(text))

    def _matches(self, text: str) -> Iterator[str]:
        if self._automaton is None or not text:
            return
        folded = fold(text)
        found: list[tuple[int, _Entry]] = []  # (start, entry)
        allowed: list[tuple[int, int]] = []
        for end, entry in self._automaton.iter(folded):
            start = end - len(entry.folded) + 1
            if entry.allowed:
                allowed.append((start, end))
            else:
                found.append((start, entry))
        if not found:
            return
        gaps: list[bool] | None = None
        computed = False
        for start, entry in found:
            end = start + len(entry.folded) - 1
            if any(a <= end and start <= b for a, b in allowed):
                continue
            if entry.ascii_start or entry.ascii_end:
                if not computed:
                    gaps, computed = _gaps(text, len(folded)), True
                if not _ascii_bounded(folded, gaps, start, end, entry):
                    continue
            yield entry.word


def _gaps(text: str, length: int) -> list[bool] | None:
    """gaps[i]: whether folding dropped something just before folded character i (or i is
    the start); one more entry for the end. Only computed when an ASCII word matched: each
    kept character folded alone (OpenCC maps one character to one); None if that does not
    add up to the folded text (a phrase conversion changed a length)."""
    gaps = [True]
    dropped = False
    for char in text:
        if _DROP_RAW.fullmatch(char):
            dropped = True
            continue
        out = len(_DROP.sub("", unicodedata.normalize("NFKC", char).casefold()))
        if not out:
            dropped = True
            continue
        gaps[-1] = gaps[-1] or dropped
        gaps.extend([False] * out)
        dropped = False
    gaps[-1] = True  # the end of the text is a boundary
    return gaps if len(gaps) == length + 1 else None


def _ascii_bounded(
    folded: str, gaps: list[bool] | None, start: int, end: int, entry: _Entry
) -> bool:
    if gaps is None:  # no positions of dropped characters: the folded neighbours decide
        gaps = [False] * (len(folded) + 1)
        gaps[0] = gaps[-1] = True
    if entry.ascii_start and not gaps[start] and folded[start - 1] in _ASCII_ALNUM:
        return False
    return not (entry.ascii_end and not gaps[end + 1] and folded[end + 1] in _ASCII_ALNUM)
