"""Chinese-aware chunking: split on headings, then pack sentences (。！？；) into chunks."""

from __future__ import annotations

import bisect
import hashlib
import re
import unicodedata
from dataclasses import dataclass

from bot.models import Chunk, Document
from bot.text import join_sentences, sections, split_sentences

_CLAUSE = re.compile(r"(?<=[，,、：:])")


@dataclass(frozen=True)
class ChunkingPolicy:
    """Sizes in characters. Overlap repeats trailing sentences of the previous chunk."""

    max_chars: int = 400
    overlap_chars: int = 80
    min_chars: int = 40


def _pieces(body: str, max_chars: int) -> list[str]:
    """Sentences, with over-long ones cut at clause marks, then hard-wrapped."""
    pieces: list[str] = []
    for sentence in split_sentences(body):
        if len(sentence) <= max_chars:
            pieces.append(sentence)
            continue
        buf = ""
        for clause in _CLAUSE.split(sentence):
            while len(clause) > max_chars:
                pieces.append(clause[:max_chars])
                clause = clause[max_chars:]
            if len(buf) + len(clause) > max_chars and buf:
                pieces.append(buf)
                buf = ""
            buf += clause
        if buf:
            pieces.append(buf)
    return pieces


def _pack(pieces: list[str], policy: ChunkingPolicy) -> list[str]:
    chunks: list[list[str]] = []
    current: list[str] = []
    size = 0
    for piece in pieces:
        if current and size + len(piece) > policy.max_chars:
            chunks.append(current)
            # Carry trailing sentences forward so a fact split at the boundary is whole somewhere.
            carry: list[str] = []
            for prev in reversed(current):
                if sum(map(len, carry)) + len(prev) > policy.overlap_chars:
                    break
                carry.insert(0, prev)
            current, size = carry, sum(map(len, carry))
        current.append(piece)
        size += len(piece)
    new = [p for p in current if not chunks or p not in chunks[-1]]  # beyond the carried tail
    if new and chunks and size < policy.min_chars:
        chunks[-1] += new  # too small to stand alone
    elif new:
        chunks.append(current)
    return [join_sentences(c) for c in chunks]


def chunk_id(doc_id: str, section: str, text: str) -> str:
    """Content hash: the same passage of the same document always gets the same id."""
    return hashlib.sha256(f"{doc_id}\x1f{section}\x1f{text}".encode()).hexdigest()[:32]


def chunk_document(doc: Document, policy: ChunkingPolicy | None = None) -> list[Chunk]:
    """Split a document into chunks carrying its title and section heading. A paged
    document's (`page_texts`: a PDF, a scan) chunks never cross a page break, and each
    knows its page, so a citation can name it."""
    policy = policy or ChunkingPolicy()
    if doc.kind == "faq":
        parts = [("", doc.text)]
    else:
        parts = sections(doc.text)
    pages = _PageFinder(doc.page_texts) if doc.page_texts else None
    chunks: list[Chunk] = []
    seen: set[str] = set()
    for heading, body in parts:
        pieces = _pieces(body, policy.max_chars)
        runs = pages.runs(pieces) if pages else [(0, pieces)]
        for page, run in runs:
            for text in _pack(run, policy):
                cid = chunk_id(doc.doc_id, heading, text)
                if cid in seen:
                    cid = chunk_id(doc.doc_id, heading, f"{text}\x1f{len(chunks)}")
                seen.add(cid)
                chunks.append(Chunk(cid, doc.doc_id, len(chunks), doc.title, heading, text, page))
    return chunks


_SPACE = re.compile(r"\s+")


def _squash(text: str) -> str:
    """Text compared without spaces, line breaks or width: cleaning may have joined lines
    and turned half-width marks full-width since the pages were read."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", text))


class _PageFinder:
    """The page each piece of a paged document's text starts on: the piece's opening found
    in the pages' text, searched forward from the previous piece's (the text is in reading
    order), else anywhere, else the previous piece's page."""

    def __init__(self, pages: tuple[str, ...]) -> None:
        self.whole = ""
        self.starts: list[int] = []
        for page_text in pages:
            self.starts.append(len(self.whole))
            self.whole += _squash(page_text)
        self.cursor, self.page = 0, 1

    def page_of(self, piece: str) -> int:
        body = _squash(piece)
        for size in (24, 12, 6):
            head = body[:size]
            if not head:
                break
            at = self.whole.find(head, self.cursor)
            if at < 0:
                at = self.whole.find(head)
            if at >= 0:
                self.cursor, self.page = at, bisect.bisect_right(self.starts, at)
                break
        return self.page

    def runs(self, pieces: list[str]) -> list[tuple[int, list[str]]]:
        """Consecutive pieces of one page, with the page."""
        out: list[tuple[int, list[str]]] = []
        for piece in pieces:
            page = self.page_of(piece)
            if out and out[-1][0] == page:
                out[-1][1].append(piece)
            else:
                out.append((page, [piece]))
        return out
