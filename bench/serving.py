"""`/api/chat` latency on a live server and the server's memory after start-up.

    python bench/serving.py --data-dir /tmp/ncp ../shared/benchmarks/ncp-policies/questions.jsonl

Starts `python -m web` on a free 127.0.0.1 port, waits for /healthz, reads the server's RSS,
then asks the questions one at a time (bounded by --limit) and prints p50/p95/max latency.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "questions", type=Path, help="JSONL with a question field, or plain text lines"
    )
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--limit", type=int, default=200)
    args = parser.parse_args()
    lines = [ln for ln in args.questions.read_text(encoding="utf-8").splitlines() if ln.strip()]
    questions = [
        json.loads(ln)["question"] if ln.lstrip().startswith("{") else ln.strip() for ln in lines
    ][: args.limit]

    port = _free_port()
    env = {
        **os.environ,
        "BOT_DATA_DIR": str(args.data_dir),
        "HF_HUB_OFFLINE": "1",
        "BOT_RATE_LIMIT_CHAT": "off",  # measure the service, not the per-client limit
    }
    started = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-m", "web", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            for _ in range(600):
                try:
                    health = client.get("/healthz").json()
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            else:
                raise SystemExit("server did not start within 60 s")
            ready = time.perf_counter() - started
            rss = _rss_mb(server.pid)
            client.post("/api/chat", json={"question": "预热"})
            latencies = []
            for q in questions:
                t = time.perf_counter()
                res = client.post("/api/chat", json={"question": q})
                latencies.append((time.perf_counter() - t) * 1000)
                res.raise_for_status()
            rss_after = _rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    latencies.sort()
    print(f"index: {health['documents']} documents, {health['chunks']} chunks")
    print(
        f"start-up to first /healthz: {ready:.1f} s; RSS after start-up {rss:.0f} MB, after {len(latencies)} questions {rss_after:.0f} MB"
    )
    print(
        f"/api/chat over {len(latencies)} questions: p50 {latencies[len(latencies) // 2]:.1f} ms, "
        f"p95 {latencies[int(len(latencies) * 0.95)]:.1f} ms, max {latencies[-1]:.1f} ms, "
        f"mean {statistics.fmean(latencies):.1f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
