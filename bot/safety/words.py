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
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources

import ahocorasick
import opencc

ALLOW_PREFIX = "!"
MAX_WORD_CHARS = 50
# what stays a break between words after folding (NFKC turns ！？；｡ into ! ? ; 。)
_BREAKS = "。!?;\n"
# every character that is not a letter or digit (\w without _) and not a break is dropped
_DROP = re.compile(r"[^\w。!?;\n]|_")
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
    return _DROP.sub("", _unfolded(text).replace("\r", "\n"))


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

    def check(self, text: str) -> Verdict | None:
        """The first list word the text contains (through the disguises folding undoes)."""
        if self._automaton is None or not text:
            return None
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
            return None
        gaps: list[bool] | None = None
        for start, entry in found:
            end = start + len(entry.folded) - 1
            if any(a <= end and start <= b for a, b in allowed):
                continue
            if entry.ascii_start or entry.ascii_end:
                gaps = gaps if gaps is not None else _gaps(text, len(folded))
                if not _ascii_bounded(folded, gaps, start, end, entry):
                    continue
            return Verdict(entry.word)
        return None


def _gaps(text: str, length: int) -> list[bool]:
    """gaps[i]: whether folding dropped something just before folded character i (or i is
    the start); one more entry for the end. Only computed when an ASCII word matched."""
    gaps = [True]
    dropped = False
    for char in _unfolded(text).replace("\r", "\n"):
        if _DROP.fullmatch(char):
            dropped = True
            continue
        gaps[-1] = gaps[-1] or dropped
        gaps.append(False)
        dropped = False
    gaps[-1] = True  # the end of the text is a boundary
    assert len(gaps) == length + 1, "folding must drop the same characters"
    return gaps


def _ascii_bounded(folded: str, gaps: list[bool], start: int, end: int, entry: _Entry) -> bool:
    if entry.ascii_start and not gaps[start] and folded[start - 1] in _ASCII_ALNUM:
        return False
    return not (entry.ascii_end and not gaps[end + 1] and folded[end + 1] in _ASCII_ALNUM)
