"""Time to first SSE byte and total time of `/api/chat/stream`, extractive and LLM.

    python bench/streaming.py --data-dir data tests/questions/kb_holdout.jsonl

The LLM is the loopback fake from tests/fake_openai.py answering at once, so the figures
are the overhead of our own code (retrieval, prompt, streaming, citation repair), not of a
model. Each mode runs on its own live uvicorn server; requests are sequential.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import sys
import threading
import time
from pathlib import Path

import httpx
import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import Settings  # noqa: E402
from tests.fake_openai import FakeOpenAI  # noqa: E402
from web.app import create_app  # noqa: E402

ANSWER = (
    "根据资料，企业开办全程网上办理，材料齐全时一个工作日内办结[1]；如需帮助可咨询相关部门[2]。"
)


def _serve(settings: Settings) -> tuple[uvicorn.Server, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="error")
    )
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}"


def _measure(base: str, questions: list[str]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"first_byte": [], "first_delta": [], "total": [], "chat": []}
    with httpx.Client(timeout=60) as client:
        for q in questions:
            start = time.perf_counter()
            first_byte = first_delta = None
            with client.stream("POST", f"{base}/api/chat/stream", json={"question": q}) as res:
                for line in res.iter_lines():
                    now = time.perf_counter()
                    if first_byte is None:
                        first_byte = now
                    if first_delta is None and line == "event: delta":
                        first_delta = now
            end = time.perf_counter()
            out["first_byte"].append(((first_byte or end) - start) * 1000)
            out["first_delta"].append(((first_delta or end) - start) * 1000)
            out["total"].append((end - start) * 1000)
            start = time.perf_counter()
            client.post(f"{base}/api/chat", json={"question": q}).raise_for_status()
            out["chat"].append((time.perf_counter() - start) * 1000)
    return out


def _p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("questions", type=Path)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--limit", type=int, default=0)
    args = parser.parse_args()
    lines = [line for line in args.questions.read_text(encoding="utf-8").splitlines() if line]
    questions = [json.loads(line)["question"] if line.startswith("{") else line for line in lines]
    questions = questions[: args.limit] if args.limit else questions
    fake = FakeOpenAI().start()
    fake.reply = lambda request: ANSWER
    base = Settings(data_dir=args.data_dir, rate_limit_chat="off")  # the service, not the limit
    modes = {
        "extractive": base,
        "llm (fake, instant)": base.model_copy(
            update={"llm_base_url": fake.base_url, "llm_model": "fake-chat"}
        ),
    }
    print(f"{len(questions)} questions, sequential, live uvicorn on 127.0.0.1 (milliseconds)")
    print(f"{'mode':<22}{'measure':<14}{'p50':>9}{'p95':>9}{'max':>9}")
    for name, settings in modes.items():
        server, url = _serve(settings)
        _measure(url, questions[:3])  # warm-up
        for measure, values in _measure(url, questions).items():
            print(
                f"{name:<22}{measure:<14}{_p(values, 50):>9.1f}{_p(values, 95):>9.1f}{max(values):>9.1f}"
            )
        server.should_exit = True
    print(f"LLM requests served by the fake: {len(fake.chat_requests())}")
    fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
