"""Staff: parsed service-guide fields, policy conditions (editable), validity to confirm, expiring."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool

from bot.errors import InvalidInputError, NotFoundError
from bot.policies import eligibility
from bot.services import FIELD_LABELS, FIELDS, other_headings
from web.deps import AssistantDep
from web.schemas import EligibilityUpdate, ErrorResponse, ValidityReview
from web.security import Editor

router = APIRouter(prefix="/api/admin", tags=["admin"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (401, 403, 404, 422)
}
DocId = Annotated[str, Path(max_length=300)]
EXPIRING_DAYS = 30


@router.get("/services", responses=_ERRORS)
async def services(user: Editor, assistant: AssistantDep) -> dict[str, Any]:
    """Each guide's fields as parsed from its headings, and the fields it lacks (a typo shows)."""
    guides = await run_in_threadpool(assistant.catalog.services)
    texts = {d.doc_id: d.text for d in assistant.retriever.documents.values()}
    return {
        "labels": FIELD_LABELS,
        "services": [
            {
                **g.public(),
                "missing": [f for f in FIELDS if f not in g.fields],
                "other_headings": other_headings(texts[g.doc_id]) if g.doc_id in texts else [],
            }
            for g in guides
        ],
    }


@router.get("/policies", responses=_ERRORS)
async def policies(user: Editor, assistant: AssistantDep) -> dict[str, Any]:
    """Policies with their conditions (and where they come from), validity and status; the
    documents whose term was read off their text (to confirm) and those expiring soon."""

    def build() -> dict[str, Any]:
        cat = assistant.catalog
        docs = assistant.retriever.documents
        today = dt.date.today()
        terms = cat.terms()
        return {
            "policies": [p.public(today) for p in cat.policies()],
            "without_conditions": [p.document.doc_id for p in cat.policies() if not p.conditions],
            "to_confirm": [
                {
                    "doc_id": doc_id,
                    "title": docs[doc_id].title if doc_id in docs else doc_id,
                    "phrase": t.phrase,
                    "valid_from": t.valid_from or None,
                    "valid_until": t.valid_until or None,
                    "source": t.source,
                    "status": t.status(today),
                }
                for doc_id, t in sorted(terms.items())
                if t.phrase
            ],
            "expiring": [
                {
                    **row,
                    "title": docs[row["doc_id"]].title if row["doc_id"] in docs else row["doc_id"],
                }
                for row in cat.expiring(EXPIRING_DAYS, today)
            ],
            "expiring_days": EXPIRING_DAYS,
        }

    return await run_in_threadpool(build)


def _policy_doc(assistant: Any, doc_id: str) -> None:
    if assistant.catalog.policy(doc_id) is None:
        raise NotFoundError(
            f"no policy {doc_id!r} (kind: policy)",
            message_zh=f"没有政策文件 {doc_id}（kind: policy）",
        )


@router.put("/policies/{doc_id:path}/eligibility", responses=_ERRORS)
async def set_conditions(
    doc_id: DocId, body: EligibilityUpdate, request: Request, user: Editor, assistant: AssistantDep
) -> dict[str, Any]:
    """Replace a policy's conditions (checked against the grammar; 422 says what is wrong)."""
    _policy_doc(assistant, doc_id)
    raw: object = body.eligibility
    if isinstance(raw, str):
        try:
            raw = yaml.safe_load(raw) if raw.strip() else []
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else 0
            raise InvalidInputError(
                "eligibility: not valid YAML" + (f" (line {line})" if line else ""),
                message_zh="申请条件不是有效的 YAML" + (f"（第 {line} 行）" if line else ""),
            ) from None
        raw = [] if raw is None else raw
    try:
        conditions = eligibility.parse(raw)
    except eligibility.EligibilityError as exc:
        raise InvalidInputError(exc.message, message_zh=exc.message_zh) from None
    stored = eligibility.dumps(conditions)
    await run_in_threadpool(assistant.policy_edits.set_conditions, doc_id, stored, user.username)
    request.app.state.audit.record(user.username, "policy_conditions_edit", doc_id, detail=stored)
    policy = assistant.catalog.policy(doc_id)
    assert policy is not None
    return policy.public()


@router.delete("/policies/{doc_id:path}/eligibility", responses=_ERRORS)
async def reset_conditions(
    doc_id: DocId, request: Request, user: Editor, assistant: AssistantDep
) -> dict[str, Any]:
    """Back to the conditions the document itself gives."""
    _policy_doc(assistant, doc_id)
    await run_in_threadpool(assistant.policy_edits.reset_conditions, doc_id)
    request.app.state.audit.record(user.username, "policy_conditions_reset", doc_id)
    policy = assistant.catalog.policy(doc_id)
    assert policy is not None
    return policy.public()


@router.post("/validity/{doc_id:path}", responses=_ERRORS)
async def review_validity(
    doc_id: DocId, body: ValidityReview, request: Request, user: Editor, assistant: AssistantDep
) -> dict[str, Any]:
    """Confirm or reject a term read off a document's text."""
    docs = assistant.retriever.documents
    doc = docs.get(doc_id)
    if doc is None or not doc.validity_phrase:
        raise NotFoundError(
            f"{doc_id!r} has no term read from its text",
            message_zh=f"{doc_id} 没有从正文识别的有效期",
        )
    if body.phrase != doc.validity_phrase:
        raise InvalidInputError(
            "the document's text changed since this was listed; reload",
            message_zh="文件内容已更新，请刷新后再确认",
        )
    await run_in_threadpool(
        assistant.policy_edits.review, doc_id, body.phrase, body.verdict, user.username
    )
    request.app.state.audit.record(
        user.username, f"validity_{body.verdict}", doc_id, detail=body.phrase
    )
    t = assistant.catalog.term(doc_id)
    return {
        "doc_id": doc_id,
        "verdict": body.verdict,
        "valid_from": t.valid_from or None,
        "valid_until": t.valid_until or None,
    }
