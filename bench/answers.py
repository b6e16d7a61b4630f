"""Answer or refuse: answerable questions answered, near-topic ones refused, aspects, follow-ups.

    python bench/answers.py kb --split dev|holdout   # the bundled knowledge base
    python bench/answers.py qiaokou                   # tests/corpora/qiaokou (tuned on)
    python bench/answers.py hongshan                  # tests/corpora/hongshan (held out, then tuned on)
    python bench/answers.py hanyang                   # tests/corpora/hanyang (held out, then tuned on)
    python bench/answers.py wuchang                   # tests/corpora/wuchang (held out, then tuned on)
    python bench/answers.py qingshan                  # tests/corpora/qingshan (held out, then tuned on)
    python bench/answers.py jiangxia                  # tests/corpora/jiangxia (held out, then tuned on)
    python bench/answers.py caidian                   # tests/corpora/caidian (held out, then tuned on)
    python bench/answers.py dongxihu                  # tests/corpora/dongxihu (held out, then tuned on)
    python bench/answers.py huangpi                   # tests/corpora/huangpi (held out, then tuned on)
    python bench/answers.py xinzhou                   # tests/corpora/xinzhou (held out, then tuned on)
    python bench/answers.py hannan                    # tests/corpora/hannan (held out, then tuned on)
    python bench/answers.py donghu                    # tests/corpora/donghu (held out, then tuned on)
    [--data-dir DIR] [--show-failures] [--json]

Sets (tests/questions/kb_*.jsonl with a `split`; tests/corpora/NAME/*.jsonl):
- answerable questions (`answer` = a phrase a correct answer contains; `section` = the
  heading that answers an aspect question);
- near-topic questions the knowledge base does not answer (they must be refused);
- two-turn follow-ups.
The corpus is ingested into --data-dir (default /tmp/jiangan-bench-NAME, kept between runs;
unchanged files are skipped).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from bot.assistant import Assistant  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.evaluation import AnswerabilityResult, evaluate_answerability, read_jsonl  # noqa: E402
from bot.index import KnowledgeIndex  # noqa: E402
from ingest.pipeline import Ingestor  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "tests" / "questions"
CORPORA = ROOT / "tests" / "corpora"


def _sets(name: str, split: str) -> tuple[Path, dict[str, list[dict[str, object]]]]:
    if name == "kb":
        answerable = read_jsonl(QUESTIONS / "kb_twins.jsonl", split) + read_jsonl(
            QUESTIONS / "kb_aspects.jsonl", split
        )
        older = "kb_questions.jsonl" if split == "dev" else "kb_holdout.jsonl"
        return ROOT / "knowledge", {
            "answerable": answerable,
            # issue #2's colloquial paraphrases, written to test retrieval by meaning
            "paraphrases": read_jsonl(QUESTIONS / older),
            "near_topic": read_jsonl(QUESTIONS / "kb_near_topic.jsonl", split),
            "followups": read_jsonl(QUESTIONS / "kb_followups.jsonl", split),
        }
    base = CORPORA / name
    return base / "docs", {
        "answerable": read_jsonl(base / "answerable.jsonl"),
        "near_topic": read_jsonl(base / "near_topic.jsonl"),
        "followups": read_jsonl(base / "followups.jsonl"),
    }


def _print_failures(result: AnswerabilityResult) -> None:
    for title, verdicts in (
        ("answerable, not answered or wrong", result.answerable),
        ("near-topic, answered", result.near_topic),
        ("aspect, wrong section", result.aspects),
        ("follow-ups, wrong", result.followups),
    ):
        bad = [v for v in verdicts if not v.ok]
        print(f"\n## {title} ({len(bad)})")
        for v in bad:
            print(f"- {v.question}  [want {v.expected}; got {v.doc_id} › {v.section}]")
            print("    " + v.answer.replace("\n", "⏎")[:160])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", help="kb, or a folder name under tests/corpora")
    parser.add_argument("--split", choices=("dev", "holdout"), default="dev")
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--show-failures", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    docs, sets = _sets(args.corpus, args.split)
    data_dir = args.data_dir or Path(f"/tmp/jiangan-bench-{args.corpus}")
    settings = Settings(data_dir=data_dir, question_log_days=0)
    index = KnowledgeIndex.open(settings)
    report = Ingestor(index, progress=False).run([docs])
    index.close()
    if not report.ok:
        print(f"ingest failed: {report.failed}", file=sys.stderr)
        return 1
    assistant = Assistant(settings)
    try:
        result = evaluate_answerability(
            assistant, sets["answerable"], sets["near_topic"], sets["followups"]
        )
        para = evaluate_answerability(assistant, sets.get("paraphrases", []), [], [])
    finally:
        assistant.close()
    metrics = result.metrics()
    if sets.get("paraphrases"):
        para_metrics = para.metrics()
        metrics["paraphrases"] = para_metrics["answerable"]
        metrics["paraphrases_answered"] = para_metrics["answered"]
        metrics["paraphrases_correct"] = para_metrics["answered_correct"]
    lat = sorted(result.latencies_ms)
    metrics["latency_p50_ms"] = statistics.median(lat) if lat else 0.0
    if args.json:
        print(json.dumps(metrics, ensure_ascii=False))
    else:
        label = f"{args.corpus}" + (f" ({args.split})" if args.corpus == "kb" else "")
        print(f"# {label}")
        for key, value in metrics.items():
            print(f"{key:>22}: {value:.3f}" if isinstance(value, float) else f"{key:>22}: {value}")
    if args.show_failures:
        _print_failures(result)
        if sets.get("paraphrases"):
            print("\n# paraphrases")
            _print_failures(para)
    return 0


if __name__ == "__main__":
    sys.exit(main())
