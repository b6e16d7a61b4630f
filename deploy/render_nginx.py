#!/usr/bin/env python3
"""Render deploy/nginx/jiangan-bot.conf.in: the listen address, the replicas, the upload size.

    python3 deploy/render_nginx.py --listen 80 --replica 127.0.0.1:8001 \
        --replica 127.0.0.1:8002 > /etc/nginx/conf.d/jiangan-bot.conf

Standard library only (it runs on the proxy host without the app installed); the deployment
tests (tests/nginx.py) render through `render()` too.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent / "nginx" / "jiangan-bot.conf.in"
_ADDRESS = re.compile(r"^[A-Za-z0-9.\-\[\]:]+:\d{1,5}$")
_SOURCE = re.compile(r"^[0-9A-Fa-f.:/]+$")


def upload_body_mb(upload_max_mb: int) -> int:
    """nginx's limit for an upload request: ten files of BOT_UPLOAD_MAX_MB and 1 MB of form
    framing, as the app's BodyLimit allows (web/app.py)."""
    return 10 * upload_max_mb + 1


def render(
    listen: str,
    replicas: list[str],
    upload_max_mb: int = 20,
    metrics_allow: list[str] | None = None,
    access_log: str = "/var/log/nginx/jiangan-bot.access.log",
    max_fails: int = 1,
    fail_timeout_s: int = 10,
) -> str:
    """The configuration text; refuses addresses that would not be one nginx token."""
    if not replicas:
        raise ValueError("at least one --replica host:port")
    for address in replicas:
        if not _ADDRESS.match(address):
            raise ValueError(f"replica address {address!r}: expected host:port")
    for source in metrics_allow or []:
        if not _SOURCE.match(source):
            raise ValueError(f"--metrics-allow {source!r}: expected an address or CIDR range")
    if not re.match(r"^[A-Za-z0-9.:\[\]\s]+$", listen):
        raise ValueError(f"--listen {listen!r}: expected a port or address:port")
    servers = "\n".join(
        f"    server {a} max_fails={max_fails} fail_timeout={fail_timeout_s}s;" for a in replicas
    )
    allow = "\n".join(f"        allow {s};" for s in metrics_allow or [])
    values = {
        "LISTEN": listen,
        "UPSTREAM_SERVERS": servers,
        "UPLOAD_BODY_MB": str(upload_body_mb(upload_max_mb)),
        "METRICS_ALLOW": allow,
        "ACCESS_LOG": access_log,
    }
    text = TEMPLATE.read_text(encoding="utf-8")
    for name, value in values.items():
        text = text.replace(f"@{name}@", value)
    left = re.findall(r"@[A-Z_]+@", text)
    if left:
        raise ValueError(f"placeholders left unrendered: {left}")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--listen", default="80", help="port or address:port (default 80)")
    parser.add_argument(
        "--replica", action="append", required=True, help="host:port of a replica (repeat)"
    )
    parser.add_argument(
        "--upload-max-mb", type=int, default=20, help="the replicas' BOT_UPLOAD_MAX_MB"
    )
    parser.add_argument(
        "--metrics-allow",
        action="append",
        default=[],
        help="address or CIDR allowed to read /metrics through nginx (repeat; loopback always)",
    )
    parser.add_argument("--access-log", default="/var/log/nginx/jiangan-bot.access.log")
    args = parser.parse_args(argv)
    try:
        text = render(
            args.listen, args.replica, args.upload_max_mb, args.metrics_allow, args.access_log
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
