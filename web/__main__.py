"""`python -m web [--host 127.0.0.1] [--port 8000]` — serve the API, widget and pages.

`python -m web create-admin USERNAME [--password P] [--data-dir DIR]` — create the first
staff account (asks for the password when `--password` is not given) in the records database
(`BOT_DATABASE_URL`, else the SQLite file under the data directory; a new one gets its schema).

`python -m web migrate [--data-dir DIR]` — create or upgrade the records schema
(`BOT_DATABASE_URL`, else the SQLite file under the data directory) and print its revision.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import signal
import sys
import time
from contextlib import nullcontext
from pathlib import Path
from types import FrameType
from typing import Any, cast

import uvicorn
from fastapi import FastAPI
from pydantic import ValidationError

from bot.config import Settings, load_settings
from bot.errors import BotError, ConflictError, RecordsUnavailableError
from bot.index import claim_vectors
from bot.records import Database, upgrade
from bot.staff import ROLES, StaffStore
from web.app import create_app
from web.drain import Drain
from web.logs import configure_logging
from web.terminal import foreground

log = logging.getLogger(__name__)


def create_admin(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m web create-admin", description="Create a staff admin account."
    )
    parser.add_argument("username")
    parser.add_argument("--password", help="default: asked twice on the terminal")
    parser.add_argument("--role", choices=ROLES, default="admin")
    parser.add_argument("--data-dir", type=Path, help="default: $BOT_DATA_DIR or ./data")
    args = parser.parse_args(argv)
    password = args.password
    if password is None:
        password = getpass.getpass("password / 密码: ")
        if getpass.getpass("again / 再输入一次: ") != password:
            print("error: the passwords differ / 两次输入的密码不一致", file=sys.stderr)
            return 2
    try:
        database = Database.from_settings(load_settings(args.data_dir))
    except (ValidationError, BotError) as exc:  # a wrong BOT_DATABASE_URL
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        upgrade(database)  # a fresh data directory or database has no tables yet
        user = StaffStore(database).create(args.username, password, args.role)
    except BotError as exc:
        print(f"error: {exc.message} / {exc.message_zh}", file=sys.stderr)
        return 1 if isinstance(exc, ConflictError | RecordsUnavailableError) else 2
    finally:
        database.close()
    print(f"created {user.role} {user.username} / 已创建账号")
    return 0


def migrate(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m web migrate",
        description="Create or upgrade the records schema (the server does it at start-up too).",
    )
    parser.add_argument("--data-dir", type=Path, help="default: $BOT_DATA_DIR or ./data")
    args = parser.parse_args(argv)
    try:
        database = Database.from_settings(load_settings(args.data_dir))
    except (ValidationError, BotError) as exc:  # a wrong BOT_DATABASE_URL
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        revision = upgrade(database)
    except BotError as exc:
        print(f"error: {exc.message} / {exc.message_zh}", file=sys.stderr)
        return 1
    finally:
        database.close()
    print(f"records schema at revision {revision} ({database.where}) / 记录库结构已是最新")
    return 0


def server_config(settings: Settings, host: str, port: int, **extra: Any) -> uvicorn.Config:
    """How the app is served: proxy headers believed only from `BOT_TRUSTED_PROXIES`
    (uvicorn's own default trusts 127.0.0.1, so anything local could forge a client address
    and slip past the log-in limit); uvicorn's loggers left to `configure_logging` and its
    access log off (web.observe writes the request's line)."""
    trusted = [p.strip() for p in settings.trusted_proxies.split(",") if p.strip()]
    return uvicorn.Config(
        create_app(settings),
        host=host,
        port=port,
        log_level=extra.pop("log_level", settings.log_level.lower()),
        log_config=None,
        access_log=False,
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted or [],
        **extra,
    )


class DrainingServer(uvicorn.Server):
    """uvicorn whose first SIGTERM (or Ctrl-C) drains instead of stopping (see web/drain.py):
    the server stops once no request is in progress or `grace_s` is over, and the process
    exits 0. A second signal stops at once, as plain uvicorn does."""

    def __init__(self, config: uvicorn.Config, drain: Drain, grace_s: float) -> None:
        super().__init__(config)
        self.drain = drain
        self.grace_s = grace_s
        self._deadline: float | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._deadline is not None:
            super().handle_exit(sig, frame)
            return
        # in a signal handler: only set flags (logging could deadlock); on_tick does the rest
        self._deadline = time.monotonic() + self.grace_s
        self.drain.begin()

    async def on_tick(self, counter: int) -> bool:
        if self._deadline is not None and not self.should_exit:
            if counter % 10 == 0:
                log.info("draining: %d request(s) in progress", self.drain.inflight)
            if self.drain.idle or time.monotonic() >= self._deadline:
                if not self.drain.idle:
                    log.warning("grace period over: %d request(s) cut off", self.drain.inflight)
                self.should_exit = True
        return await super().on_tick(counter)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["create-admin"]:
        return create_admin(argv[1:])
    if argv[:1] == ["migrate"]:
        return migrate(argv[1:])
    settings = Settings()
    parser = argparse.ArgumentParser(
        prog="python -m web", description="Serve 江岸企服助手 over HTTP."
    )
    parser.add_argument("--host", default=settings.host)
    parser.add_argument("--port", type=int, default=settings.port)
    parser.add_argument(
        "--data-dir", type=Path, help="index location (default: $BOT_DATA_DIR or ./data)"
    )
    parser.add_argument(
        "--foreground",
        action="store_true",
        help="take the terminal's foreground, so that Ctrl-C reaches the server alone"
        " (`make serve`: make would report it as an interruption)",
    )
    args = parser.parse_args(argv)
    settings = load_settings(args.data_dir)
    configure_logging(settings.log_format, settings.log_level)
    try:  # another process writing the embedded vectors: say so now, before loading anything
        claim_vectors(settings)
    except BotError as exc:
        print(f"error: {exc.message} / {exc.message_zh}", file=sys.stderr)
        return 2
    if hasattr(signal, "SIGXFSZ"):  # past a file size limit a write fails (EFBIG), not the process
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    # the drain has let requests finish: what is left when uvicorn stops is cut off at once
    config = server_config(settings, args.host, args.port, timeout_graceful_shutdown=1)
    drain = cast(FastAPI, config.app).state.drain
    try:
        with foreground() if args.foreground else nullcontext():
            DrainingServer(config, drain, settings.shutdown_grace_s).run()
    except BotError as exc:
        print(f"error: {exc.message} / {exc.message_zh}", file=sys.stderr)
        return 2
    log.info("已停止 stopped")  # a log line like every other (JSON by default)
    return 0


if __name__ == "__main__":
    sys.exit(main())
