"""`Assistant`: the in-process API — retrieve, then answer with citations."""

from __future__ import annotations

import uuid

from bot.answer import AnswerPolicy, ExtractiveAnswerer
from bot.config import Settings
from bot.embedding import Embedder
from bot.index import KnowledgeIndex
from bot.models import Answer
from bot.rerank import make_reranker
from bot.retrieval import HybridRetriever, RetrievalConfig


class Assistant:
    """Answers enterprise questions from the indexed knowledge base, citing its sources.

    >>> bot = Assistant(Settings(data_dir="data"))   # doctest: +SKIP
    >>> bot.ask("企业开办要几天？").text              # doctest: +SKIP
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        embedder: Embedder | None = None,
        retrieval: RetrievalConfig | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self.index = KnowledgeIndex.open(self.settings, embedder)
        self.index.check_embedder()
        self.retriever = HybridRetriever(
            self.index, retrieval, reranker=make_reranker(self.settings.reranker)
        )
        self.answerer = ExtractiveAnswerer(
            AnswerPolicy(
                min_coverage=self.settings.min_coverage,
                min_similarity=self.settings.min_similarity
                if self.settings.min_similarity is not None
                else self.index.embedder.answer_similarity,
                max_chars=self.settings.answer_max_chars,
                hotline=self.settings.hotline,
            )
        )

    def ask(
        self, question: str, *, session_id: str | None = None, category: str | None = None
    ) -> Answer:
        """Answer one question; `answered` is False when the knowledge base does not cover it."""
        found = self.retriever.search(question, k=self.settings.top_k, category=category)
        answer = self.answerer.answer(question, found, self.retriever.term_weight)
        answer.session_id = session_id or uuid.uuid4().hex
        return answer

    def refresh(self) -> None:
        """Pick up documents ingested since start-up."""
        self.retriever.refresh()

    @property
    def stats(self) -> tuple[int, int]:
        return self.retriever.document_count, self.retriever.chunk_count

    def close(self) -> None:
        self.index.close()
