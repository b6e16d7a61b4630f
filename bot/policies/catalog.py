"""The live service guides and policies, as the API, the answers and `/admin` read them."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.models import Document
from bot.policies import eligibility
from bot.policies.edits import PolicyEdits
from bot.policies.validity import status as validity_status
from bot.services import ServiceGuide, guide

_ORDER = {"eligible": 0, "possible": 1, "ineligible": 2}


@dataclass(frozen=True)
class Term:
    """When a document is in force, after staff review."""

    valid_from: str = ""
    valid_until: str = ""
    source: str = ""  # front_matter · text (not reviewed yet) · text_confirmed
    phrase: str = ""

    def status(self, today: dt.date | None = None) -> str:
        return validity_status(self.valid_from, self.valid_until, today)


@dataclass(frozen=True)
class Policy:
    document: Document
    conditions: tuple[eligibility.Condition, ...]
    conditions_source: str  # document · staff · '' (none)
    term: Term

    def public(self, today: dt.date | None = None) -> dict[str, Any]:
        d = self.document
        return {
            "doc_id": d.doc_id,
            "title": d.title,
            "benefit": d.benefit,
            "department": d.department,
            "valid_from": self.term.valid_from or None,
            "valid_until": self.term.valid_until or None,
            "validity_source": self.term.source,
            "status": self.term.status(today),
            "eligibility": [c.plain() for c in self.conditions],
            "conditions": [c.sentence() for c in self.conditions],
            "conditions_source": self.conditions_source,
        }


class Catalog:
    """Service guides and policies of the live documents; rebuilt when documents or edits change."""

    def __init__(self, documents: Callable[[], Mapping[str, Document]], edits: PolicyEdits) -> None:
        self._documents = documents
        self.edits = edits
        self._lock = threading.Lock()
        self._key: tuple[int, int] | None = None
        self._services: dict[str, ServiceGuide] = {}
        self._policies: dict[str, Policy] = {}
        self._terms: dict[str, Term] = {}

    def _fresh(self) -> None:
        docs = self._documents()
        key = (id(docs), self.edits.version)
        if key == self._key:
            return
        with self._lock:
            if key == self._key:
                return
            reviews = self.edits.reviews()
            edited = self.edits.conditions()
            terms: dict[str, Term] = {}
            services: dict[str, ServiceGuide] = {}
            policies: dict[str, Policy] = {}
            for d in docs.values():
                term = _term(d, reviews)
                if term.valid_from or term.valid_until or term.phrase:
                    terms[d.doc_id] = term
                if d.kind == "service":
                    services[d.doc_id] = guide(d)
                elif d.kind == "policy":
                    if d.doc_id in edited:
                        conds, source = eligibility.loads(edited[d.doc_id]), "staff"
                    else:
                        conds = eligibility.loads(d.eligibility)
                        source = "document" if conds else ""
                    policies[d.doc_id] = Policy(d, conds, source, term)
            self._services, self._policies, self._terms = services, policies, terms
            self._key = key

    # --- reading -----------------------------------------------------------------------
    def services(self) -> list[ServiceGuide]:
        self._fresh()
        return sorted(self._services.values(), key=lambda s: s.doc_id)

    def service(self, doc_id: str) -> ServiceGuide | None:
        self._fresh()
        return self._services.get(doc_id)

    def policies(self) -> list[Policy]:
        self._fresh()
        return sorted(self._policies.values(), key=lambda p: p.document.doc_id)

    def policy(self, doc_id: str) -> Policy | None:
        self._fresh()
        return self._policies.get(doc_id)

    def term(self, doc_id: str) -> Term:
        """When the document is in force (empty: no term stated, or staff rejected the one read)."""
        self._fresh()
        t = self._terms.get(doc_id)
        return t if t is not None and (t.valid_from or t.valid_until) else Term()

    def terms(self) -> dict[str, Term]:
        self._fresh()
        return dict(self._terms)

    def expired(self, doc_id: str, today: dt.date | None = None) -> bool:
        return self.term(doc_id).status(today) == "expired"

    def expiring(self, days: int = 30, today: dt.date | None = None) -> list[dict[str, Any]]:
        """Documents whose term ends within `days` days (today included), soonest first."""
        today = today or dt.date.today()
        out = []
        for doc_id, t in self.terms().items():
            if not t.valid_until:
                continue
            left = (dt.date.fromisoformat(t.valid_until) - today).days
            if 0 <= left <= days:
                out.append(
                    {
                        "doc_id": doc_id,
                        "valid_until": t.valid_until,
                        "days_left": left,
                        "source": t.source,
                    }
                )
        return sorted(out, key=lambda r: (r["days_left"], r["doc_id"]))

    def match(self, profile: dict[str, Any], today: dt.date | None = None) -> list[dict[str, Any]]:
        """Every policy in force with its status for the profile: eligible, possible, ineligible."""
        today = today or dt.date.today()
        rows: list[dict[str, Any]] = []
        for p in self.policies():
            if p.term.status(today) == "expired":
                continue
            outcome = eligibility.evaluate(p.conditions, profile, today)
            rows.append(
                {
                    "doc_id": p.document.doc_id,
                    "title": p.document.title,
                    "benefit": p.document.benefit,
                    "valid_until": p.term.valid_until or None,
                    "status": outcome.status,
                    "met": outcome.met,
                    "unmet": outcome.unmet,
                    "unknown": outcome.unknown,
                }
            )
        rows.sort(
            key=lambda r: (_ORDER[r["status"]], -len(r["met"]), len(r["unknown"]), r["doc_id"])
        )
        return rows


def _term(d: Document, reviews: dict[tuple[str, str], str]) -> Term:
    if not d.validity_phrase:
        return Term(
            d.valid_from, d.valid_until, "front_matter" if d.valid_from or d.valid_until else ""
        )
    verdict = reviews.get((d.doc_id, d.validity_phrase))
    if verdict == "rejected":
        return Term(source="text_rejected", phrase=d.validity_phrase)
    return Term(
        d.valid_from,
        d.valid_until,
        "text_confirmed" if verdict == "confirmed" else "text",
        d.validity_phrase,
    )
