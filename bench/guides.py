"""Service guides, expiry and profile extraction (issue #12), on tests/corpora/guides (written blind).

    python bench/guides.py [--corpus DIR] [--split dev|holdout|all] [--data-dir DIR] [--show-failures]

--corpus defaults to tests/corpora/guides (tuned on its dev split); tests/corpora/guides2 is a
second blind set kept aside (measured once, not tuned on).

- fields: the share of field questions answered from the right guide with the **whole** field
  (every `must` phrase — for lists the first, a middle and the last item — in the answer);
- expired: the share of questions about an expired policy whose answer says it expired and
  names the date;
- profiles: extraction accuracy on colloquial self-descriptions (fields exactly right, and
  descriptions with every field right).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from bot.assistant import Assistant  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.index import KnowledgeIndex  # noqa: E402
from bot.policies.profile import extract  # noqa: E402
from bot.policies.validity import chinese_date  # noqa: E402
from ingest.pipeline import Ingestor  # noqa: E402

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "corpora" / "guides"


def _lines(name: str) -> list[dict]:
    return [
        json.loads(x) for x in (CORPUS / name).read_text(encoding="utf-8").splitlines() if x.strip()
    ]


def profile_accuracy(today: dt.date) -> tuple[float, float, list[str]]:
    rows = _lines("profiles.jsonl")
    fields = exact = right = 0
    failures = []
    for r in rows:
        got, want = extract(r["text"], today), r["profile"]
        keys = set(got) | set(want)
        ok = [k for k in keys if _same(k, got.get(k), want.get(k))]
        fields += len(keys)
        right += len(ok)
        exact += len(ok) == len(keys)
        if len(ok) != len(keys):
            failures.append(f"{r['text']}\n    got {got}\n   want {want}")
    return right / max(fields, 1), exact / max(len(rows), 1), failures


def _same(key: str, got: object, want: object) -> bool:
    if key == "industry" and isinstance(got, str) and isinstance(want, str):
        return got in want or want in got
    if key == "qualifications" and isinstance(got, list) and isinstance(want, list):
        return sorted(got) == sorted(want)
    return got == want


def main() -> int:
    global CORPUS
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", type=Path, default=None)
    parser.add_argument("--split", default="all", choices=["dev", "holdout", "all"])
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/jiangan-bench-guides"))
    parser.add_argument("--show-failures", action="store_true")
    args = parser.parse_args()
    CORPUS = (args.corpus or CORPUS).resolve()
    settings = Settings(data_dir=args.data_dir, question_log_days=0, session_turns=0)
    index = KnowledgeIndex.open(settings)
    report = Ingestor(index, progress=False).run([CORPUS / "docs"])
    index.close()
    assert report.ok, report.failed
    bot = Assistant(settings)
    questions = [q for q in _lines("fields.jsonl") if args.split in ("all", q["split"])]
    whole = cited = 0
    failures = []
    for q in questions:
        a = bot.ask(q["question"])
        right_doc = a.answered and bool(a.sources) and a.sources[0].doc_id == q["doc_id"]
        has_all = right_doc and all(p in a.text for p in q["must"])
        cited += right_doc
        whole += has_all
        if not has_all:
            failures.append(
                f"[{q['field']}] {q['question']} → {a.mode} {a.sources[0].doc_id if a.sources else '-'}: {a.text[:160]!r}"
            )
    expired = _lines("expired.jsonl")
    said = 0
    for q in expired:
        a = bot.ask(q["question"])
        ok = (
            a.answered
            and ("已失效" in a.text or "已到期" in a.text)
            and chinese_date(q["date"]) in a.text
        )
        said += ok
        if not ok:
            failures.append(f"[expired] {q['question']} → {a.text[:160]!r}")
    today = dt.date(2026, 12, 7)  # the day the descriptions were written (去年 = 2025)
    field_acc, exact, pfail = profile_accuracy(today)
    bot.close()
    n = len(questions)
    print(f"corpus {CORPUS.name}")
    print(
        f"guide fields ({args.split}, {n} questions): right guide cited {cited / n:.3f}, whole field {whole / n:.3f}"
    )
    print(
        f"expired policies ({len(expired)} questions): said expired with the date {said / len(expired):.3f}"
    )
    print(
        f"profiles ({len(_lines('profiles.jsonl'))} descriptions): fields right {field_acc:.3f}, descriptions all right {exact:.3f}"
    )
    if args.show_failures:
        print("\n".join(failures + pfail))
    return 0


if __name__ == "__main__":
    sys.exit(main())
