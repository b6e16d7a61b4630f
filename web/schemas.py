"""Request and response bodies of the HTTP API (they are the OpenAPI schema)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_QUESTION_CHARS = 1000


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
        value = value.strip()
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
    updated: str = Field("", description="When the document was last updated (YYYY-MM-DD), if known.")
    sample: bool = Field(False, description="Illustrative content, not an official document (示例).")


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
        description="`faq` when a staff-written FAQ answer matched the question, `llm` when a language model worded the answer, else `extractive`.",
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
    status: str
    documents: int
    chunks: int


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
