from __future__ import annotations

from bot.models import Document
from bot.text import sections
from ingest.chunking import ChunkingPolicy, chunk_document


def _doc(text: str, kind: str = "document") -> Document:
    return Document(doc_id="d", title="人才公寓申请办法", text=text, kind=kind)


def test_sections_follow_headings() -> None:
    text = "# 标题\n引言。\n## 申请条件\n条件一。\n### 特殊情形\n情形。\n## 办理流程\n流程。"
    assert [h for h, _ in sections(text)] == ["", "申请条件", "特殊情形", "办理流程"]


def test_chunks_end_on_sentence_boundaries_and_respect_size() -> None:
    sentence = "申请人应当在江岸区内依法缴纳社会保险满六个月。"
    chunks = chunk_document(
        _doc("## 申请条件\n" + sentence * 30), ChunkingPolicy(max_chars=200, overlap_chars=60)
    )
    assert len(chunks) > 3
    for c in chunks:
        assert len(c.text) <= 200
        assert c.text.endswith("。")
        assert c.section == "申请条件" and c.title == "人才公寓申请办法"
        assert c.context_text.startswith("人才公寓申请办法 申请条件\n")


def test_overlap_repeats_the_boundary_sentence() -> None:
    sentences = [f"第{i}条规定的内容是这样的。" for i in range(20)]
    chunks = chunk_document(
        _doc("".join(sentences)), ChunkingPolicy(max_chars=100, overlap_chars=30)
    )
    for prev, nxt in zip(chunks, chunks[1:], strict=False):
        last = prev.text.split("。")[-2] + "。"
        first = nxt.text.split("。")[0] + "。"
        assert last in nxt.text  # the boundary sentence is repeated …
        assert first in prev.text and not nxt.text.startswith(
            prev.text.split("。")[0]
        )  # … and only the tail


def test_sentence_punctuation_variants_split() -> None:
    text = "可以申请吗？可以！材料如下；身份证。" * 20
    chunks = chunk_document(_doc(text), ChunkingPolicy(max_chars=60, overlap_chars=0))
    assert all(c.text[-1] in "。？！；" for c in chunks)


def test_overlong_sentence_is_cut_at_clauses() -> None:
    text = "，".join(["对符合条件的企业给予一次性奖励"] * 40) + "。"
    chunks = chunk_document(_doc(text), ChunkingPolicy(max_chars=120, overlap_chars=0))
    assert len(chunks) > 1 and all(len(c.text) <= 120 for c in chunks)
    assert "".join(c.text for c in chunks) == text


def test_ids_are_content_hashes() -> None:
    a = chunk_document(_doc("## 条件\n在江岸区工作。"))
    b = chunk_document(_doc("## 条件\n在江岸区工作。"))
    c = chunk_document(_doc("## 条件\n在江岸区工作满一年。"))
    assert [x.chunk_id for x in a] == [x.chunk_id for x in b]
    assert a[0].chunk_id != c[0].chunk_id


def test_faq_entry_is_one_chunk() -> None:
    (chunk,) = chunk_document(
        Document(doc_id="faq#1", title="公司注册要多久？", text="一个工作日。", kind="faq")
    )
    assert chunk.context_text == "公司注册要多久？\n一个工作日。"
