"""Request and response bodies of the HTTP API (they are the OpenAPI schema)."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_QUESTION_CHARS = 1000


def visible(text: str) -> str:
    """The text without invisible characters — zero-width spaces and joiners, BOMs, bidi
    overrides, control characters (line breaks and tabs kept) — which carry no meaning,
    can disguise a question and make one of only them look non-empty."""
    return "".join(
        ch
        for ch in text
        if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf", "Co", "Cs")
    )


class ChatRequest(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={"examples": [{"question": "企业开办需要几天？", "session_id": None}]},
    )

    question: str = Field(
        ..., description="The question, 1–1000 characters.", max_length=4 * MAX_QUESTION_CHARS
    )
    session_id: str | None = Field(
        None,
        max_length=128,
        description="Returned by a previous answer; null starts a new conversation.",
    )
    category: str | None = Field(
        None, max_length=50, description="Only search documents of this category (e.g. 人才政策)."
    )

    @field_validator("question")
    @classmethod
    def _question_length(cls, value: str) -> str:
        value = visible(value).strip()
        if not value:
            raise ValueError("question must not be empty / 问题不能为空")
        if len(value) > MAX_QUESTION_CHARS:
            raise ValueError(
                f"question is longer than {MAX_QUESTION_CHARS} characters / 问题不能超过{MAX_QUESTION_CHARS}字"
            )
        return value


class SourcePublic(BaseModel):
    doc_id: str
    title: str
    section: str
    snippet: str
    url: str
    score: float
    department: str = ""
    contact: str = Field("", description="The document's contact (phone) for follow-up questions.")
    updated: str = Field(
        "", description="When the document was last updated (YYYY-MM-DD), if known."
    )
    sample: bool = Field(
        False, description="Illustrative content, not an official document (示例)."
    )
    valid_until: str | None = Field(
        None, description="The last day the document is in force, if stated."
    )
    expired: bool = Field(False, description="The document's term has ended (已失效).")
    page: int | None = Field(
        None, description="The page of a paged document (a PDF, a scan) the passage starts on."
    )
    doc_number: str | None = Field(
        None, description="A government document's issuing number (文号), e.g. 岸政发〔2026〕3号."
    )
    issuer: str | None = Field(None, description="The body that issued the document (发文机关).")
    issued: str | None = Field(None, description="The date of issue (YYYY-MM-DD), if stated.")


class ChatResponse(BaseModel):
    answer: str = Field(description="Answer text; [n] markers point at sources[n-1].")
    answered: bool = Field(description="False when the knowledge base does not cover the question.")
    sources: list[SourcePublic]
    session_id: str = Field(
        description="Send it back with the next question to keep the conversation."
    )
    contact: str = Field(
        "", description="When not answered: the department (and phone) or hotline to ask instead."
    )
    mode: str = Field(
        "extractive",
        description="`faq` when a staff-written FAQ answer matched the question, `llm` when a language model worded the answer, "
        "`service` when a service guide's field answered it (see `service`), `match` when the question described the "
        "enterprise and policies were matched to it (see `matches`), `blocked` when the question (or its answer) was "
        "refused for its content (a sensitive word), else `extractive`.",
    )
    service: dict[str, Any] | None = Field(
        None,
        description="mode `service`: the guide (as GET /api/services/{id}) and `asked`, the fields quoted.",
    )
    matches: dict[str, Any] | None = Field(
        None,
        description="mode `match`: `profile` read off the question and `matches` as POST /api/policies/match.",
    )


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    session_id: str | None = Field(None, max_length=128)
    question: str = Field(..., min_length=1, max_length=MAX_QUESTION_CHARS)
    answer: str = Field(..., max_length=8000)
    rating: Literal["up", "down"] = Field(description="Thumbs up or down.")
    comment: str = Field("", max_length=500)


class FeedbackResponse(BaseModel):
    status: str = "ok"
    id: int


class LoginRequest(BaseModel):
    username: str = Field(..., min_length=1, max_length=64)
    password: str = Field(..., min_length=1, max_length=256)


class LoginResponse(BaseModel):
    token: str = Field(description="Send as `Authorization: Bearer <token>`.")
    username: str
    role: str


class StaffPublic(BaseModel):
    username: str
    role: str


class StaffCreate(BaseModel):
    username: str = Field(..., max_length=64)
    password: str = Field(..., max_length=256)
    role: Literal["editor", "admin"] = "editor"


class RollbackRequest(BaseModel):
    version: int = Field(..., ge=1, le=2**63 - 1, description="The version to make live again.")


class HealthResponse(BaseModel):
    status: str = Field(
        description="`ok`; `degraded` (see `failing`): 503 when the records database fails"
        " (this replica cannot answer), 200 when only the vector store does (answers come"
        " from the loaded snapshot; uploads and ingest wait); 503 `draining` before a stop"
    )
    documents: int
    chunks: int
    database: str = Field("ok", description="The records database: `ok` or `failing`")
    vectors: str = Field("ok", description="The vector store: `ok` or `failing`")
    kb_version: int = Field(
        0, description="The knowledge-base version this replica serves (replicas agree on it)"
    )
    failing: list[str] | None = Field(
        None, description="Parts that do not work, e.g. `records` (only when there are some)"
    )


class ErrorBody(BaseModel):
    code: str
    message: str
    message_zh: str


class ErrorResponse(BaseModel):
    error: ErrorBody
    detail: list[dict[str, object]] | None = None


class FaqIn(BaseModel):
    """An FAQ entry as an editor writes it."""

    question: str = Field(..., min_length=1, max_length=200)
    alternatives: list[Annotated[str, Field(max_length=200)]] = Field(
        default_factory=list, max_length=30, description="Other ways of asking the question."
    )
    answer: str = Field(..., min_length=1, max_length=4000)
    category: str = Field("", max_length=50)
    department: str = Field("", max_length=100)
    contact: str = Field("", max_length=200)
    url: str = Field("", max_length=500, pattern=r"^(https?://\S*)?$")


class FaqUpdate(FaqIn):
    base_version: int = Field(
        ..., ge=1, le=2**63 - 1, description="The version the editor started from."
    )


class FaqEntry(FaqIn):
    id: int
    doc_id: str
    version: int
    updated_by: str
    updated_at: float


class HitTestRequest(BaseModel):
    question: str = Field(..., min_length=1, max_length=MAX_QUESTION_CHARS)
    k: int = Field(5, ge=1, le=20, description="How many documents to show.")


# --- service guides and policies (DESIGN.md "Service guides", "Policies") ----------------
MAX_QUALIFICATIONS = 20


class Profile(BaseModel):
    """An enterprise as it describes itself; every field optional, unknown keys refused."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [
                {
                    "registered_in": "江岸区",
                    "industry": "软件和信息技术服务业",
                    "established": "2023-04-01",
                    "employees": 30,
                    "revenue_wan": 800,
                    "rd_ratio": 0.05,
                    "qualifications": ["科技型中小企业"],
                }
            ]
        },
    )

    registered_in: str | None = Field(
        None, min_length=1, max_length=50, description="The district (江岸区)."
    )
    industry: str | None = Field(None, min_length=1, max_length=50)
    established: str | None = Field(None, description="Founding date, YYYY-MM-DD.")
    employees: int | None = Field(None, ge=0, le=10_000_000)
    revenue_wan: float | None = Field(None, ge=0, le=1e9, description="Annual revenue in 万元.")
    rd_ratio: float | None = Field(
        None, ge=0, le=1, description="R&D spending / revenue (0.05 = 5%)."
    )
    qualifications: list[Annotated[str, Field(min_length=1, max_length=30)]] | None = Field(
        None,
        max_length=MAX_QUALIFICATIONS,
        description="高新技术企业, 专精特新, 科技型中小企业, 规上企业 …",
    )

    @field_validator("established")
    @classmethod
    def _date(cls, value: str | None) -> str | None:
        import datetime as dt
        import re

        if value is None:
            return None
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError("established must be a date YYYY-MM-DD / 成立日期格式应为 YYYY-MM-DD")
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"established is not a real date: {value} / 成立日期不存在") from None
        if day > dt.date.today():
            raise ValueError("established is in the future / 成立日期晚于今天")
        if day.year < 1900:
            raise ValueError("established is before 1900 / 成立日期早于1900年")
        return value


class MatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    profile: Profile


class PolicyMatch(BaseModel):
    doc_id: str
    title: str
    benefit: str
    valid_until: str | None
    status: Literal["eligible", "possible", "ineligible"]
    met: list[str]
    unmet: list[str]
    unknown: list[str]


class MatchResponse(BaseModel):
    matches: list[PolicyMatch]


class ServicePublic(BaseModel):
    id: str
    title: str
    department: str
    fields: dict[str, str] = Field(
        description="materials, steps, time_limit, fee, location, hours, phone, online, conditions, audience, basis"
    )
    headings: dict[str, str] = Field(
        default_factory=dict, description="Each field's heading as the guide writes it."
    )
    online_url: str = ""
    url: str = ""
    contact: str = ""
    updated: str = ""
    sample: bool = False


class ServiceList(BaseModel):
    services: list[ServicePublic]


class EligibilityUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    eligibility: list[dict[str, object]] | Annotated[str, Field(max_length=5000)] = Field(
        ...,
        description="Conditions in the grammar of DESIGN.md, as a list or as the YAML text a "
        "document's front matter holds under `eligibility:`; [] removes them all.",
    )


class ValidityReview(BaseModel):
    model_config = ConfigDict(extra="forbid")

    verdict: Literal["confirmed", "rejected"]
    phrase: str = Field(
        ..., min_length=1, max_length=500, description="The phrase reviewed (as listed)."
    )


class SensitiveWordsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    words: list[str] = Field(
        ...,
        max_length=20_000,  # a bound on the body; the list itself may hold 10,000 words
        description="The whole list, one word (1–50 characters) per item; blank items and "
        "duplicates are dropped; an item starting with `!` is an allowed phrase.",
    )
    base_version: int | None = Field(
        None,
        ge=0,
        le=2**63 - 1,
        description="The version the editor started from (0: the shipped defaults); 409 if "
        "someone saved since. Omit to overwrite.",
    )


class SensitiveWordsOut(BaseModel):
    words: list[str] = Field(description="The list in force, one word per item.")
    count: int
    version: int = Field(description="Counts saves; 0 while the shipped defaults are in force.")
    updated_by: str
    updated_at: float | None
    default: bool = Field(description="Whether the shipped defaults are in force.")
