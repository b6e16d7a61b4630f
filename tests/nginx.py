"""Debian's nginx running deploy/nginx/jiangan-bot.conf.in in front of given upstreams.

    with running_nginx(["127.0.0.1:8001", "127.0.0.1:8002"], tmp_path) as proxy:
        httpx.get(f"{proxy.url}/healthz")

The configuration is rendered by deploy/render_nginx.py exactly as for production (only the
listen address, the access log and the temp paths differ); nginx runs in the foreground
(`daemon off`) with its prefix, pid, logs and temp files in a temp dir, on a free loopback
port, and is stopped when the block ends. Installed by scripts/install-nginx.sh (`make test`).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _renderer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("render_nginx", ROOT / "deploy/render_nginx.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


render_nginx = _renderer()


def nginx_binary() -> str | None:
    return shutil.which("nginx") or (
        "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class NginxProxy:
    """A running nginx: `url` to send requests to, its logs to read."""

    port: int
    prefix: Path
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def access_log(self) -> Path:
        return self.prefix / "access.log"

    @property
    def error_log(self) -> Path:
        return self.prefix / "error.log"

    def access_lines(self) -> list[str]:
        return self.access_log.read_text().splitlines() if self.access_log.exists() else []


def _main_config(prefix: Path, site: Path) -> str:
    """The few main-level lines Debian's /etc/nginx/nginx.conf would give, pointed at `prefix`
    (the package's compiled-in temp paths are under /var/lib/nginx)."""
    temp = "\n".join(
        f"    {kind}_temp_path {prefix / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    # as root the workers would switch to `nobody`, who cannot enter the test's temp dir
    user = "user root;\n" if os.geteuid() == 0 else ""
    return f"""{user}worker_processes 1;
pid {prefix / "nginx.pid"};
error_log {prefix / "error.log"} info;
events {{ worker_connections 512; }}
http {{
    default_type application/octet-stream;
{temp}
    include {site};
}}
"""


@contextmanager
def running_nginx(upstreams: list[str], workdir: Path, **render: Any) -> Iterator[NginxProxy]:
    """nginx balancing `upstreams` (host:port) with the deployment configuration; `render`
    goes to `render_nginx.render` (upload_max_mb, metrics_allow, max_fails …)."""
    binary = nginx_binary()
    if binary is None:
        pytest.skip("nginx is not installed (sh scripts/install-nginx.sh; make test does)")
    prefix = workdir / f"nginx-{time.monotonic_ns()}"
    prefix.mkdir(parents=True)
    port = free_port()
    site = prefix / "jiangan-bot.conf"
    site.write_text(
        render_nginx.render(
            f"127.0.0.1:{port}", upstreams, access_log=str(prefix / "access.log"), **render
        )
    )
    main = prefix / "nginx.conf"
    main.write_text(_main_config(prefix, site))
    command = [binary, "-p", str(prefix), "-c", str(main), "-e", str(prefix / "error.log")]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen(
        [*command, "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    proxy = NginxProxy(port, prefix, process)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, proxy.error_log.read_text()
                assert time.monotonic() < deadline, "nginx did not listen"
                time.sleep(0.05)
        yield proxy
    finally:
        process.terminate()  # SIGTERM: fast shutdown of master and workers
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def nginx_version() -> str:
    binary = nginx_binary()
    if binary is None:
        return ""
    return subprocess.run([binary, "-v"], capture_output=True, text=True).stderr.strip()
