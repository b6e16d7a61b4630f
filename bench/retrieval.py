"""Compare retrieval configurations on an ingested index.

    python -m ingest ../shared/benchmarks/ncp-policies/corpus --data-dir /tmp/ncp
    python bench/retrieval.py --data-dir /tmp/ncp ../shared/benchmarks/ncp-policies/questions.jsonl

Prints hit@1/3/5, MRR, supported@1, fact (answer ≤ 300 chars contains the gold span),
answer length, per-question latency and the time to build the configuration's lexical
indexes, for each configuration, through `Assistant.ask`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.assistant import Assistant  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.evaluation import METRIC_KEYS, evaluate, load_questions  # noqa: E402
from bot.retrieval import RetrievalConfig  # noqa: E402

BASE = RetrievalConfig()
CONFIGS: dict[str, RetrievalConfig] = {
    "default": BASE,
    "chunks-bm25": replace(BASE, document_weight=0, passage_weight=0, dense_weight=0),
    "doc+chunk": replace(BASE, passage_weight=0),
    "passage-only": replace(BASE, document_weight=0, chunk_weight=0, dense_weight=0),
    "doc-bm25": replace(BASE, chunk_weight=0, passage_weight=0, dense_weight=0),
    "dense": replace(
        BASE, chunk_weight=0, document_weight=0, passage_weight=0, dense_weight=1, adaptive_power=0
    ),
    "lexical": replace(BASE, dense_weight=0),
    "static-rrf-0.2": replace(BASE, dense_weight=0.2, adaptive_power=0),
    "equal-rrf": replace(BASE, chunk_weight=1, dense_weight=1, adaptive_power=0),
    "adaptive-p1": replace(BASE, adaptive_power=1),
    "words": replace(BASE, tokenizer="word"),
    "words+bigrams": replace(BASE, tokenizer="both"),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("questions", type=Path)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--configs", default=",".join(CONFIGS), help="comma-separated names")
    parser.add_argument("--limit", type=int, default=0, help="only the first N questions")
    args = parser.parse_args()
    questions = load_questions(args.questions)
    if args.limit:
        questions = questions[: args.limit]
    settings = Settings(data_dir=args.data_dir, session_turns=0, question_log_days=0)
    bot = Assistant(settings)
    cols = [k for k in METRIC_KEYS if k not in ("questions", "answer_contains")] + ["build_s"]
    docs, chunks = bot.stats
    print(
        f"{docs} documents, {chunks} chunk vectors (embedded once at ingest, shared by every "
        "configuration; bench/ingest.py measures that cost). build_s: building the "
        "configuration's lexical indexes from the records."
    )
    print(f"{'config':<16}" + "".join(f"{c:>18}" for c in cols))
    for name in args.configs.split(","):
        bot.retriever.config = CONFIGS[name]
        started = time.perf_counter()
        bot.retriever.refresh()
        built = time.perf_counter() - started
        m = {**evaluate(bot, questions).metrics(), "build_s": built}
        print(f"{name:<16}" + "".join(f"{m[c]:>18.3f}" for c in cols), flush=True)
        print(json.dumps({"config": name, **m}, ensure_ascii=False), file=sys.stderr)
    bot.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
