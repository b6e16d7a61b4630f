"""The LangChain views over the same index (retriever and vector store)."""

from __future__ import annotations

from bot.assistant import Assistant
from bot.langchain import KnowledgeBaseRetriever, langchain_vectorstore


def test_retriever_returns_langchain_documents(assistant: Assistant) -> None:
    retriever = KnowledgeBaseRetriever(retriever=assistant.retriever, k=3)
    docs = retriever.invoke("惟楚荟在什么地方")
    assert len(docs) == 3
    assert docs[0].metadata["doc_id"] == "weichuhui"
    assert "岳飞街" in docs[0].page_content
    filtered = KnowledgeBaseRetriever(
        retriever=assistant.retriever, k=3, category="金融支持"
    ).invoke("补贴")
    assert filtered and {d.metadata["category"] for d in filtered} == {"金融支持"}


def test_vectorstore_reads_the_same_collection(assistant: Assistant) -> None:
    store = langchain_vectorstore(assistant.index)
    (doc,) = store.similarity_search("博士来江岸工作的安家补贴", k=1)
    assert doc.metadata["doc_id"] in {d.doc_id for d in assistant.index.records.documents()}
    assert "补贴" in doc.page_content
