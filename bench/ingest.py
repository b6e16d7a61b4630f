"""Ingest throughput: pipeline vs the embedder alone, and the unchanged re-run.

    python bench/ingest.py ../shared/benchmarks/ncp-policies/corpus [--files 100]

Copies the first N files to a temp folder, ingests them into a fresh temp index (wall time,
chunks/s, characters/s), embeds the same chunk texts with the embedder alone (so the
pipeline's own overhead shows), then re-ingests the unchanged folder.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import Settings  # noqa: E402
from bot.embedding import make_embedder  # noqa: E402
from bot.index import KnowledgeIndex  # noqa: E402
from ingest.pipeline import EMBED_BATCH, Ingestor  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--files", type=int, default=100, help="first N files (0 = all)")
    args = parser.parse_args()
    files = sorted(p for p in args.corpus.rglob("*") if p.is_file())
    files = files[: args.files] if args.files else files
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "corpus"
        src.mkdir()
        for f in files:
            shutil.copy2(f, src / f.name)
        embedder = make_embedder(Settings().embedding)
        index = KnowledgeIndex.open(Settings(data_dir=Path(tmp) / "data"), embedder)
        t = time.perf_counter()
        report = Ingestor(index, progress=True).run([src])
        wall = time.perf_counter() - t
        chunks = index.records.chunks()
        texts = [c.context_text for c in chunks]
        chars = sum(map(len, texts))
        t = time.perf_counter()
        for i in range(0, len(texts), EMBED_BATCH):
            embedder.embed_passages(texts[i : i + EMBED_BATCH])
        alone = time.perf_counter() - t
        t = time.perf_counter()
        again = Ingestor(index, progress=False).run([src])
        rerun = time.perf_counter() - t
        index.close()
    print(report.summary())
    print(f"files {len(files)}, chunks {len(chunks)}, characters embedded {chars:,}")
    print(
        f"ingest wall time {wall:.1f} s: {len(chunks) / wall:.2f} chunks/s, {chars / wall:.0f} chars/s"
    )
    print(
        f"embedder alone on the same texts {alone:.1f} s ({chars / alone:.0f} chars/s): pipeline overhead {100 * (wall - alone) / alone:+.1f} %"
    )
    print(
        f"re-ingest unchanged: {rerun:.2f} s ({len(again.unchanged)} files unchanged, {again.embedded} embedded)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
