"""Prometheus metrics, served at `GET /metrics` in the text format.

Several worker processes: point `PROMETHEUS_MULTIPROC_DIR` at an empty directory (emptied
before every start) and prometheus-client keeps each worker's values in files there, which
`/metrics` adds up whichever worker answers the scrape (the library reads that variable when
it is imported, so it is read here too rather than in `Settings`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import weakref
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from bot import timing
from bot.errors import AuthError
from web.admission import Admission
from web.logs import current_request

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
UNMATCHED = "unmatched"  # every path no route serves: hostile URLs make no new series
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
MODES = frozenset({"extractive", "faq", "llm", "fallback", "service", "match", "blocked"})
_FAST = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

REQUESTS = Counter(
    "bot_http_requests_total",
    "HTTP requests by method, route template and status.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "bot_http_request_duration_seconds",
    "Time from the request's arrival to its last byte (a stream: until it ends).",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)
ANSWERS = Counter(
    "bot_answers_total",
    "Answers (chat and stream) by outcome (answered, refused) and mode (extractive, faq, "
    "llm, service, match; fallback: extractive because an LLM call failed; blocked: refused "
    "for its content, a sensitive word).",
    ["outcome", "mode"],
)
STEPS = {
    "retrieval": Histogram(
        "bot_retrieval_seconds",
        "Retrieval of one search (question embedding included).",
        buckets=_FAST,
    ),
    "embedding": Histogram("bot_embedding_seconds", "Embedding one question.", buckets=_FAST),
    "llm": Histogram(
        "bot_llm_seconds",
        "One LLM call, to its last token (follow-up rewrites, answers, streams).",
        buckets=(0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0),
    ),
}
LLM_FAILURES = Counter("bot_llm_failures_total", "LLM calls that failed (answered extractively).")
INFLIGHT = Gauge(
    "bot_answers_inflight",
    "Answers being computed (chat and streams).",
    multiprocess_mode="livesum",
)
WAITING = Gauge(
    "bot_answers_waiting",
    "Requests waiting for a place to be answered.",
    multiprocess_mode="livesum",
)
REJECTED = Counter(
    "bot_answers_rejected_total", "Requests refused with 503: every place and the queue were full."
)
DOCUMENTS = Gauge(
    "bot_knowledge_documents", "Documents in the live index.", multiprocess_mode="mostrecent"
)
CHUNKS = Gauge("bot_knowledge_chunks", "Chunks in the live index.", multiprocess_mode="mostrecent")
VERSION = Gauge(
    "bot_knowledge_version_info",
    "1 for the indexed content's version: a hash of the indexed files' content fingerprints.",
    ["version"],
    multiprocess_mode="mostrecent",
)
KB_VERSION = Gauge(
    "bot_kb_version",
    "The knowledge-base version this process serves (kb_state.version; replicas that agree"
    " show the same number).",
    multiprocess_mode="mostrecent",
)
KB_RELOADS = Gauge(
    "bot_kb_reloads",
    "Reloads of the knowledge base caused by another process's change since start-up.",
    multiprocess_mode="livesum",
)
INGEST_FILES = Gauge(
    "bot_ingest_files", "Files in the staff uploads being indexed now.", multiprocess_mode="livesum"
)
INGEST_DONE = Gauge(
    "bot_ingest_files_done",
    "Files of those uploads already indexed (or rejected).",
    multiprocess_mode="livesum",
)

_rejected_counted: weakref.WeakKeyDictionary[Admission, int] = weakref.WeakKeyDictionary()
_version_shown: list[str] = []


def _step(name: str, seconds: float, failed: bool) -> None:
    """bot.timing's listener: step durations into histograms; an LLM failure marks the
    request, so that its extractive answer counts as a fallback."""
    if name in STEPS:
        STEPS[name].observe(seconds)
    if name == "llm" and failed:
        LLM_FAILURES.inc()
        record = current_request.get()
        if record is not None:
            record.llm_failed = True


timing.listen(_step)


def count_request(method: str, route: str, status: int, seconds: float) -> None:
    method = method if method in METHODS else "OTHER"
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(seconds)


def count_answer(answered: bool, mode: str) -> None:
    ANSWERS.labels("answered" if answered else "refused", mode if mode in MODES else "other").inc()


def sample_admission(admission: Admission | None) -> None:
    """Copy the admission's live figures (called as requests start answering and end, and at
    every scrape, so each worker's values are current in its own files)."""
    if admission is None:
        return
    INFLIGHT.set(admission.inflight)
    WAITING.set(admission.waiting)
    counted = _rejected_counted.get(admission, 0)
    if admission.rejected > counted:
        REJECTED.inc(admission.rejected - counted)
        _rejected_counted[admission] = admission.rejected


def knowledge_version(fingerprints: dict[str, str]) -> str:
    """12 hex digits that change whenever an indexed file (or the FAQ) is added, changed or
    removed; the same in every process over the same index."""
    data = json.dumps(sorted(fingerprints.items()), ensure_ascii=False).encode()
    return hashlib.sha256(data).hexdigest()[:12]


def _refresh(state: Any) -> None:
    """Figures read at scrape time from this process's app."""
    sample_admission(getattr(state, "admission", None))
    assistant = getattr(state, "assistant", None)
    if assistant is not None:
        documents, chunks = assistant.stats
        DOCUMENTS.set(documents)
        CHUNKS.set(chunks)
        KB_VERSION.set(assistant.retriever.kb_version)
        watcher = getattr(state, "watcher", None)
        if watcher is not None:
            KB_RELOADS.set(watcher.reloads)
        version = knowledge_version(assistant.index.records.file_fingerprints())
        if _version_shown and _version_shown[0] != version:
            old = _version_shown.pop()
            if MULTIPROCESS:  # the files keep the old series: say it is not the version
                VERSION.labels(old).set(0)
            else:
                VERSION.remove(old)
        VERSION.labels(version).set(1)
        _version_shown[:] = [version]
    library = getattr(state, "library", None)
    if library is not None:
        INGEST_FILES.set(library.progress.total)
        INGEST_DONE.set(library.progress.done)


router = APIRouter(tags=["operations"])


@router.get("/metrics", response_class=Response, responses={401: {}})
def metrics(request: Request) -> Response:
    """Prometheus metrics in the text format (with `BOT_METRICS_TOKEN` set: only for
    `Authorization: Bearer <token>`)."""
    token = request.app.state.settings.metrics_token
    if token:
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            raise AuthError(
                "metrics need Authorization: Bearer <BOT_METRICS_TOKEN>",
                message_zh="查看监控指标需要提供正确的令牌",
            )
    _refresh(request.app.state)
    registry = REGISTRY
    if MULTIPROCESS:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
