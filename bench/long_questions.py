"""What one question costs by its length (issue #13: a 1,000-character question used to
take 2–3 s of CPU; bounded work keeps it near 0.2 s).

    python bench/long_questions.py [--data-dir DIR]

Ingests the bundled knowledge base into DIR (kept between runs) and prints, per kind of
question and length, the CPU and wall time of `Assistant.ask` (median of 3).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from bot.assistant import Assistant  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.index import KnowledgeIndex  # noqa: E402
from ingest.pipeline import Ingestor  # noqa: E402

KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/jiangan-bench-long"))
    args = parser.parse_args()
    settings = Settings(data_dir=args.data_dir, question_log_days=0, session_turns=0)
    index = KnowledgeIndex.open(settings)
    Ingestor(index, progress=False).run([KNOWLEDGE])
    index.close()
    bot = Assistant(settings)
    bot.ask("企业开办要多久")  # warm up
    rng = random.Random(1)
    policy = "我们公司想了解人才公寓申请条件和企业开办需要的材料以及高新技术企业认定的奖励标准还有贷款贴息怎么申请，"
    kinds = {
        "policy words": lambda n: (policy * (n // len(policy) + 1))[:n],
        "random hanzi": lambda n: "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(n)),
        "mixed latin": lambda n: ("企业开办 abc123 上海 人才公寓 " * (n // 20 + 1))[:n],
    }
    print(f"{'question':14s} {'chars':>5s} {'cpu s':>7s} {'wall s':>7s}")
    for name, make in kinds.items():
        for n in (20, 100, 300, 1000):
            cpu, wall = [], []
            for _ in range(3):
                q = make(n)
                c, w = time.process_time(), time.perf_counter()
                bot.ask(q)
                cpu.append(time.process_time() - c)
                wall.append(time.perf_counter() - w)
            print(f"{name:14s} {n:5d} {statistics.median(cpu):7.3f} {statistics.median(wall):7.3f}")
    bot.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
