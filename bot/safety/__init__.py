"""Content safety: the sensitive-word list checked on every question and every answer."""

from bot.safety.book import MAX_WORDS, SensitiveWordBook, WordList, clean
from bot.safety.words import (
    MAX_WORD_CHARS,
    SensitiveWords,
    Verdict,
    default_words,
    fold,
    parse_lines,
)

__all__ = [
    "MAX_WORDS",
    "MAX_WORD_CHARS",
    "SensitiveWordBook",
    "SensitiveWords",
    "Verdict",
    "WordList",
    "clean",
    "default_words",
    "fold",
    "parse_lines",
]
