"""Plain records passed between layers: documents, chunks, sources, answers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_WEB_URL = re.compile(r"^https?://[^\s<>\"']+$", re.IGNORECASE)


def web_url(url: str) -> str:
    """The URL when it is an http(s) address, else '' (a `javascript:` or `data:` link in a
    document's front matter never reaches a page)."""
    url = (url or "").strip()
    return url if _WEB_URL.match(url) else ""


EXTRA_FIELDS = (
    "valid_from",
    "valid_until",
    "validity_phrase",
    "benefit",
    "eligibility",
    "ocr_pages",
    "doc_number",
    "issuer",
    "issued",
)


@dataclass(frozen=True)
class Document:
    """One knowledge-base document (or one FAQ entry) after parsing."""

    doc_id: str
    title: str
    text: str
    category: str = ""
    department: str = ""
    contact: str = ""
    url: str = ""
    updated: str = ""
    sample: bool = False
    kind: str = "document"  # "document", "faq", "service" (a guide) or "policy"
    source_path: str = ""
    # An FAQ entry's other ways of asking its question (matched question-to-question).
    alternatives: tuple[str, ...] = ()
    # When the document is in force (ISO dates, "" = not stated); `validity_phrase` holds the
    # words of the text they were read from ("" when the front matter gave them).
    valid_from: str = ""
    valid_until: str = ""
    validity_phrase: str = ""
    benefit: str = ""  # a policy's one line: what the enterprise gets
    eligibility: str = ""  # a policy's conditions, canonical JSON (bot/policies/eligibility.py)
    # Pages read by OCR, with the engine's mean confidence: JSON [[page, 0.97], …] ("" = none)
    ocr_pages: str = ""
    # Only while ingesting (not stored): the text of each page, so every passage knows the
    # page it starts on; and what staff should hear about the file (English, Chinese).
    page_texts: tuple[str, ...] = ()
    notes: tuple[tuple[str, str], ...] = ()
    # A government document's particulars (ingest/govdoc.py, or front matter): its 文号
    # normalised to 岸政发〔2026〕3号, the issuing body, the date of issue (ISO).
    doc_number: str = ""
    issuer: str = ""
    issued: str = ""

    @property
    def ocr(self) -> bool:
        """Whether some of the text was read by OCR."""
        return bool(self.ocr_pages)

    @property
    def extras(self) -> dict[str, str]:
        """The kind-specific fields, as stored in the records' `meta` column."""
        return {k: getattr(self, k) for k in EXTRA_FIELDS if getattr(self, k)}


@dataclass(frozen=True)
class Chunk:
    """A retrievable passage of a document, with its title and section as context."""

    chunk_id: str
    doc_id: str
    ordinal: int
    title: str
    section: str
    text: str
    page: int = 0  # the page it starts on, 1-based (a PDF, a scan); 0 when not paged

    @property
    def context_text(self) -> str:
        """What is embedded and indexed: title and section headings, then the body."""
        head = (
            self.title
            if not self.section or self.section == self.title
            else f"{self.title} {self.section}"
        )
        return f"{head}\n{self.text}"


@dataclass
class Source:
    """A cited document as the client sees it."""

    doc_id: str
    title: str
    section: str
    snippet: str
    url: str
    score: float
    category: str = ""
    department: str = ""
    contact: str = ""
    updated: str = ""
    sample: bool = False
    valid_until: str = ""
    expired: bool = False
    page: int = 0  # the page of a paged document (a PDF, a scan) the passage starts on
    doc_number: str = ""  # 文号 of a government document
    issuer: str = ""
    issued: str = ""

    def public(self) -> dict[str, object]:
        return {
            "doc_id": self.doc_id,
            "title": self.title,
            "section": self.section,
            "snippet": self.snippet,
            "url": web_url(self.url),
            "score": round(self.score, 4),
            "department": self.department,
            "contact": self.contact,
            "updated": self.updated,
            "sample": self.sample,
            "valid_until": self.valid_until or None,
            "expired": self.expired,
            "page": self.page or None,
            "doc_number": self.doc_number or None,
            "issuer": self.issuer or None,
            "issued": self.issued or None,
        }


@dataclass
class DocumentHit:
    """A retrieved document with its fused score and its best chunks, best first."""

    document: Document
    score: float
    chunks: list[Chunk] = field(default_factory=list)
    coverage: float = 0.0
    # Per chunk: its BM25 score and its cosine to the question (None: not a dense candidate).
    chunk_scores: list[tuple[float, float | None]] = field(default_factory=list)


@dataclass
class Retrieval:
    """Ranked documents plus how strongly the best passage matched the question."""

    hits: list[DocumentHit]
    top_similarity: float = 0.0  # cosine of the nearest chunk
    similarity_gap: float = 0.0  # nearest minus the typical (ranks 11–40) cosine
    unknown_terms: list[str] = field(default_factory=list)  # Latin-script words in no document
    # 文号 the question names in a series the knowledge base has (岸政发…) but no document holds
    unknown_doc_numbers: list[str] = field(default_factory=list)
    home_places: frozenset[str] = frozenset()  # places most documents name (bot/places.py)


@dataclass
class Answer:
    """What the assistant says: text with [n] markers, the sources they point at."""

    text: str
    answered: bool
    sources: list[Source]
    retrieved: list[DocumentHit] = field(default_factory=list)
    contact: str = ""
    session_id: str = ""
    # "extractive"; "llm" when a language model worded it; "faq" when a staff-written FAQ
    # answer was used because the question closely matched the entry
    mode: str = "extractive"
    question: str = ""  # what was searched: the question, or its standalone rewrite
    # How well the quoted evidence covers the question's focus and aspect (0–1), for staff;
    # refusals have 0.
    confidence: float = 0.0
    refusal_reason: str = ""  # why not answered: weak_evidence, not_in_evidence, …
    evidence: Any = None  # bot.answering.extractive.Evidence: what the hit test shows
    # mode "service": the guide whose fields answered (bot.services.ServiceGuide.public + asked)
    service: dict[str, Any] | None = None
    # mode "match": the profile read off the question and the policies matched to it
    matches: dict[str, Any] | None = None
