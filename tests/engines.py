"""Throw-away engines for the tests (issue #14): a PostgreSQL cluster and a Chroma server,
each on a free loopback port, started here and stopped (and deleted) after the session.

PostgreSQL is Debian's `postgresql` package (scripts/install-postgresql.sh; `make test`
installs it). Its initdb and pg_ctl refuse to run as root, so as root they run as the
`postgres` user through `runuser`. The Chroma server is `chroma run` from the venv: the same
pinned chromadb as the client. When an engine is missing a test that needs it fails, naming
the fix; `BOT_TEST_ENGINES=skip` turns that into a skip for a quick local run.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

OPT_OUT = "BOT_TEST_ENGINES"  # `skip`: tests needing an engine that is absent are skipped


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def missing(what: str) -> None:
    """Fail (the default, so CI cannot pass without the engine) or skip (opt-out)."""
    if os.environ.get(OPT_OUT, "").lower() == "skip":
        pytest.skip(f"{what} ({OPT_OUT}=skip)")
    pytest.fail(f"{what} (or set {OPT_OUT}=skip to skip such tests locally)", pytrace=False)


def postgres_bin() -> Path | None:
    """The newest PostgreSQL server binaries (Debian keeps them out of PATH)."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
        key=lambda p: (
            int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0
        ),
    )
    if found:
        return Path(found[-1]).parent
    which = shutil.which("pg_ctl")
    return Path(which).parent if which else None


class PostgresCluster:
    """`initdb` in a temp dir, `pg_ctl start` on 127.0.0.1:port (unix socket in the temp dir
    too), trust authentication for the `postgres` role, fsync off: a test engine only
    (`durable=True`: PostgreSQL's own defaults, for benchmarks)."""

    def __init__(self, bindir: Path, *, durable: bool = False) -> None:
        self.bindir = bindir
        self.durable = durable
        self.root = Path(tempfile.mkdtemp(prefix="bot-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = 0
        self._as_postgres: list[str] = []
        if os.geteuid() == 0:
            self._as_postgres = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.root, "postgres", "postgres")
        self.root.chmod(0o700)

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        res = subprocess.run(
            [*self._as_postgres, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.root,
        )
        if res.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(args[:2])} failed: {res.stderr or res.stdout}\n{log}")
        return res

    def start(self) -> None:
        if not self.data.exists():
            self._run(
                str(self.bindir / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-locale",
                "--no-sync",
            )
        last: Exception | None = None
        for _ in range(3):  # a port picked free may be taken before the server binds it
            self.port = self.port or free_port()
            options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
            if not self.durable:  # a test's cluster: nothing to keep after a crash
                options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            try:
                self._run(
                    str(self.bindir / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-o",
                    options,
                    "-l",
                    str(self.log),
                    "-w",
                    "-t",
                    "60",
                    "start",
                )
                return
            except RuntimeError as exc:
                last, self.port = exc, 0
        raise RuntimeError(f"PostgreSQL did not start: {last}")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new empty database; its SQLAlchemy URL."""
        subprocess.run(
            [str(self.bindir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port)]
            + ["-U", "postgres", name],
            check=True,
            capture_output=True,
            timeout=60,
        )
        return self.url(name)

    def stop(self) -> None:
        if self.port and (self.data / "postmaster.pid").exists():
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def chroma_binary() -> Path | None:
    """`chroma` beside this interpreter: the venv's, from the chromadb the client uses."""
    path = Path(sys.executable).parent / "chroma"
    return path if path.exists() else None


class ChromaServer:
    """`chroma run --path DIR --port P` on 127.0.0.1; `stop()` and `start()` again keep the
    port and the data (a fault test kills it and brings it back)."""

    def __init__(self, binary: Path) -> None:
        self.binary = binary
        self.root = Path(tempfile.mkdtemp(prefix="bot-chroma-"))
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log = self.root / "server.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [str(self.binary), "run", "--path", str(self.root / "data")]
                + ["--host", "127.0.0.1", "--port", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
                start_new_session=True,  # its own group: stopped without touching ours
            )
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"chroma run exited ({self.process.returncode}): "
                    + self.log.read_text(errors="replace")[-2000:]
                )
            try:
                if httpx.get(self.url + "/api/v2/heartbeat", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"chroma run did not answer its heartbeat in {timeout:.0f} s")
            time.sleep(0.1)

    def stop(self) -> None:
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(15)

    def kill(self) -> None:
        """SIGKILL, as a crash or the OOM killer would: no shutdown of its own."""
        proc, self.process = self.process, None
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(15)

    def clear(self) -> None:
        """Drop every collection: each test starts on an empty server."""
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        client = chromadb.HttpClient(
            host="127.0.0.1", port=self.port, settings=ChromaSettings(anonymized_telemetry=False)
        )
        for collection in client.list_collections():
            client.delete_collection(collection.name)

    def remove(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
