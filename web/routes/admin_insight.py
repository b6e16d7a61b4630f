"""What staff need to see: unanswered and disliked questions, top questions, the hit test."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool

from bot.assistant import BLOCKED, Assistant, reason_zh
from bot.insight import QuestionGroup, as_asked, daily_counts, group_questions
from web.deps import AssistantDep
from web.schemas import ErrorResponse, HitTestRequest
from web.security import Editor

router = APIRouter(prefix="/api/admin", tags=["admin"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (401, 403, 422)
}


def _mark_covered(assistant: Assistant, groups: list[QuestionGroup]) -> None:
    """Note the FAQ entry that now answers a group (after staff added one)."""
    for group in groups:
        match = assistant.match_faq(group.question)
        group.extra["faq"] = match.document.doc_id if match else None


def _insight(assistant: Assistant, days: int, limit: int) -> dict[str, Any]:
    # follow-ups count as the question they stand for (需要什么材料？ → 企业开办需要什么材料？)
    rows = as_asked(assistant.questions.since(days))
    # refused for their content (a sensitive word): not a gap in the knowledge base, listed
    # apart with the reason
    blocked_rows = [r for r in rows if r.get("mode") == BLOCKED]
    asked = [r for r in rows if r.get("mode") != BLOCKED]
    unanswered = group_questions(r for r in asked if not r["answered"])[:limit]
    threshold = assistant.answerer.policy.low_confidence
    doubtful_rows = [
        r
        for r in asked
        if r["answered"]
        and r.get("confidence") is not None
        and float(str(r["confidence"])) < threshold
    ]
    doubtful = group_questions(doubtful_rows)[:limit]
    for group in doubtful:
        same = [r for r in doubtful_rows if r["question"] == group.question] or doubtful_rows
        group.extra["confidence"] = round(min(float(str(r["confidence"])) for r in same), 3)
        group.extra["doc_id"] = str(same[0].get("top_doc", ""))
    disliked_rows = assistant.feedback.since(days, "down")
    disliked = group_questions(disliked_rows)[:limit]
    latest_answer: dict[str, str] = {}
    for row in disliked_rows:  # newest first
        latest_answer.setdefault(str(row["question"]).strip(), str(row["answer"]))
    for group in disliked:
        group.extra["answer"] = latest_answer.get(group.question, "")
    _mark_covered(assistant, unanswered + disliked + doubtful)
    blocked = group_questions(blocked_rows)[:limit]
    for group in blocked:
        same = [r for r in blocked_rows if r["question"] == group.question] or blocked_rows
        reason = str(same[0].get("reason", ""))
        group.extra.update(reason=reason, reason_zh=reason_zh(reason))
    return {
        "days": days,
        "asked": len(asked),
        "blocked_total": len(blocked_rows),
        "blocked": [g.public() for g in blocked],
        "unanswered_total": sum(1 for r in asked if not r["answered"]),
        "low_confidence_threshold": threshold,
        "unanswered": [g.public() for g in unanswered],
        "disliked": [g.public() for g in disliked],
        "low_confidence": [g.public() for g in doubtful],
        "top": [g.public() for g in group_questions(asked)[:limit]],
        "daily": daily_counts(asked, days),
    }


@router.get("/insight", responses=_ERRORS)
async def insight(
    assistant: AssistantDep,
    user: Editor,
    days: Annotated[int, Query(ge=1, le=365, description="Look back this many days.")] = 30,
    limit: Annotated[int, Query(ge=1, le=200, description="Groups per list.")] = 50,
) -> dict[str, Any]:
    """Unanswered, thumbs-down and low-confidence questions grouped by wording, top questions,
    questions refused for a sensitive word (with the reason), per day."""
    return await run_in_threadpool(_insight, assistant, days, limit)


@router.post("/hit-test", responses=_ERRORS)
async def hit_test(body: HitTestRequest, assistant: AssistantDep, user: Editor) -> dict[str, Any]:
    """The documents and chunks retrieved for a question, with their scores (nothing is logged)."""
    return await run_in_threadpool(assistant.hit_test, body.question, body.k)
