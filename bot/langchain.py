"""LangChain views of the knowledge base, for developers who compose their own chains."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from bot.index import KnowledgeIndex
from bot.retrieval import HybridRetriever
from bot.vectors import COLLECTION


class KnowledgeBaseRetriever(BaseRetriever):
    """The hybrid retriever as a LangChain `BaseRetriever`: one Document per retrieved document.

    >>> KnowledgeBaseRetriever(retriever=assistant.retriever, k=3).invoke("人才公寓怎么申请")  # doctest: +SKIP
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    retriever: HybridRetriever
    k: int = 5
    category: str | None = None

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[LCDocument]:
        found = self.retriever.search(query, k=self.k, category=self.category)
        out = []
        for hit in found.hits:
            doc = hit.document
            best = hit.chunks[0] if hit.chunks else None
            out.append(
                LCDocument(
                    page_content="\n".join(c.text for c in hit.chunks) or doc.text,
                    metadata={
                        "doc_id": doc.doc_id,
                        "title": doc.title,
                        "section": best.section if best else "",
                        "category": doc.category,
                        "department": doc.department,
                        "contact": doc.contact,
                        "url": doc.url,
                        "score": hit.score,
                    },
                )
            )
        return out


def langchain_vectorstore(index: KnowledgeIndex) -> Any:
    """The chunk vectors as a `langchain_chroma.Chroma` store (read it; write through ingest)."""
    from langchain_chroma import Chroma

    return Chroma(
        client=index.vectors.client,
        collection_name=COLLECTION,
        embedding_function=index.embedder,
    )
