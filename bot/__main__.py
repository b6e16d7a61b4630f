"""`python -m bot ask "问题"` and `python -m bot eval QUESTIONS.jsonl`.

Exit codes: 0 done; 1 the assistant could not run (empty or mismatched index); 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.config import load_settings
from bot.errors import BotError


def _ask(args: argparse.Namespace) -> int:
    from bot.assistant import Assistant

    question = args.question.strip()
    if not question or len(question) > 1000:
        print(
            "error: the question must be 1–1000 characters / 问题长度须为1到1000字", file=sys.stderr
        )
        return 2
    # one question at a time: no conversation to keep
    assistant = Assistant(
        load_settings(args.data_dir).model_copy(
            update={"session_turns": 0, "question_log_days": 0}
        ),
        writer=False,  # answers only: runs beside a serving `python -m web`
    )
    try:
        answer = assistant.ask(question, category=args.category)
    finally:
        assistant.close()
    if args.json:
        print(
            json.dumps(
                {
                    "answer": answer.text,
                    "answered": answer.answered,
                    "sources": [s.public() for s in answer.sources],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return 0
    print(answer.text)
    if answer.sources:
        print("\n来源 Sources:")
        for n, s in enumerate(answer.sources, start=1):
            where = f" · {s.section}" if s.section else ""
            print(f"  [{n}] {s.title}{where} ({s.doc_id}, {s.score:.3f})")
    return 0


def _eval(args: argparse.Namespace) -> int:
    from bot.assistant import Assistant
    from bot.evaluation import evaluate, format_metrics, load_questions, require_documents

    if not args.questions.is_file():
        print(f"error: no such file: {args.questions} / 文件不存在", file=sys.stderr)
        return 2
    try:
        questions = load_questions(args.questions)
    except BotError as exc:
        print(f"error: {exc.message} / {exc.message_zh}", file=sys.stderr)
        return 2
    # one question at a time: no conversation to keep
    assistant = Assistant(
        load_settings(args.data_dir).model_copy(
            update={"session_turns": 0, "question_log_days": 0}
        ),
        writer=False,  # answers only: runs beside a serving `python -m web`
    )
    try:
        require_documents(assistant)
        metrics = evaluate(assistant, questions).metrics()
    finally:
        assistant.close()
    print(json.dumps(metrics, ensure_ascii=False) if args.json else format_metrics(metrics))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot", description="江岸企服助手 in the terminal."
    )
    parser.add_argument(
        "--data-dir", type=Path, help="index location (default: $BOT_DATA_DIR or ./data)"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    ask = sub.add_parser("ask", help="answer one question with its sources")
    ask.add_argument("question")
    ask.add_argument("--category", help="only search this category")
    ask.add_argument("--json", action="store_true", help="print the HTTP API's JSON shape")
    ask.set_defaults(run=_ask)
    ev = sub.add_parser(
        "eval", help="hit@1/3/5, MRR, supported@1 and answer-contains over a JSONL file"
    )
    ev.add_argument("questions", type=Path, help='JSONL lines {"question", "doc_id", "answer"}')
    ev.add_argument("--json", action="store_true", help="print the metrics as one JSON object")
    ev.set_defaults(run=_eval)
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except BotError as exc:
        print(f"error: {exc.message} / {exc.message_zh}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
