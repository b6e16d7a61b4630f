"""The synonym list (`synonyms.txt`, or the file `BOT_SYNONYMS` names): words that name the
same thing, and sibling classes a follow-up may substitute (硕士 → 博士)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from bot.errors import ConfigurationError
from bot.text import normalize

DEFAULT_PATH = Path(__file__).with_name("synonyms.txt")
_SIBLINGS_MARK = "[同类]"


@dataclass(frozen=True)
class Lexicon:
    """Synonym groups and sibling classes, looked up by word."""

    synonyms: dict[str, frozenset[str]] = field(default_factory=dict)
    siblings: dict[str, frozenset[str]] = field(default_factory=dict)

    def same(self, word: str) -> frozenset[str]:
        """Other words for the same thing (not including the word itself)."""
        return self.synonyms.get(word, frozenset())

    def kin(self, word: str) -> frozenset[str]:
        """Words of the same kind that a follow-up may put in its place (and their synonyms)."""
        kin = set(self.siblings.get(word, frozenset()))
        for same in self.same(word):
            kin |= self.siblings.get(same, frozenset())
        kin |= {s for k in list(kin) for s in self.same(k)}
        return frozenset(kin - {word} - self.same(word))

    @classmethod
    def parse(cls, text: str) -> Lexicon:
        synonyms: dict[str, set[str]] = {}
        siblings: dict[str, set[str]] = {}
        target = synonyms
        for raw in text.splitlines():
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            if line == _SIBLINGS_MARK:
                target = siblings
                continue
            words = [normalize(w) for w in line.split() if w.strip()]
            for word in words:
                target.setdefault(word, set()).update(w for w in words if w != word)
        return cls(
            {w: frozenset(s) for w, s in synonyms.items()},
            {w: frozenset(s) for w, s in siblings.items()},
        )


@cache
def _load(path: Path) -> Lexicon:
    try:
        return Lexicon.parse(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(
            f"cannot read the synonym list {path}: {exc}",
            message_zh=f"无法读取同义词表 {path}",
        ) from exc


def load_lexicon(path: Path | str | None = None) -> Lexicon:
    """The synonym list at `path` (default: the bundled `synonyms.txt`), read once."""
    return _load(Path(path) if path else DEFAULT_PATH)
