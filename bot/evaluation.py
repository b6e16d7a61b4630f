"""Retrieval and answer metrics over a question set, through `Assistant.ask`."""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from bot.answering.extractive import strip_markers
from bot.assistant import Assistant
from bot.errors import BotError
from bot.text import normalize


@dataclass(frozen=True)
class EvalQuestion:
    question: str
    doc_id: str
    answer: str = ""


def load_questions(path: Path) -> list[EvalQuestion]:
    """Read `{"question", "doc_id", "answer"}` lines; raises BotError with the line number."""
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            out.append(
                EvalQuestion(str(row["question"]), str(row["doc_id"]), str(row.get("answer", "")))
            )
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise BotError(
                f"{path}:{n}: expected a JSON object with question and doc_id ({exc})",
                message_zh=f"{path} 第{n}行格式错误",
            ) from exc
    return out


@dataclass
class EvalResult:
    n: int = 0
    hits: dict[int, int] = field(default_factory=lambda: {1: 0, 3: 0, 5: 0})
    reciprocal_ranks: float = 0.0
    supported_at_1: int = 0
    fact: int = 0
    contains: int = 0
    answered: int = 0
    answer_chars: list[int] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)

    def metrics(self) -> dict[str, float]:
        n = max(self.n, 1)
        lat = sorted(self.latencies_ms) or [0.0]
        return {
            "questions": self.n,
            "hit@1": self.hits[1] / n,
            "hit@3": self.hits[3] / n,
            "hit@5": self.hits[5] / n,
            "mrr": self.reciprocal_ranks / n,
            "supported@1": self.supported_at_1 / n,
            "fact": self.fact / n,
            "answer_contains": self.contains / n,
            "answered": self.answered / n,
            "answer_chars_mean": statistics.fmean(self.answer_chars) if self.answer_chars else 0.0,
            "latency_p50_ms": lat[len(lat) // 2],
            "latency_p95_ms": lat[min(len(lat) - 1, int(len(lat) * 0.95))],
        }


def _squash(text: str) -> str:
    return "".join(normalize(text).split())


def evaluate(
    assistant: Assistant, questions: list[EvalQuestion], fact_max_chars: int = 300
) -> EvalResult:
    """Ask every question; rank of the gold document among the answer's retrieved documents."""
    result = EvalResult()
    for q in questions:
        started = time.perf_counter()
        answer = assistant.ask(q.question)
        result.latencies_ms.append((time.perf_counter() - started) * 1000)
        ranked = [h.document.doc_id for h in answer.retrieved]
        result.n += 1
        if q.doc_id in ranked:
            rank = ranked.index(q.doc_id) + 1
            result.reciprocal_ranks += 1 / rank
            for k in result.hits:
                result.hits[k] += rank <= k
        gold = _squash(q.answer)
        if gold and answer.retrieved and gold in _squash(answer.retrieved[0].document.text):
            result.supported_at_1 += 1
        text = _squash(strip_markers(answer.text)) if answer.answered else ""
        result.answered += answer.answered
        result.answer_chars.append(len(text))
        if gold and gold in text:
            result.contains += 1
            result.fact += len(text) <= fact_max_chars
    return result


METRIC_KEYS = (
    "questions", "hit@1", "hit@3", "hit@5", "mrr", "supported@1", "fact", "answer_contains",
    "answered", "answer_chars_mean", "latency_p50_ms", "latency_p95_ms",
)  # fmt: skip


def format_metrics(metrics: dict[str, float]) -> str:
    keys = METRIC_KEYS
    return "\n".join(
        f"{k:>18}: {metrics[k]:.3f}" if isinstance(metrics[k], float) else f"{k:>18}: {metrics[k]}"
        for k in keys
    )


def require_documents(assistant: Assistant) -> None:
    """Fail early, with a clear message, when there is nothing to evaluate against."""
    if assistant.stats[0] == 0:
        raise BotError(
            "the index is empty: run `python -m ingest PATH` first",
            message_zh="索引为空：请先运行 python -m ingest 导入文档",
        )


# --- answer or refuse: labelled sets of answerable, near-topic and follow-up questions ----
def read_jsonl(path: Path, split: str | None = None) -> list[dict[str, object]]:
    """JSON lines of a labelled set; with `split`, only the lines of that split (dev/holdout)."""
    rows = [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    return [r for r in rows if split is None or r.get("split", split) == split]


@dataclass
class Verdict:
    question: str
    ok: bool
    answered: bool
    answer: str
    doc_id: str = ""  # the cited document
    section: str = ""  # the cited section
    expected: str = ""


@dataclass
class AnswerabilityResult:
    """Answerable questions answered (and right), near-topic ones refused, aspects, follow-ups."""

    answerable: list[Verdict] = field(default_factory=list)  # ok: answered and contains the gold
    answered: list[Verdict] = field(default_factory=list)  # ok: answered at all
    near_topic: list[Verdict] = field(default_factory=list)  # ok: refused
    aspects: list[Verdict] = field(default_factory=list)  # ok: the gold doc and section cited
    followups: list[Verdict] = field(default_factory=list)  # ok: answered and contains the gold
    latencies_ms: list[float] = field(default_factory=list)

    def metrics(self) -> dict[str, float]:
        def rate(vs: list[Verdict]) -> float:
            return sum(v.ok for v in vs) / len(vs) if vs else float("nan")

        return {
            "answerable": len(self.answered),
            "answered": rate(self.answered),
            "answered_correct": rate(self.answerable),
            "near_topic": len(self.near_topic),
            "near_topic_refused": rate(self.near_topic),
            "aspect_questions": len(self.aspects),
            "aspect_right_section": rate(self.aspects),
            "followups": len(self.followups),
            "followups_correct": rate(self.followups),
        }


def _contains(answer_text: str, gold: str) -> bool:
    return bool(gold) and _squash(gold) in _squash(strip_markers(answer_text))


def evaluate_answerability(
    assistant: Assistant,
    answerable: list[dict[str, object]],
    near_topic: list[dict[str, object]],
    followups: list[dict[str, object]] = (),  # type: ignore[assignment]
) -> AnswerabilityResult:
    """Ask every labelled question (follow-ups as two turns of one conversation)."""
    out = AnswerabilityResult()

    def ask(question: str, session_id: str | None = None) -> Any:
        started = time.perf_counter()
        answer = assistant.ask(question, session_id=session_id)
        out.latencies_ms.append((time.perf_counter() - started) * 1000)
        return answer

    for row in answerable:
        q, gold = str(row["question"]), str(row.get("answer", ""))
        a = ask(q)
        cited = a.sources[0] if a.answered and a.sources else None
        v: dict[str, Any] = {
            "question": q,
            "answered": a.answered,
            "answer": a.text,
            "doc_id": cited.doc_id if cited else "",
            "section": cited.section if cited else "",
        }
        out.answered.append(Verdict(ok=a.answered, expected=str(row.get("doc_id", "")), **v))
        out.answerable.append(
            Verdict(ok=a.answered and _contains(a.text, gold), expected=gold, **v)
        )
        section = str(row.get("section") or "")
        if section:
            right = cited is not None and (
                (
                    cited.doc_id == row.get("doc_id")
                    and normalize(cited.section).startswith(normalize(section))
                )
                # a staff-written FAQ entry (matched, or retrieved as a row) that answers it
                or (
                    (
                        a.mode == "faq"
                        or any(
                            h.document.kind == "faq" and h.document.doc_id == cited.doc_id
                            for h in a.retrieved
                        )
                    )
                    and _contains(a.text, gold)
                )
            )
            out.aspects.append(Verdict(ok=right, expected=f"{row.get('doc_id')} › {section}", **v))
    for row in near_topic:
        q = str(row["question"])
        a = ask(q)
        out.near_topic.append(
            Verdict(
                question=q,
                ok=not a.answered,
                answered=a.answered,
                answer=a.text,
                doc_id=a.sources[0].doc_id if a.answered and a.sources else "",
                expected=str(row.get("focus", "")),
            )
        )
    for row in followups:
        turns = [str(t) for t in cast(list[object], row["turns"])]
        first = ask(turns[0])
        a = ask(turns[1], session_id=first.session_id)
        gold = str(row.get("answer", ""))
        out.followups.append(
            Verdict(
                question=" → ".join(turns) + f" ⇒ {a.question}",
                ok=a.answered and _contains(a.text, gold),
                answered=a.answered,
                answer=a.text,
                doc_id=a.sources[0].doc_id if a.answered and a.sources else "",
                expected=gold,
            )
        )
    return out
