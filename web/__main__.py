"""`python -m web [--host 127.0.0.1] [--port 8000]` — serve the API, widget and pages."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import uvicorn

from bot.config import Settings, load_settings
from bot.errors import BotError
from web.app import create_app


def main(argv: list[str] | None = None) -> int:
    settings = Settings()
    parser = argparse.ArgumentParser(
        prog="python -m web", description="Serve 江岸企服助手 over HTTP."
    )
    parser.add_argument("--host", default=settings.host)
    parser.add_argument("--port", type=int, default=settings.port)
    parser.add_argument(
        "--data-dir", type=Path, help="index location (default: $BOT_DATA_DIR or ./data)"
    )
    args = parser.parse_args(argv)
    settings = load_settings(args.data_dir)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="info")
    except BotError as exc:
        print(f"error: {exc.message} / {exc.message_zh}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
