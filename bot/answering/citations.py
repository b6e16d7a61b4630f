"""Citation repair for generated answers, usable on a whole text or on a stream of deltas.

The model cites numbered passages as [n]. Markers that point at no passage are dropped;
the rest are renumbered in order of first use, so `sources` lists exactly the cited
passages in marker order and the text streamed to a client is already the repaired text.
"""

from __future__ import annotations

import re

_MARKER = re.compile(r"[\[【](\d{1,3})[\]】]")  # models write [n] or 【n】
_OPEN = re.compile(r"[\[【]\d{0,3}$")  # a marker that may still be arriving


class CitationFilter:
    """Feed model output in pieces; get back text that is safe to show."""

    def __init__(self, passages: int) -> None:
        self.passages = passages
        self.cited: list[int] = []  # passage numbers (1-based) in order of first citation
        self._pending = ""

    def feed(self, delta: str) -> str:
        text = self._pending + delta
        hold = _OPEN.search(text)
        self._pending = text[hold.start() :] if hold else ""
        return self._repair(text[: hold.start()] if hold else text)

    def finish(self) -> str:
        text, self._pending = self._pending, ""
        return self._repair(text)

    def _repair(self, text: str) -> str:
        return _MARKER.sub(self._renumber, text)

    def _renumber(self, match: re.Match[str]) -> str:
        n = int(match.group(1))
        if not 1 <= n <= self.passages:
            return ""
        if n not in self.cited:
            self.cited.append(n)
        return f"[{self.cited.index(n) + 1}]"


def repair_citations(text: str, passages: int) -> tuple[str, list[int]]:
    """(repaired text, cited passage numbers in marker order) for a complete answer."""
    f = CitationFilter(passages)
    out = f.feed(text) + f.finish()
    return out, f.cited
