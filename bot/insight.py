"""What staff should look at: unanswered and disliked questions grouped by similar wording.

Questions are grouped greedily, most frequent first: a question joins the group whose
first question shares most of its character bigrams (Dice ≥ `min_overlap`, after courtesy
words and punctuation are removed), else it starts a group of its own.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from bot.answering.faq import dice, question_key, swapped_terms
from bot.text import bigram_set


@dataclass
class QuestionGroup:
    question: str  # the most frequent wording
    count: int = 0
    last_at: float = 0.0
    examples: list[str] = field(default_factory=list)  # other wordings, most frequent first
    answered: int = 0
    extra: dict[str, object] = field(default_factory=dict)

    def public(self) -> dict[str, object]:
        return {
            "question": self.question,
            "count": self.count,
            "last_at": self.last_at,
            "examples": self.examples,
            "answered": round(self.answered / self.count, 3) if self.count else 0.0,
            **self.extra,
        }


def group_questions(
    rows: Iterable[dict[str, object]], min_overlap: float = 0.6, max_examples: int = 5
) -> list[QuestionGroup]:
    """Rows with `question`, `at` (and optionally `answered`) → groups, largest first."""
    by_key: dict[str, list[dict[str, object]]] = {}
    for row in rows:
        key = question_key(str(row["question"]))
        if key:
            by_key.setdefault(key, []).append(row)
    groups: list[tuple[set[str], QuestionGroup]] = []
    for key, items in sorted(by_key.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        grams = bigram_set(key)
        wording = Counter(str(r["question"]).strip() for r in items).most_common(1)[0][0]
        # 硕士来江岸有多少补贴 and 博士来江岸有多少补贴 share most words but are two questions
        scored = [
            (dice(grams, g), group)
            for g, group in groups
            if not swapped_terms(key, question_key(group.question))
        ]
        overlap, group = max(scored, key=lambda sg: sg[0], default=(0.0, None))
        if group is None or overlap < min_overlap:
            group = QuestionGroup(question=wording)
            groups.append((grams, group))
        elif wording not in group.examples and len(group.examples) < max_examples:
            group.examples.append(wording)
        group.count += len(items)
        group.answered += sum(1 for r in items if r.get("answered"))
        group.last_at = max(group.last_at, *(float(str(r["at"])) for r in items))
    return sorted((g for _, g in groups), key=lambda g: (-g.count, -g.last_at))


def as_asked(rows: Iterable[dict[str, object]]) -> list[dict[str, object]]:
    """Rows worded as the question they stand for: a follow-up ("需要什么材料？") counts as
    its standalone question ("企业开办需要什么材料？")."""
    return [{**r, "question": str(r.get("standalone") or r["question"])} for r in rows]


def daily_counts(
    rows: Iterable[dict[str, object]], days: int, now: float | None = None
) -> list[dict[str, object]]:
    """Questions asked and answered per calendar day (local time), oldest first, every day."""
    now = time.time() if now is None else now
    today = datetime.fromtimestamp(now).date()
    first = today - timedelta(days=days - 1)
    asked: Counter[date] = Counter()
    answered: Counter[date] = Counter()
    for row in rows:
        day = datetime.fromtimestamp(float(str(row["at"]))).date()
        asked[day] += 1
        answered[day] += bool(row.get("answered"))
    out: list[dict[str, object]] = []
    for n in range(days):
        day = first + timedelta(days=n)
        out.append({"date": day.isoformat(), "asked": asked[day], "answered": answered[day]})
    return out
