"""Hybrid retrieval: BM25 over chunks and whole documents plus dense vectors, fused by rank."""

from __future__ import annotations

import bisect
import math
import threading
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bot.answering.faq import FaqMatch, FaqMatcher
from bot.doc_numbers import (
    DocNumber,
    cited_numbers,
    mentions,
    names,
    parse_doc_number,
    without_mention,
)
from bot.index import KnowledgeIndex
from bot.lexical import LexicalIndex
from bot.models import Chunk, Document, DocumentHit, Retrieval
from bot.places import home_places
from bot.rerank import CrossEncoderReranker
from bot.text import bigram_set, normalize, split_sentences, strip_question_words
from bot.timing import timed

# a longer question is embedded by its first 100 characters: the embedder costs about
# 0.75 ms a character (a pasted 1,000-character "question" took 1.7 s of CPU, twice: for the
# passages and for the FAQ), and a question's head carries what a vector can say about it
# (the longest of the 624 ncp questions has 86 characters)
QUESTION_EMBED_CHARS = 100


@dataclass(frozen=True)
class RetrievalConfig:
    """Weights of each ranked list in reciprocal-rank fusion (see docs/EVALUATION.md)."""

    tokenizer: str = "bigram"
    # The lexical score of a document is a weighted sum of three normalised parts:
    # whole-document BM25, its best chunk's BM25, and its best passage (see passage_sentences).
    document_weight: float = 1.0
    chunk_weight: float = 0.3
    passage_weight: float = 1.0
    # A passage is this many consecutive sentences; its score is the IDF-weighted share of
    # the question's bigrams it contains (questions restate the sentences that answer them).
    passage_sentences: int = 3
    # Documents considered: the best of each lexical list (and all dense candidates).
    lexical_candidates: int = 30
    dense_weight: float = 0.5
    # Dense weight shrinks as the best lexical document covers more of the question:
    # w = dense_weight * (1 - coverage) ** adaptive_power; 0 turns the adaptation off.
    adaptive_power: float = 4.0
    rrf_k: int = 60
    dense_candidates: int = 60
    # Lexical coverage of the best document at which the question is not embedded (None:
    # always embed). At 0.9 the dense weight is 0.5 × 0.1⁴ = 5e-5, far below the gap
    # between two neighbouring lexical ranks; it must stay above the answer gate's
    # min_coverage (0.6), which then decides without the similarity.
    words_decide: float | None = 0.9
    chunks_per_hit: int = 3
    # With a cross-encoder configured (BOT_RERANKER), this many fused candidates are re-scored.
    rerank_candidates: int = 20


@dataclass
class _Snapshot:
    kb_version: int  # the knowledge-base version read before the build began
    documents: dict[str, Document]
    doc_order: list[str]
    doc_pos: dict[str, int]
    chunks: list[Chunk]
    chunks_by_doc: dict[str, list[int]]
    chunk_doc: np.ndarray  # document position of each chunk
    chunk_pos: dict[str, int]
    chunk_lex: LexicalIndex
    doc_lex: LexicalIndex
    doc_bigrams: list[set[str]]
    # Per document: its normalised sentences joined by newlines, and where each one starts.
    doc_sentences: list[tuple[str, list[int]]]
    bigram_idf: dict[str, float]
    home_places: frozenset[str]
    max_idf: float
    faq: FaqMatcher
    # The live chunks' vectors, one row per chunk (zero where a chunk has none): searched
    # exactly with one matrix product, which on knowledge bases of this size (thousands of
    # chunks) costs far less than a call into the vector store.
    chunk_vectors: np.ndarray
    chunk_category: np.ndarray  # each chunk's document category
    # Per document: title and text normalised (what focus words are looked up in).
    doc_norm: list[str]
    share_cache: dict[str, float]
    # The titles of the documents (not FAQ rows), normalised: what each one is about.
    titles: list[str]
    # Each government document's issuing number (文号), parsed: a question naming it finds it.
    doc_numbers: list[tuple[DocNumber, str]]
    # Every 文号 the documents give or cite, and the codes of their own (岸政发 …).
    known_numbers: frozenset[DocNumber]
    known_codes: frozenset[str]


class HybridRetriever:
    """Finds the documents that answer a question; usable in-process and thread-safe."""

    def __init__(
        self,
        index: KnowledgeIndex,
        config: RetrievalConfig | None = None,
        reranker: CrossEncoderReranker | None = None,
    ) -> None:
        self.index = index
        self.config = config or RetrievalConfig()
        self.reranker = reranker
        self._lock = threading.Lock()
        self._refresh_lock = threading.Lock()
        self._phrasing_vectors: dict[str, np.ndarray] = {}  # FAQ phrasings, kept across refreshes
        # chunk vectors by chunk id, kept across refreshes (a chunk id names its content)
        self._chunk_vectors: dict[str, np.ndarray] = {}
        self._snap = self._build()

    def refresh(self) -> None:
        """Reload the live documents and chunks from the records (after an ingest)."""
        # One build at a time: two writers refreshing at once must not let the older
        # build replace the newer one.
        with self._refresh_lock:
            snap = self._build()
            with self._lock:
                self._snap = snap

    def _build(self) -> _Snapshot:
        # read first: a change committed during the build leaves the snapshot "behind", so
        # the watcher (bot/watch.py) builds again rather than missing it
        version = self.index.database.kb_version()
        docs = self.index.records.documents()
        chunks = self.index.records.chunks()
        by_doc: dict[str, list[int]] = defaultdict(list)
        for i, c in enumerate(chunks):
            by_doc[c.doc_id].append(i)
        doc_texts = [f"{d.title}\n{d.text}" for d in docs]
        pos = {d.doc_id: i for i, d in enumerate(docs)}
        mode = self.config.tokenizer
        doc_bigrams = [bigram_set(t) for t in doc_texts]
        df: Counter[str] = Counter()
        for grams in doc_bigrams:
            df.update(grams)
        n = max(len(docs), 1)
        own = [
            (number, d.doc_id)
            for d in docs
            if d.doc_number and (number := parse_doc_number(d.doc_number)) is not None
        ]
        return _Snapshot(
            kb_version=version,
            chunk_vectors=self._load_vectors(chunks),
            chunk_category=np.array(
                [docs[pos[c.doc_id]].category or "" for c in chunks], dtype=object
            ),
            documents={d.doc_id: d for d in docs},
            doc_order=[d.doc_id for d in docs],
            doc_pos={d.doc_id: i for i, d in enumerate(docs)},
            chunks=chunks,
            chunks_by_doc=dict(by_doc),
            chunk_doc=np.array([pos[c.doc_id] for c in chunks], dtype=np.int64),
            chunk_pos={c.chunk_id: i for i, c in enumerate(chunks)},
            chunk_lex=LexicalIndex([c.context_text for c in chunks], mode),
            doc_lex=LexicalIndex(doc_texts, mode),
            doc_bigrams=doc_bigrams,
            doc_sentences=[_sentence_layout(d.text) for d in docs],
            home_places=frozenset(
                home_places(
                    [normalize(t) for d, t in zip(docs, doc_texts, strict=True) if d.kind != "faq"]
                )
            ),
            bigram_idf={t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()},
            max_idf=math.log(1 + (n + 0.5) / 0.5),
            faq=FaqMatcher(docs, self.index.embedder, self._phrasing_vectors),
            doc_norm=[normalize(t) for t in doc_texts],
            share_cache={},
            titles=[normalize(d.title) for d in docs if d.kind != "faq"],
            doc_numbers=own,
            known_numbers=frozenset(
                [n for n, _ in own]
                + [n for d in docs if "号" in d.text for n in cited_numbers(d.text)]
            ),
            known_codes=frozenset(n.code for n, _ in own),
        )

    def _load_vectors(self, chunks: list[Chunk]) -> np.ndarray:
        """The chunks' vectors as a matrix, read from the vector store only for chunks not
        seen in an earlier build."""
        known = self._chunk_vectors
        missing = [c.chunk_id for c in chunks if c.chunk_id not in known]
        if missing:
            known.update(self.index.vectors.vectors(missing))
        live = {c.chunk_id for c in chunks}
        for gone in [cid for cid in known if cid not in live]:
            del known[gone]
        dim = self.index.embedder.dim
        none = np.full(dim, np.nan, dtype=np.float32)  # a chunk without a vector never ranks
        if not chunks:
            return np.zeros((0, dim), dtype=np.float32)
        return np.stack([known.get(c.chunk_id, none) for c in chunks])

    def match_faq(
        self,
        question: str,
        category: str | None = None,
        accept: Callable[[FaqMatch], bool] | None = None,
    ) -> FaqMatch | None:
        """The FAQ entry this question closely matches (answered from it first), if any.

        `accept` can veto a candidate (the focus check: 高新技术企业 is not 总部企业).
        """
        snap = self._snap
        return snap.faq.match(question, snap.home_places, category, accept)

    def document_share(self, word: str) -> float:
        """The share of live documents whose title or text contains the word (0–1)."""
        snap = self._snap
        cached = snap.share_cache.get(word)
        if cached is None:
            n = len(snap.doc_norm)
            cached = sum(1 for t in snap.doc_norm if word in t) / n if n else 0.0
            if len(snap.share_cache) < 100_000:
                snap.share_cache[word] = cached
        return cached

    def titled(self, word: str) -> bool:
        """Whether the title of some document (not an FAQ row) names the word."""
        return any(word in t for t in self._snap.titles)

    @property
    def normalized_texts(self) -> list[str]:
        """Each live document's title and text, normalised."""
        return self._snap.doc_norm

    def nearest_faq(self, question: str) -> FaqMatch | None:
        """The closest FAQ phrasing, close enough or not (for the staff's hit test)."""
        return self._snap.faq.nearest(question)

    def term_weight(self, term: str) -> float:
        """IDF of a bigram over the live documents (unseen terms weigh the most)."""
        snap = self._snap
        return snap.bigram_idf.get(term, snap.max_idf)

    @property
    def documents(self) -> dict[str, Document]:
        """The live documents by id (a new mapping after every refresh)."""
        return self._snap.documents

    @property
    def kb_version(self) -> int:
        """The knowledge-base version the live snapshot was built at."""
        return self._snap.kb_version

    @property
    def document_count(self) -> int:
        return len(self._snap.documents)

    @property
    def chunk_count(self) -> int:
        return len(self._snap.chunks)

    @timed("retrieval")
    def search(
        self, question: str, k: int = 5, category: str | None = None, also: str = ""
    ) -> Retrieval:
        """The k best documents for the question, each with its best chunks.

        `also`: words matched like the question's own but not embedded (the full terms
        of the question's abbreviations: 高新技术企业 for 高企).
        """
        snap = self._snap
        if not snap.chunks:
            return Retrieval(hits=[])
        cfg = self.config
        topic = strip_question_words(question)
        if also:
            topic = f"{topic} {also}"
        allowed = None
        if category:
            allowed = {d for d, doc in snap.documents.items() if doc.category == category}

        chunk_scores = snap.chunk_lex.scores(topic)
        doc_scores = snap.doc_lex.scores(topic)
        query_bigrams = bigram_set(topic)
        lexical = self._lexical(query_bigrams, doc_scores, chunk_scores, snap, allowed)
        doc_ranking = sorted((d for d in lexical if lexical[d] > 0), key=lambda d: -lexical[d])
        # Trust words when the question shares them with a document (formal questions);
        # lean on meaning when it does not (colloquial paraphrases). See docs/EVALUATION.md.
        lexical_coverage = (
            self._coverage(query_bigrams, snap.doc_bigrams[snap.doc_pos[doc_ranking[0]]], snap)
            if doc_ranking
            else 0.0
        )
        dense_weight = cfg.dense_weight * (1.0 - lexical_coverage) ** cfg.adaptive_power
        # The words decide alone when a document holds (nearly) all of them: the dense
        # weight is then too small to move any document's rank, and the gate does not need
        # the similarity either (coverage above its threshold answers), so the question is
        # not embedded at all — the embedding is most of an answer's cost.
        skip = cfg.words_decide is not None and lexical_coverage >= cfg.words_decide
        dense = {} if skip else self._dense(question, snap, category)

        fused: dict[str, float] = defaultdict(float)
        for weight, ranking in (
            (1.0, doc_ranking),
            (dense_weight, self._docs_from_dense(dense, snap)),
        ):
            if weight <= 0:
                continue
            rank = 0
            for doc_id in ranking:
                if allowed is not None and doc_id not in allowed:
                    continue
                rank += 1
                fused[doc_id] += weight / (cfg.rrf_k + rank)

        ranked = sorted(fused.items(), key=lambda kv: -kv[1])
        if self.reranker is not None and ranked:
            ranked = self._rerank(question, ranked, chunk_scores, dense, snap)
        named = self.named_documents(question, allowed)
        if named:
            ranked = self._named_first(named, ranked)
        hits = []
        for doc_id, score in ranked[:k]:
            best = self._best_chunks(doc_id, chunk_scores, dense, snap)
            hits.append(
                DocumentHit(
                    document=snap.documents[doc_id],
                    score=score,
                    chunks=[snap.chunks[i] for i in best],
                    chunk_scores=[(float(chunk_scores[i]), dense.get(i)) for i in best],
                    coverage=self._coverage(
                        query_bigrams, snap.doc_bigrams[snap.doc_pos[doc_id]], snap
                    ),
                )
            )
        for hit in hits:
            if hit.document.doc_id in named:
                hit.coverage = max(hit.coverage, self._named_coverage(question, hit.document, snap))
        sims = sorted(dense.values(), reverse=True)
        top = sims[0] if sims else 0.0
        typical = float(np.mean(sims[10:40])) if len(sims) > 10 else (sims[-1] if sims else 0.0)
        unknown = [
            t
            for t in query_bigrams
            if t.isascii() and t.isalpha() and len(t) > 1 and t not in snap.bigram_idf
        ]
        return Retrieval(
            hits=hits,
            top_similarity=top,
            similarity_gap=top - typical,
            unknown_terms=unknown,
            unknown_doc_numbers=self._unknown_numbers(question, snap),
            home_places=snap.home_places,
        )

    def named_documents(self, question: str, allowed: set[str] | None = None) -> list[str]:
        """The documents whose 文号 the question names (岸政发〔2026〕3号, 岸政发(2026)3,
        岸政发2026年3号 …), in the order named."""
        snap = self._snap
        if not snap.doc_numbers:
            return []
        out: list[str] = []
        for mention in mentions(question):
            for number, doc_id in snap.doc_numbers:
                if names(mention, number) and doc_id not in out:
                    if allowed is None or doc_id in allowed:
                        out.append(doc_id)
        return out

    @staticmethod
    def _unknown_numbers(question: str, snap: _Snapshot) -> list[str]:
        """The 文号 the question names (brackets or 号 written) in a series whose documents the
        knowledge base holds, that no document gives or cites: 岸政发〔2026〕9号 when only
        岸政发〔2026〕1号–4号 are there (a question about it must not be answered from 3号)."""
        if not snap.known_codes:
            return []
        out = []
        for before, year, n in mentions(question, explicit=True):
            code = next((c for c in snap.known_codes if before.endswith(c)), "")
            # a cited number's code may carry a word before it (原岸政发): its end is the series
            if code and not any(
                k.year == year and k.number == n and k.code.endswith(code)
                for k in snap.known_numbers
            ):
                out.append(str(DocNumber(code, year, n)))
        return out

    def _named_coverage(self, question: str, doc: Document, snap: _Snapshot) -> float:
        """The share of what a question asks of the document it names (by 文号) that the
        document holds: all when it asks for the document itself (岸政发〔2026〕3号讲了什么).

        Unweighted: the look-alike notices of one issuer share most words, which IDF weighs
        down to nothing, while the number already said which one is meant."""
        number = parse_doc_number(doc.doc_number)
        if number is None:
            return 0.0
        rest = bigram_set(strip_question_words(without_mention(question, number)))
        if not rest:
            return 1.0
        held = snap.doc_bigrams[snap.doc_pos[doc.doc_id]]
        return sum(1 for t in rest if t in held) / len(rest)

    @staticmethod
    def _named_first(named: list[str], ranked: list[tuple[str, float]]) -> list[tuple[str, float]]:
        """The named documents ahead of the others, scored just above the best of them (a
        question naming a 文号 asks about that document, whatever else its words match)."""
        rest = [(d, s) for d, s in ranked if d not in named]
        top = max((s for _, s in ranked), default=0.0)
        step = 1e-4
        head = [(d, top + step * (len(named) - i)) for i, d in enumerate(named)]
        return head + rest

    def _lexical(
        self,
        query: set[str],
        doc_scores: np.ndarray,
        chunk_scores: np.ndarray,
        snap: _Snapshot,
        allowed: set[str] | None,
    ) -> dict[str, float]:
        """Lexical score of the candidate documents: document, chunk and passage evidence."""
        cfg = self.config
        chunk_best = np.zeros(len(snap.doc_order), dtype=np.float32)
        if len(chunk_scores):
            np.maximum.at(chunk_best, snap.chunk_doc, chunk_scores)
        if allowed is not None:
            mask = np.array([d in allowed for d in snap.doc_order])
            doc_scores = np.where(mask, doc_scores, 0.0)
            chunk_best = np.where(mask, chunk_best, 0.0)
        n = cfg.lexical_candidates
        candidates = {int(i) for i in np.argsort(-doc_scores)[:n] if doc_scores[i] > 0}
        candidates |= {int(i) for i in np.argsort(-chunk_best)[:n] if chunk_best[i] > 0}
        if not candidates:
            return {}
        top_doc = float(doc_scores.max()) or 1.0
        top_chunk = float(chunk_best.max()) or 1.0
        weights = {t: snap.bigram_idf.get(t, snap.max_idf) for t in sorted(query)}
        total = sum(weights.values()) or 1.0
        return {
            snap.doc_order[i]: cfg.document_weight * float(doc_scores[i]) / top_doc
            + cfg.chunk_weight * float(chunk_best[i]) / top_chunk
            + (
                cfg.passage_weight * self._best_passage(snap.doc_sentences[i], weights) / total
                if cfg.passage_weight
                else 0.0
            )
            for i in candidates
        }

    def _best_passage(self, layout: tuple[str, list[int]], weights: dict[str, float]) -> float:
        """Weight of the question terms found in the best run of consecutive sentences."""
        text, starts = layout
        n = len(starts)
        if not n:
            return 0.0
        span = max(1, self.config.passage_sentences)
        # covered[i]: weight of the terms in the passage starting at sentence i. Plain lists:
        # documents have tens of sentences, where numpy's per-call cost is most of the work.
        covered = [0.0] * n
        for term, weight in weights.items():
            pos = text.find(term)
            done = -1  # passages already credited with this term (each counts it once)
            while pos >= 0:
                i = bisect.bisect_right(starts, pos) - 1
                for j in range(max(0, i - span + 1, done + 1), i + 1):
                    covered[j] += weight
                done = i
                pos = text.find(term, starts[i + 1]) if i + 1 < n else -1
        return max(covered)

    def _rerank(
        self,
        question: str,
        ranked: list[tuple[str, float]],
        lex: np.ndarray,
        dense: dict[int, float],
        snap: _Snapshot,
    ) -> list[tuple[str, float]]:
        """Reorder the best candidates by the cross-encoder's score of their best chunk."""
        assert self.reranker is not None
        head = ranked[: self.config.rerank_candidates]
        passages = []
        for doc_id, _ in head:
            best = self._best_chunks(doc_id, lex, dense, snap)
            passages.append(
                snap.chunks[best[0]].context_text if best else snap.documents[doc_id].text
            )
        scores = self.reranker.score(question, passages)
        order = sorted(range(len(head)), key=lambda i: -float(scores[i]))  # stable on ties
        return [(head[i][0], float(scores[i])) for i in order] + ranked[len(head) :]

    def _dense(self, question: str, snap: _Snapshot, category: str | None) -> dict[int, float]:
        if self.config.dense_weight <= 0:
            return {}
        if not len(snap.chunk_vectors):
            return {}
        vector = self.index.embedder.embed_question(question[:QUESTION_EMBED_CHARS])
        sims = snap.chunk_vectors @ vector  # cosine: every vector is L2-normalised
        if category:
            sims = np.where(snap.chunk_category == category, sims, -np.inf)
        n = min(self.config.dense_candidates, len(sims))
        best = np.argpartition(-sims, n - 1)[:n]
        return {int(i): float(sims[i]) for i in best if np.isfinite(sims[i])}

    @staticmethod
    def _docs_from_dense(dense: dict[int, float], snap: _Snapshot) -> list[str]:
        order: list[str] = []
        for i, _ in sorted(dense.items(), key=lambda kv: -kv[1]):
            doc_id = snap.chunks[i].doc_id
            if doc_id not in order:
                order.append(doc_id)
        return order

    def _best_chunks(
        self, doc_id: str, lex: np.ndarray, dense: dict[int, float], snap: _Snapshot
    ) -> list[int]:
        """Positions of the document's best chunks, best first."""
        idx = snap.chunks_by_doc.get(doc_id, [])
        if not idx:
            return []
        top = float(max(lex[i] for i in idx)) or 1.0
        ranked = sorted(idx, key=lambda i: -(lex[i] / top + dense.get(i, 0.0)))
        return ranked[: self.config.chunks_per_hit]

    @staticmethod
    def _coverage(query: set[str], doc: set[str], snap: _Snapshot) -> float:
        """IDF-weighted share of the question's bigrams that the document contains."""
        if not query:
            return 0.0
        weights = {t: snap.bigram_idf.get(t, snap.max_idf) for t in sorted(query)}
        total = sum(weights.values())
        return sum(w for t, w in weights.items() if t in doc) / total if total else 0.0


def _sentence_layout(text: str) -> tuple[str, list[int]]:
    """A document's normalised sentences, newline-joined, with each sentence's offset."""
    sentences = split_sentences(normalize(text), spaces=True)
    starts, offset = [], 0
    for sentence in sentences:
        starts.append(offset)
        offset += len(sentence) + 1
    return "\n".join(sentences), starts
