"""`python -m ingest PATH [PATH ...] [--data-dir DIR]` — exit 0 ok, 1 some files failed, 2 usage."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from bot.config import load_settings
from bot.errors import BotError
from bot.index import KnowledgeIndex
from ingest.pipeline import Ingestor


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ingest",
        description="Index knowledge-base files (.md .txt .html .docx .doc .wps .pdf .ofd .pptx .csv .xlsx .et) incrementally.",
    )
    parser.add_argument(
        "paths", nargs="+", type=Path, metavar="PATH", help="files or folders to index"
    )
    parser.add_argument(
        "--data-dir", type=Path, help="index location (default: $BOT_DATA_DIR or ./data)"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")

    missing = [str(p) for p in args.paths if not p.exists()]
    if missing:
        print(f"error: no such file or folder: {', '.join(missing)} / 路径不存在", file=sys.stderr)
        return 2
    settings = load_settings(args.data_dir)
    try:
        index = KnowledgeIndex.open(settings)
        try:
            report = Ingestor(index, progress=not args.quiet).run(args.paths)
        finally:
            index.close()
    except BotError as exc:
        print(f"error: {exc.message} / {exc.message_zh}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "interrupted: the index keeps every file completed so far / 已中断，已完成的文件保留在索引中",
            file=sys.stderr,
        )
        return 130
    for warning in report.warnings:
        print(f"warning: {warning.reason}", file=sys.stderr)
    for failure in report.failed:
        print(f"failed: {failure.path}: {failure.reason}", file=sys.stderr)
    print(report.summary())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
