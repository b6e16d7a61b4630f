"""Policy matching latency: `Catalog.match` in process and `POST /api/policies/match` over HTTP.

    python bench/matching.py [--policies 200] [--profiles 1000] [--data-dir DIR]

Writes N synthetic `kind: policy` documents (seeded: every eligibility condition kind, ranges
with min, max or both, qualifications any/all, some expired, some without eligibility) to
DIR/corpus, ingests them into DIR (default /tmp/jiangan-bench-matching, kept between runs;
unchanged files are skipped), opens the `Assistant` on it and matches M seeded random
profiles (fields left out at random) with `assistant.catalog.match`: per-profile
p50/p95/p99/max (wall clock and the thread's CPU time) and throughput. Then starts
`python -m web` on a free 127.0.0.1 port on the same data dir and posts the same profiles
one at a time: p50/p95/p99/max, and that every response equals the in-process result. Sanity figures: mean eligible / possible / ineligible per
profile, and that no expired policy is ever offered.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import httpx  # noqa: E402

from bot.assistant import Assistant  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.index import KnowledgeIndex  # noqa: E402
from bot.policies import eligibility  # noqa: E402
from ingest.pipeline import Ingestor  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DISTRICTS = ["江岸区", "江汉区", "硚口区", "汉阳区", "武昌区", "青山区", "洪山区", "东西湖区"]
# how enterprises write their district (the matcher strips 省市区县 and compares cores)
PLACES = DISTRICTS + ["江岸", "武汉市江岸区", "湖北省武汉市江汉区", "武昌"]
INDUSTRIES = [
    "软件和信息技术服务业",
    "人工智能",
    "集成电路",
    "生物医药",
    "智能制造",
    "新能源汽车",
    "现代物流",
    "金融服务业",
    "商贸流通",
    "餐饮",
    "文化创意",
    "电子商务",
    "检验检测",
    "建筑业",
]
# profile spellings: the canonical names plus aliases and broader/narrower wordings
PROFILE_INDUSTRIES = INDUSTRIES + ["软件", "AI", "电商", "餐饮业", "物流", "医药制造业", "外贸"]
QUALIFICATIONS = [
    "高新技术企业",
    "科技型中小企业",
    "专精特新",
    "专精特新小巨人",
    "规上企业",
    "瞪羚企业",
    "技术先进型服务企业",
]
PROFILE_QUALIFICATIONS = QUALIFICATIONS + ["高企", "国高", "小巨人", "科小", "规模以上企业"]
KINDS = eligibility.KEYS


def _bounds(rng: random.Random, low: float, high: float, digits: int | None) -> dict[str, Any]:
    a, b = sorted(rng.uniform(low, high) for _ in range(2))
    a, b = (round(a, digits), round(b, digits)) if digits else (int(a), int(b))
    shape = rng.choice(("min", "max", "both"))
    return {"min": a} if shape == "min" else {"max": b} if shape == "max" else {"min": a, "max": b}


def _condition(kind: str, rng: random.Random) -> dict[str, Any]:
    if kind == "registered_in":
        k = 1 if rng.random() < 0.8 else 2
        value: Any = rng.sample(DISTRICTS[:3], k) if k > 1 else "江岸区"
        return {kind: value}
    if kind == "industry":
        return {kind: rng.sample(INDUSTRIES, rng.randint(1, 4))}
    if kind == "qualifications":
        mode = "all" if rng.random() < 0.3 else "any"
        return {kind: {mode: rng.sample(QUALIFICATIONS, rng.randint(1, 3))}}
    if kind == "established_years":
        return {kind: _bounds(rng, 0, 15, None)}
    if kind == "employees":
        return {kind: _bounds(rng, 0, 500, None)}
    if kind == "revenue_wan":
        return {kind: _bounds(rng, 0, 50000, None)}
    return {kind: _bounds(rng, 0, 0.15, 3)}


def policies(n: int, today: dt.date, seed: int = 12) -> tuple[dict[str, str], set[str], Counter]:
    """{file name: markdown}, the ids of the expired ones, and how often each condition form occurs."""
    rng = random.Random(seed)
    files: dict[str, str] = {}
    expired: set[str] = set()
    forms: Counter = Counter()
    for i in range(n):
        doc_id = f"bench-policy-{i:03d}"
        front = [
            f"id: {doc_id}",
            f"title: 江岸区{rng.choice(INDUSTRIES)}企业扶持政策（第{i + 1}号）",
            "kind: policy",
            "category: 惠企政策",
            "department: 区科学技术和经济信息化局",
            "updated: 2026-01-15",
        ]
        r = rng.random()
        if r < 0.15:  # expired: ended between 5 years and 1 day ago
            until = today - dt.timedelta(days=rng.randint(1, 5 * 365))
            expired.add(doc_id)
            front.append(f"valid_until: {until.isoformat()}")
        elif r < 0.75:
            start = today - dt.timedelta(days=rng.randint(-60, 700))
            until = today + dt.timedelta(days=rng.randint(0, 3 * 365))
            if rng.random() < 0.5:
                front.append(f"valid_from: {start.isoformat()}")
            front.append(f"valid_until: {until.isoformat()}")
        front.append(f"benefit: 最高补贴{rng.choice([5, 10, 20, 30, 50, 100])}万元")
        if rng.random() >= 0.1:  # 10% state no eligibility at all
            front.append("eligibility:")
            for kind in rng.sample(KINDS, rng.randint(1, len(KINDS))):
                cond = _condition(kind, rng)
                value = cond[kind]
                form = kind
                if kind == "qualifications":
                    form += "." + next(iter(value))
                elif isinstance(value, dict):
                    form += "." + "+".join(value)
                forms[form] += 1
                front.append(f"  - {kind}: {json.dumps(value, ensure_ascii=False)}")
        else:
            forms["(none)"] += 1
        body = (
            f"# 江岸区企业扶持政策（第{i + 1}号）\n\n"
            "为支持辖区企业高质量发展，结合江岸区实际，制定本政策。\n\n"
            "## 一、支持对象\n\n符合下列适用条件的企业。\n\n"
            "## 二、支持标准\n\n按企业上年度相关投入给予一次性补贴。\n\n"
            "## 三、申报材料\n\n1. 申报表\n2. 营业执照复印件\n3. 上年度财务报表\n"
        )
        files[f"{doc_id}.md"] = "---\n" + "\n".join(front) + "\n---\n" + body
    return files, expired, forms


def profiles(n: int, today: dt.date, seed: int = 7) -> list[dict[str, Any]]:
    """Enterprise profiles as the API receives them; each field left out with chance 0.3."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        founded = today - dt.timedelta(days=rng.randint(0, 25 * 365))
        full: dict[str, Any] = {
            "registered_in": rng.choice(PLACES) if rng.random() < 0.8 else "江岸区",
            "industry": rng.choice(PROFILE_INDUSTRIES),
            "established": founded.isoformat(),
            "employees": int(rng.lognormvariate(3.5, 1.2)),
            "revenue_wan": round(rng.lognormvariate(7, 1.8), 1),
            "rd_ratio": round(min(rng.expovariate(25), 1.0), 4),
            "qualifications": rng.sample(PROFILE_QUALIFICATIONS, rng.randint(0, 3)),
        }
        out.append({k: v for k, v in full.items() if rng.random() >= 0.3})
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pct(ms: list[float]) -> str:
    s = sorted(ms)
    q = statistics.quantiles(s, n=100, method="inclusive")
    return f"p50 {q[49]:.2f} ms, p95 {q[94]:.2f} ms, p99 {q[98]:.2f} ms, max {s[-1]:.2f} ms"


def _gc_timer(out: list[float]) -> Any:
    started = [0.0]

    def timer(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        elif info["generation"] == 2:
            out.append((time.perf_counter() - started[0]) * 1000)

    return timer


def _write_corpus(folder: Path, files: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.md"):
        if old.name not in files:
            old.unlink()
    for name, text in files.items():
        path = folder / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--policies", type=int, default=200)
    parser.add_argument("--profiles", type=int, default=1000)
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/jiangan-bench-matching"))
    args = parser.parse_args()
    today = dt.date.today()
    files, expired, forms = policies(args.policies, today)
    people = profiles(args.profiles, today)
    missing = [k for k in KINDS if not any(f.split(".")[0] == k for f in forms)]
    if missing:
        raise SystemExit(f"condition kinds not generated: {missing}; use more --policies")

    data_dir = args.data_dir.resolve()
    corpus = data_dir / "corpus"
    _write_corpus(corpus, files)
    settings = Settings(data_dir=data_dir, question_log_days=0, session_turns=0)
    started = time.perf_counter()
    index = KnowledgeIndex.open(settings)
    report = Ingestor(index, progress=False).run([corpus])
    index.close()
    if not report.ok:
        raise SystemExit(f"ingest failed: {report.failed}")
    print(f"{report.summary()} ({time.perf_counter() - started:.1f} s)")
    print(
        f"policies: {len(files)} ({len(expired)} expired, {forms['(none)']} without eligibility); "
        f"profiles: {len(people)} (mean {statistics.fmean(len(p) for p in people):.1f} of 7 fields)"
    )
    print("condition forms: " + ", ".join(f"{k} {v}" for k, v in sorted(forms.items())))

    # (a) in process
    bot = Assistant(settings)
    catalog = bot.catalog
    t = time.perf_counter()
    catalog.policies()  # first read builds the catalog (parses every policy's conditions)
    build_ms = (time.perf_counter() - t) * 1000
    live = {p.document.doc_id for p in catalog.policies()}
    if len(live) != len(files):
        raise SystemExit(f"catalog holds {len(live)} policies, wrote {len(files)}")
    catalog.match(people[0])  # warm-up
    full_gc: list[float] = []  # full (generation 2) collections while matching, ms
    gc.callbacks.append(_gc_timer(full_gc))
    ms: list[float] = []
    cpu: list[float] = []  # this thread's CPU time: what the matcher costs on a busy machine
    # kept as JSON text: 1,000 × 200 live dicts would be the bench's own garbage-collector load
    results: list[str] = []
    offered: Counter = Counter()
    leaked = short = 0
    wall = time.perf_counter()
    for p in people:
        t, c = time.perf_counter(), time.thread_time()
        rows = catalog.match(p)
        cpu.append((time.thread_time() - c) * 1000)
        ms.append((time.perf_counter() - t) * 1000)
        results.append(json.dumps(rows, ensure_ascii=False))
        offered.update(r["status"] for r in rows)
        leaked += sum(r["doc_id"] in expired for r in rows)
        short += len(rows) != len(files) - len(expired)
    wall = time.perf_counter() - wall
    gc.callbacks.pop()
    bot.close()

    print(f"catalog build (first read, {len(files)} policies): {build_ms:.1f} ms")
    print(
        f"Catalog.match in process, {len(people)} profiles × {len(files)} policies: {_pct(ms)}; "
        f"mean {statistics.fmean(ms):.2f} ms; {len(people) / wall:.0f} profiles/s "
        f"({len(people) * len(files) / wall:.0f} policy checks/s)"
    )
    print(f"  CPU time of the matching thread: {_pct(cpu)}; mean {statistics.fmean(cpu):.2f} ms")
    print(
        f"  full garbage collections meanwhile: {len(full_gc)} "
        f"({', '.join(f'{x:.0f}' for x in full_gc) or '-'} ms; the whole heap, models included)"
    )
    n = len(people)
    print(
        f"per profile: {offered['eligible'] / n:.1f} eligible, {offered['possible'] / n:.1f} possible, "
        f"{offered['ineligible'] / n:.1f} ineligible (of {len(files) - len(expired)} in force); "
        f"expired offered: {leaked}; profiles not shown every policy in force: {short}"
    )

    # (b) over HTTP, a real `python -m web` server
    port = _free_port()
    env = {
        **os.environ,
        "BOT_DATA_DIR": str(data_dir),
        "HF_HUB_OFFLINE": "1",
        "BOT_RATE_LIMIT_CHAT": "off",  # measure the service, not the per-client limit
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "web", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    http_ms: list[float] = []
    differ = http_leaked = 0
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            for _ in range(600):
                try:
                    client.get("/healthz").raise_for_status()
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            else:
                raise SystemExit("server did not start within 60 s")
            client.post("/api/policies/match", json={"profile": people[0]}).raise_for_status()
            wall = time.perf_counter()
            for p, want in zip(people, results, strict=True):
                t = time.perf_counter()
                res = client.post("/api/policies/match", json={"profile": p})
                http_ms.append((time.perf_counter() - t) * 1000)
                res.raise_for_status()
                got = res.json()["matches"]
                differ += got != json.loads(want)
                http_leaked += sum(r["doc_id"] in expired for r in got)
            wall = time.perf_counter() - wall
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(
        f"POST /api/policies/match over HTTP, {len(people)} profiles: {_pct(http_ms)}; "
        f"mean {statistics.fmean(http_ms):.2f} ms; {len(people) / wall:.0f} requests/s "
        f"(one client, sequential)"
    )
    print(
        f"HTTP responses differing from in process: {differ}; expired offered over HTTP: {http_leaked}"
    )
    return 1 if leaked or http_leaked or differ or short else 0


if __name__ == "__main__":
    sys.exit(main())
