"""Scale-out figures (issue 14): the embedded default against PostgreSQL + a Chroma server,
one replica against two behind nginx, and how fast a change reaches the other replica.

    python bench/replicas.py retrieval --embedded /tmp/ncp \\
        --questions ../shared/benchmarks/ncp-policies/questions.jsonl
    python bench/replicas.py serve [--knowledge knowledge] [--clients 10,50] [--seconds 30]

Both start their own engines the way the tests do (tests/engines.py: a PostgreSQL cluster
in a temp dir on a free port — with PostgreSQL's durable defaults here, fsync on — and
`chroma run` on another port) and remove them afterwards.

`retrieval`: the same corpus on both engines. The servers are filled from the embedded
index (`--embedded`, built with `python -m ingest CORPUS --data-dir DIR`): its vectors are
copied to the Chroma server and the corpus ingested again into PostgreSQL, which reuses
every vector (same chunk ids). Then, in this process, for every question: the retrieval
(`retriever.search`, the query embedded once beforehand, so both sides do the same work)
and the whole answer (`Assistant.ask`, which also writes the turn and the question-log row
to the records database) — p50/p95 for each engine, and hit@1 to show they agree.

`serve`: the knowledge folder ingested into PostgreSQL + Chroma by `python -m ingest`, then
replica A alone, then A and B behind nginx (deploy/'s configuration): answers/s at each
client count (bench/load.py's clients; repeating questions, warmed), each replica's memory,
and the time from an upload on A to the first answer on B that cites it (`--uploads` times;
median and max).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from bench.load import _memory_mb, _pct, _questions, _run, _warm  # noqa: E402
from tests.engines import ChromaServer, PostgresCluster, chroma_binary, postgres_bin  # noqa: E402


@contextmanager
def engines() -> Iterator[tuple[PostgresCluster, ChromaServer]]:
    bindir, binary = postgres_bin(), chroma_binary()
    if bindir is None or binary is None:
        raise SystemExit("needs PostgreSQL (make postgresql) and chroma in the venv (make install)")
    postgres, chroma = PostgresCluster(bindir, durable=True), ChromaServer(binary)
    try:
        postgres.start()
        chroma.start()
        yield postgres, chroma
    finally:
        chroma.remove()
        postgres.remove()


def _engine_env(postgres: PostgresCluster, chroma: ChromaServer) -> dict[str, str]:
    return {
        "BOT_DATABASE_URL": postgres.create_database(f"bench_{uuid.uuid4().hex[:8]}"),
        "BOT_CHROMA_URL": chroma.url,
    }


# --- retrieval ---------------------------------------------------------------------------
def retrieval(args: argparse.Namespace) -> int:
    from bot.assistant import Assistant
    from bot.config import Settings
    from bot.embedding import make_embedder
    from bot.evaluation import load_questions
    from bot.index import KnowledgeIndex
    from bot.vectors import VectorIndex
    from ingest.pipeline import Ingestor

    items = load_questions(args.questions)[: args.limit or None]
    questions = [q.question for q in items]
    embedded = Settings(data_dir=args.embedded, answer_cache=0)
    corpus = args.corpus or _corpus_of(embedded)
    embedder = make_embedder(embedded.embedding)
    with engines() as (postgres, chroma), tempfile.TemporaryDirectory() as tmp:
        env = _engine_env(postgres, chroma)
        servers = Settings(
            data_dir=Path(tmp),
            database_url=env["BOT_DATABASE_URL"],
            chroma_url=env["BOT_CHROMA_URL"],
            answer_cache=0,
        )
        started = time.perf_counter()
        source = VectorIndex(embedder, path=embedded.chroma_dir, writer=False)
        target = VectorIndex(embedder, url=chroma.url)
        got = source._collection.get(include=["embeddings", "metadatas", "documents"])
        for i in range(0, len(got["ids"]), 500):
            target._collection.upsert(
                ids=got["ids"][i : i + 500],
                embeddings=got["embeddings"][i : i + 500],
                metadatas=got["metadatas"][i : i + 500],
                documents=got["documents"][i : i + 500],
            )
        index = KnowledgeIndex.open(servers, embedder)
        report = Ingestor(index, progress=False).run([corpus])
        index.close()
        print(
            f"servers filled from {args.embedded} in {time.perf_counter() - started:.0f} s: "
            f"{report.documents} documents, {report.chunks} chunks, {report.embedded} embedded",
            flush=True,
        )
        print("engine              search p50/p95 ms   ask p50/p95 ms   hit@1", flush=True)
        for name, settings in (("embedded (SQLite)", embedded), ("PostgreSQL + Chroma", servers)):
            bot = Assistant(settings, embedder=embedder)
            for q in questions:  # every query embedded once: both sides then reuse it
                bot.retriever.search(q)
            searched, asked, hits = [], [], 0
            for item in items:
                t = time.perf_counter()
                found = bot.retriever.search(item.question)
                searched.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                bot.ask(item.question)
                asked.append((time.perf_counter() - t) * 1000)
                top = found.hits[0].document.doc_id if found.hits else None
                hits += int(top == item.doc_id)
            print(
                f"{name:<20}{_pct(searched, 0.5):>8.1f} / {_pct(searched, 0.95):<8.1f}"
                f"{_pct(asked, 0.5):>8.1f} / {_pct(asked, 0.95):<8.1f}{hits / len(items):>7.3f}",
                flush=True,
            )
            bot.close()
    return 0


def _corpus_of(settings: object) -> Path:
    """The folder the embedded index was built from (the common parent of its files)."""
    import sqlite3

    path = Path(settings.data_dir) / "records.sqlite3"  # type: ignore[attr-defined]
    db = sqlite3.connect(path)
    try:
        files = [Path(p) for (p,) in db.execute("SELECT path FROM files WHERE path LIKE '/%'")]
    finally:
        db.close()
    return Path(os.path.commonpath(files)) if len(files) > 1 else files[0].parent


# --- serve -------------------------------------------------------------------------------
class Replica:
    def __init__(self, data: Path, env: dict[str, str]) -> None:
        from tests.nginx import free_port

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "web", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=ROOT,
            env={**os.environ, "BOT_DATA_DIR": str(data), **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        self.stop()
        raise SystemExit("a replica did not start within 300 s")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(60)


def _load(base: str, clients: list[int], seconds: float, questions: list[str]) -> list[dict]:
    """Each client count for `seconds`; with the cores the load generator (this process)
    took meanwhile (CPU seconds per wall second)."""
    asyncio.run(_warm(base, questions))
    rows = []
    for n in clients:
        cpu, wall = time.process_time(), time.perf_counter()
        row = asyncio.run(_run(base, n, seconds, questions, False))
        row["client_cores"] = (time.process_time() - cpu) / (time.perf_counter() - wall)
        rows.append(row)
    return rows


def _row(label: str, row: dict) -> str:
    return (
        f"{label:<28}{row['clients']:>7}  {row['answers_per_s']:>9.1f}  {row['p50']:>6.0f}"
        f"  {row['p95']:>6.0f}  {row['share_503']:>8.1%}  {row['other_5xx']:>5}"
        f"  {row['timeouts']:>8}  {row['client_cores']:>12.2f}"
    )


def _upload_to_answer(a: Replica, b: Replica, uploads: int, token: str) -> list[float]:
    """Seconds from an upload's 201 on A to B's first answer citing it."""
    seconds = []
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(timeout=120, headers=headers) as http:
        for n in range(uploads):
            doc = f"bench-notice-{n}"
            body = (
                f"---\nid: {doc}\ntitle: 江岸区第{n}号试点园区电费补贴\ncategory: 产业扶持\n"
                f"department: 区发展改革局\n---\n## 补贴标准\n"
                f"第{n}号试点园区内企业的用电，每千瓦时补贴{n + 1}分钱。\n"
            )
            res = http.post(
                f"{a.url}/api/admin/documents",
                files=[("files", (f"{doc}.md", body.encode(), "text/markdown"))],
            )
            res.raise_for_status()
            done = time.monotonic()
            while True:
                answer = http.post(
                    f"{b.url}/api/chat", json={"question": f"第{n}号试点园区电费补贴多少？"}
                ).json()
                if [s["doc_id"] for s in answer["sources"]][:1] == [doc]:
                    seconds.append(time.monotonic() - done)
                    break
                if time.monotonic() - done > 30:
                    raise SystemExit(f"B did not answer from {doc} within 30 s")
                time.sleep(0.05)
    return seconds


def serve(args: argparse.Namespace) -> int:
    from tests.nginx import running_nginx

    clients = [int(c) for c in args.clients.split(",")]
    questions = _questions([])
    header = (
        f"{'':<28}{'clients':>7}  {'answers/s':>9}  {'p50 ms':>6}  {'p95 ms':>6}"
        f"  {'503 share':>8}  {'other':>5}  {'timeouts':>8}  {'client cores':>12}"
    )
    with engines() as (postgres, chroma), tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = {
            **_engine_env(postgres, chroma),
            "HF_HUB_OFFLINE": "1",
            "BOT_RATE_LIMIT_CHAT": "off",
            "BOT_LOG_LEVEL": "WARNING",
            "BOT_ADMIN_USER": "bench",
            "BOT_ADMIN_PASSWORD": "bench-password",
            "BOT_TRUSTED_PROXIES": "127.0.0.1",
        }
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "ingest", str(args.knowledge), "-q"],
            cwd=ROOT,
            env={**os.environ, "BOT_DATA_DIR": str(work / "ingest"), **env},
            check=True,
        )
        print(f"ingested {args.knowledge} in {time.perf_counter() - started:.0f} s", flush=True)
        a = Replica(work / "a", env)
        replicas = [a]
        try:
            rss = _memory_mb(a.proc.pid)[0]
            print(f"replica A: RSS after start-up {rss:.0f} MB", flush=True)
            print(header, flush=True)
            for row in _load(a.url, clients, args.seconds, questions):
                print(_row("1 replica", row), flush=True)
            b = Replica(work / "b", env)
            replicas.append(b)
            upstreams = [r.url.removeprefix("http://") for r in replicas]
            with running_nginx(upstreams, work / "nginx") as proxy:
                for row in _load(proxy.url, clients, args.seconds, questions):
                    print(_row("2 replicas behind nginx", row), flush=True)
                memory = [_memory_mb(r.proc.pid) for r in replicas]
                print(
                    "memory per replica after the load, RSS (peak) MB: "
                    + ", ".join(f"{now:.0f} ({peak:.0f})" for now, peak in memory),
                    flush=True,
                )
            token = httpx.post(
                f"{a.url}/api/admin/login",
                json={"username": "bench", "password": "bench-password"},
            ).json()["token"]
            seconds = _upload_to_answer(a, b, args.uploads, token)
            print(
                f"upload on A → answer on B, {len(seconds)} uploads: median "
                f"{statistics.median(seconds):.2f} s, min {min(seconds):.2f} s, max "
                f"{max(seconds):.2f} s (BOT_KB_POLL_SECONDS="
                f"{os.environ.get('BOT_KB_POLL_SECONDS', '1')})",
                flush=True,
            )
            print(json.dumps({"upload_to_answer_s": [round(s, 3) for s in seconds]}))
        finally:
            for replica in replicas:
                replica.stop()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="part", required=True)
    r = sub.add_parser("retrieval", help="embedded vs PostgreSQL + Chroma server")
    r.add_argument("--embedded", type=Path, required=True, help="an ingested data directory")
    r.add_argument("--questions", type=Path, required=True)
    r.add_argument("--corpus", type=Path, help="what --embedded was built from (default: read)")
    r.add_argument("--limit", type=int, default=0)
    s = sub.add_parser("serve", help="1 vs 2 replicas, memory, upload → answer on B")
    s.add_argument("--knowledge", type=Path, default=ROOT / "knowledge")
    s.add_argument("--clients", default="10,50")
    s.add_argument("--seconds", type=float, default=30.0)
    s.add_argument("--uploads", type=int, default=10)
    args = parser.parse_args()
    return retrieval(args) if args.part == "retrieval" else serve(args)


if __name__ == "__main__":
    sys.exit(main())
