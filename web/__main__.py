"""`python -m web [--host 127.0.0.1] [--port 8000]` — serve the API, widget and pages.

`python -m web create-admin USERNAME [--password P] [--data-dir DIR]` — create the first
staff account (asks for the password when `--password` is not given).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import Any

import uvicorn

from bot.config import Settings, load_settings
from bot.errors import BotError, ConflictError
from bot.staff import ROLES, StaffStore
from web.app import create_app
from web.logs import configure_logging


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
    store = StaffStore(load_settings(args.data_dir).records_path)
    try:
        user = store.create(args.username, password, args.role)
    except BotError as exc:
        print(f"error: {exc.message} / {exc.message_zh}", file=sys.stderr)
        return 1 if isinstance(exc, ConflictError) else 2
    finally:
        store.close()
    print(f"created {user.role} {user.username} / 已创建账号")
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


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["create-admin"]:
        return create_admin(argv[1:])
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
    configure_logging(settings.log_format, settings.log_level)
    try:
        uvicorn.Server(server_config(settings, args.host, args.port)).run()
    except BotError as exc:
        print(f"error: {exc.message} / {exc.message_zh}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
