"""The official account's passive-reply latency (issue 15): how long a signed text message to
/api/wechat/mp takes to come back as a passive reply XML, on the bundled knowledge base.

    python bench/wechat.py [--data-dir /tmp/kb] [--clients 1,4] [--rounds 3]

It starts `python -m web` on a free port over the index in `--data-dir` (built by
`python -m ingest knowledge --data-dir DIR` when the folder is empty) with a fresh records
file, and sends every question of tests/questions/kb_questions.jsonl and kb_holdout.jsonl as
a new message (new MsgId), first one at a time, then from several clients at once — WeChat
delivers the messages of many users concurrently. Each round uses new MsgIds and questions
in a new order. Prints p50/p95/max of the whole round trip (signature check, parse, dedupe
claim, answer, plain-text formatting, XML) against WeChat's 5 s and our 4.5 s budget, and the
UTF-8 byte sizes of the reply parts.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.load import _pct  # noqa: E402
from tests.test_faults import Server  # noqa: E402
from web.wechat.crypto import sha1_signature  # noqa: E402
from web.wechat.messages import parse  # noqa: E402
from web.wechat.plaintext import reply_parts  # noqa: E402

TOKEN = "bench-token"
QUESTIONS = [ROOT / "tests/questions/kb_questions.jsonl", ROOT / "tests/questions/kb_holdout.jsonl"]


def _questions() -> list[str]:
    out: list[str] = []
    for path in QUESTIONS:
        for line in path.read_text().splitlines():
            if line.strip():
                out.append(json.loads(line)["question"])
    return out


def _message(question: str, user: str) -> bytes:
    return (
        "<xml><ToUserName><![CDATA[gh_bench]]></ToUserName>"
        f"<FromUserName><![CDATA[{user}]]></FromUserName><CreateTime>{int(time.time())}</CreateTime>"
        f"<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{question}]]></Content>"
        f"<MsgId>{secrets.randbelow(10**18)}</MsgId></xml>"
    ).encode()


def _one(url: str, question: str, user: str) -> tuple[float, str]:
    ts, nonce = str(int(time.time())), secrets.token_hex(4)
    params = {"timestamp": ts, "nonce": nonce, "signature": sha1_signature(TOKEN, ts, nonce)}
    started = time.perf_counter()
    res = httpx.post(
        f"{url}/api/wechat/mp", params=params, content=_message(question, user), timeout=30
    )
    took = time.perf_counter() - started
    res.raise_for_status()
    return took, parse(res.content).content


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/kb"))
    parser.add_argument("--clients", default="1,4")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not (args.data_dir / "chroma").exists():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "ingest",
                str(ROOT / "knowledge"),
                "--data-dir",
                str(args.data_dir),
            ],
            check=True,
        )
    questions = _questions()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        shutil.copytree(args.data_dir / "chroma", data / "chroma")
        shutil.copy2(args.data_dir / "records.sqlite3", data / "records.sqlite3")
        server = Server(
            data,
            BOT_WECHAT_APPID="wxbench",
            BOT_WECHAT_SECRET="bench",
            BOT_WECHAT_TOKEN=TOKEN,
            BOT_RATE_LIMIT_CHAT="off",
            BOT_ANSWER_CACHE="0",  # every answer computed, as for a new question
            BOT_LOG_LEVEL="WARNING",
        )
        try:
            _one(server.url, questions[0], "warm")  # models loaded, first query compiled
            sizes: list[int] = []
            print(f"{len(questions)} questions, answer memo off, {os.cpu_count()} cores")
            for clients in [int(c) for c in args.clients.split(",")]:
                times: list[float] = []
                for r in range(args.rounds):
                    order = questions[:]
                    random.Random(r).shuffle(order)
                    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
                        results = list(
                            pool.map(
                                lambda qi: _one(server.url, qi[1], f"user{qi[0] % 50}"),
                                enumerate(order),
                            )
                        )
                    times += [t for t, _ in results]
                    sizes += [len(c.encode()) for _, c in results]
                ms = sorted(t * 1000 for t in times)
                over = sum(1 for t in times if t > 4.5)
                print(
                    f"clients {clients:>2}: {len(ms)} replies  p50 {_pct(ms, 0.5):7.1f} ms  "
                    f"p95 {_pct(ms, 0.95):7.1f} ms  max {ms[-1]:7.1f} ms  over 4.5 s: {over}"
                )
            print(
                f"passive reply bytes: median {statistics.median(sizes):.0f}, max {max(sizes)} "
                "(limit 2000 + the 「继续」 prompt)"
            )
            long = "。".join(f"第{i}条：符合条件的企业可申请补贴[1]" for i in range(300)) + "。"
            parts = reply_parts(long, [{"title": "示例政策", "section": "", "url": ""}])
            print(
                f"a {len(long.encode())}-byte answer → {len(parts)} parts of "
                f"{[len(p.encode()) for p in parts]} bytes"
            )
        finally:
            server.stop()


if __name__ == "__main__":
    main()
