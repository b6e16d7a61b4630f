"""Load on a live server: answers/s, latency percentiles and refusals at 1, 10, 50, 200 clients.

    python bench/load.py --data-dir DIR [--clients 1,10,50,200] [--seconds 30] [--fresh]

Starts `python -m web` on a free 127.0.0.1 port over an index already built in DIR (the
bundled knowledge base: `python -m ingest knowledge --data-dir DIR`), then for each client
count runs that many concurrent clients for `--seconds`. Each client keeps one connection,
asks the next question as soon as it has an answer, and after a 503 or 429 waits the
`Retry-After` the server sent (as a well-behaved client does). Questions: the bundled
question sets (tests/questions/kb_*.jsonl), each client starting at its own offset and going
round (follow-ups by their first turn); real traffic repeats (the insight page's top questions), so repeated questions are
part of the load. `--fresh` makes every question asked new (a counter appended), the worst
case: no embedding is ever reused; `--warm` asks every question once before measuring (a
server that has been up a while has seen its common questions).

Printed per client count: answers/s, p50/p95/p99 of the answered requests, p50/p95 of the
503s, the share of 429 and 503, other 5xx and timeouts (both should be 0), and the server's
resident memory (now and its peak). `other` counts 5xx other than 503 and connections
refused or reset. The server runs with `BOT_RATE_LIMIT_CHAT=off` unless
`--rate-limit` is given (all clients share one address, so a per-client limit would measure
the limiter, not the service).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from itertools import count
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "tests" / "questions"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _memory_mb(pid: int) -> tuple[float, float]:
    """Resident memory now and its peak (VmRSS, VmHWM), in MB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


def _questions(files: list[Path]) -> list[str]:
    out: list[str] = []
    for path in files or sorted(QUESTIONS.glob("kb_*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                out.extend(item["turns"][:1] if "turns" in item else [item["question"]])
    return out


def _pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


class _Connection:
    """One keep-alive HTTP/1.1 connection speaking just enough of the protocol to POST JSON
    and read the reply. The clients share the two cores with the server, and httpx costs
    several times the CPU of the server's own request handling (at 50 clients the client
    process, not the server, set the pace); this costs a small share of it."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, payload: dict[str, object]) -> tuple[int, dict[str, str]]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        body = json.dumps(payload, ensure_ascii=False).encode()
        self.writer.write(
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            self.close()
            raise ConnectionError(str(exc)) from exc
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        await self.reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, headers

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def _run(
    base: str, clients: int, seconds: float, questions: list[str], fresh: bool
) -> dict[str, object]:
    ok: list[float] = []
    busy: list[float] = []
    limited = other = timeouts = 0
    serial = count()
    deadline = time.perf_counter() + seconds
    host, port = base.removeprefix("http://").split(":")

    async def client(n: int) -> None:
        nonlocal limited, other, timeouts
        conn = _Connection(host, int(port))
        i = n * 7
        while time.perf_counter() < deadline:
            q = questions[i % len(questions)]
            i += 1
            if fresh:
                q = f"{q} {next(serial)}"
            started = time.perf_counter()
            try:
                status, headers = await asyncio.wait_for(
                    conn.post("/api/chat", {"question": q}), 30
                )
            except TimeoutError:
                timeouts += 1
                conn.close()
                continue
            except (ConnectionError, OSError):  # refused or reset before an answer: counted
                other += 1
                conn.close()
                await asyncio.sleep(0.1)
                continue
            took = (time.perf_counter() - started) * 1000
            if status == 200:
                ok.append(took)
                continue
            if status in (429, 503):
                if status == 503:
                    busy.append(took)
                else:
                    limited += 1
                wait = float(headers.get("retry-after", "1"))
                await asyncio.sleep(min(wait, max(0.0, deadline - time.perf_counter())))
                continue
            other += 1
        conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(clients)))
    elapsed = time.perf_counter() - started
    total = len(ok) + len(busy) + limited + other + timeouts
    return {
        "clients": clients,
        "answers_per_s": len(ok) / elapsed,
        "p50": _pct(ok, 0.50),
        "p95": _pct(ok, 0.95),
        "p99": _pct(ok, 0.99),
        "busy_p50": _pct(busy, 0.50),
        "busy_p95": _pct(busy, 0.95),
        "share_503": len(busy) / total if total else 0.0,
        "share_429": limited / total if total else 0.0,
        "other_5xx": other,
        "timeouts": timeouts,
        "requests": total,
    }


def _server_side(log: str) -> dict[int, list[float]]:
    """Latencies of /api/chat by status from the server's JSON request lines."""
    out: dict[int, list[float]] = {200: [], 503: []}
    for line in log.splitlines():
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if item.get("route") == "/api/chat" and item.get("status") in out:
            out[item["status"]].append(float(item["latency_ms"]))
    return out


async def _warm(base: str, questions: list[str]) -> None:
    """Ask every question once (as a server that has been up a while has seen them)."""
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        for q in questions:
            await http.post("/api/chat", json={"question": q})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--clients", default="1,10,50,200")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument(
        "--questions",
        type=Path,
        nargs="*",
        default=[],
        help="JSONL files with a question field (default: tests/questions/kb_*.jsonl)",
    )
    parser.add_argument("--fresh", action="store_true", help="every question asked is new")
    parser.add_argument(
        "--warm", action="store_true", help="ask every question once before measuring"
    )
    parser.add_argument("--rate-limit", default="off", help="BOT_RATE_LIMIT_CHAT for the server")
    args = parser.parse_args()
    questions = _questions(args.questions)

    port = _free_port()
    env = {
        **os.environ,
        "BOT_DATA_DIR": str(args.data_dir),
        "BOT_RATE_LIMIT_CHAT": args.rate_limit,
        "BOT_LOG_FORMAT": "json",
        "HF_HUB_OFFLINE": "1",
    }
    # the server's own request log gives its side of each latency (the clients share the
    # two cores with it, so what they measure includes waiting for their own turn)
    log_file = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
    server = subprocess.Popen(
        [sys.executable, "-m", "web", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log_file,
        stderr=log_file,
    )
    base = f"http://127.0.0.1:{port}"
    rows = []
    try:
        with httpx.Client(base_url=base, timeout=30) as http:
            for _ in range(1200):
                try:
                    health = http.get("/healthz").json()
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            else:
                raise SystemExit("server did not start within 120 s")
            http.post("/api/chat", json={"question": "预热"})
        print(
            f"index: {health['documents']} documents, {health['chunks']} chunks; "
            f"{len(questions)} questions{' (each made new)' if args.fresh else ''}; "
            f"{os.cpu_count()} cores; {args.seconds:.0f} s per step",
            flush=True,
        )
        print(
            "clients  answers/s  p50 ms  p95 ms  p99 ms  503 p50/p95 ms  503 share  429 share"
            "  other err  timeouts  RSS MB (peak)  | server side: answer p50/p95, 503 p50/p95 ms",
            flush=True,
        )
        if args.warm:
            asyncio.run(_warm(base, questions))
        for clients in [int(c) for c in args.clients.split(",")]:
            log_file.seek(0, os.SEEK_END)
            mark = log_file.tell()
            row = asyncio.run(_run(base, clients, args.seconds, questions, args.fresh))
            rss, peak = _memory_mb(server.pid)
            rows.append(row)
            log_file.seek(mark)
            served = _server_side(log_file.read())
            print(
                f"{clients:>7}  {row['answers_per_s']:>9.1f}  {row['p50']:>6.0f}  {row['p95']:>6.0f}"
                f"  {row['p99']:>6.0f}  {row['busy_p50']:>6.0f}/{row['busy_p95']:<7.0f}"
                f"  {row['share_503']:>9.1%}  {row['share_429']:>9.1%}  {row['other_5xx']:>9}"
                f"  {row['timeouts']:>8}  {rss:.0f} ({peak:.0f})"
                f"  | {_pct(served[200], 0.5):.0f}/{_pct(served[200], 0.95):.0f}"
                f", {_pct(served[503], 0.5):.0f}/{_pct(served[503], 0.95):.0f}",
                flush=True,
            )
    finally:
        server.terminate()
        server.wait(timeout=60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
