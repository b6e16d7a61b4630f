"""Every table of the records database, defined once (SQLAlchemy 2 declarative models).

Names, columns and constraints are those the hand-written SQLite schemas used, so a records
file written by an earlier release is the same database (see migrations/, the baseline).
Times are seconds since the epoch (`Real`), flags are 0/1 integers, as they always were.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import (
    CheckConstraint,
    Double,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeEngine

# REAL in SQLite (as the old schema said), double precision on PostgreSQL: an epoch time
# needs more than PostgreSQL's 4-byte REAL.
Real: TypeEngine[float] = Double().with_variant(sqlite.REAL(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData()


# --- the knowledge index: files → documents → chunks, and index metadata ---------------
class Meta(Base):
    """Index metadata (`embedder`, the FAQ entries key …): one value per key."""

    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class File(Base):
    __tablename__ = "files"
    path: Mapped[str] = mapped_column(Text, primary_key=True)
    # the file's SHA-256 and the pipeline signature that turned it into chunks
    fingerprint: Mapped[str] = mapped_column(Text)
    indexed_at: Mapped[str] = mapped_column(Text, server_default=text("CURRENT_TIMESTAMP"))


class DocumentRow(Base):
    __tablename__ = "documents"
    __table_args__ = (Index("documents_path", "path"),)
    doc_id: Mapped[str] = mapped_column(Text, primary_key=True)
    path: Mapped[str] = mapped_column(Text, ForeignKey("files.path", ondelete="CASCADE"))
    title: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(Text)
    department: Mapped[str | None] = mapped_column(Text)
    contact: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    updated: Mapped[str | None] = mapped_column(Text)
    sample: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(Text)
    alternatives: Mapped[str] = mapped_column(Text, server_default="")  # one per line
    meta: Mapped[str] = mapped_column(Text, server_default="")  # JSON of Document.extras


class ChunkRow(Base):
    __tablename__ = "chunks"
    __table_args__ = (Index("chunks_doc", "doc_id"),)
    chunk_id: Mapped[str] = mapped_column(Text, primary_key=True)
    doc_id: Mapped[str] = mapped_column(Text, ForeignKey("documents.doc_id", ondelete="CASCADE"))
    ordinal: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str | None] = mapped_column(Text)
    section: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(Text)
    page: Mapped[int] = mapped_column(Integer, server_default="0")  # 1-based; 0: not paged


class KbState(Base):
    """The knowledge-base version: bumped in the transaction of every change to what is
    live, watched by every replica (issue #14, point 4). One row."""

    __tablename__ = "kb_state"
    __table_args__ = (CheckConstraint("id = 1"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(Integer, server_default="0")
    changed_at: Mapped[float] = mapped_column(Real, server_default="0")


# --- conversations, questions, feedback -------------------------------------------------
class SessionTurn(Base):
    __tablename__ = "session_turns"
    __table_args__ = (Index("session_turns_at", "at"),)
    session_id: Mapped[str] = mapped_column(Text, primary_key=True)
    turn: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    question: Mapped[str] = mapped_column(Text)
    standalone: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    answered: Mapped[int] = mapped_column(Integer)
    doc_ids: Mapped[str] = mapped_column(Text, server_default="")
    at: Mapped[float] = mapped_column(Real)


class SessionKey(Base):
    """The secret that signs session ids: one per records database, shared by replicas."""

    __tablename__ = "session_key"
    __table_args__ = (CheckConstraint("id = 1"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    secret: Mapped[bytes] = mapped_column(LargeBinary)


class QuestionLogEntry(Base):
    __tablename__ = "question_log"
    __table_args__ = (Index("question_log_at", "at"), {"sqlite_autoincrement": True})
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[float] = mapped_column(Real)
    session_id: Mapped[str] = mapped_column(Text)
    question: Mapped[str] = mapped_column(Text)
    standalone: Mapped[str] = mapped_column(Text)
    answered: Mapped[int] = mapped_column(Integer)
    mode: Mapped[str] = mapped_column(Text)
    top_doc: Mapped[str] = mapped_column(Text, server_default="")
    confidence: Mapped[float | None] = mapped_column(Real)  # NULL: not measured
    reason: Mapped[str] = mapped_column(Text, server_default="")  # why it was refused


class Feedback(Base):
    __tablename__ = "feedback"
    __table_args__ = (CheckConstraint("rating IN ('up', 'down')"), {"sqlite_autoincrement": True})
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[str] = mapped_column(Text, server_default="")
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    rating: Mapped[str] = mapped_column(Text)
    comment: Mapped[str] = mapped_column(Text, server_default="")
    at: Mapped[float] = mapped_column(Real)


# --- staff, their tokens, and what they changed -----------------------------------------
class StaffUser(Base):
    __tablename__ = "staff_users"
    __table_args__ = (CheckConstraint("role IN ('editor', 'admin')"),)
    username: Mapped[str] = mapped_column(Text, primary_key=True)
    password_hash: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(Text)
    created_at: Mapped[float] = mapped_column(Real)


class StaffToken(Base):
    __tablename__ = "staff_tokens"
    token_sha256: Mapped[str] = mapped_column(Text, primary_key=True)
    username: Mapped[str] = mapped_column(
        Text, ForeignKey("staff_users.username", ondelete="CASCADE")
    )
    expires_at: Mapped[float] = mapped_column(Real)


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = ({"sqlite_autoincrement": True},)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[float] = mapped_column(Real)
    user: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    target: Mapped[str] = mapped_column(Text)
    old_version: Mapped[int | None] = mapped_column(Integer)
    new_version: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[str] = mapped_column(Text, server_default="")


# --- policies as staff edited them -------------------------------------------------------
class PolicyCondition(Base):
    __tablename__ = "policy_conditions"
    doc_id: Mapped[str] = mapped_column(Text, primary_key=True)
    eligibility: Mapped[str] = mapped_column(Text)  # JSON, validated against the grammar
    edited_by: Mapped[str] = mapped_column(Text)
    at: Mapped[float] = mapped_column(Real)


class ValidityReview(Base):
    __tablename__ = "validity_reviews"
    __table_args__ = (CheckConstraint("verdict IN ('confirmed', 'rejected')"),)
    doc_id: Mapped[str] = mapped_column(Text, primary_key=True)
    phrase: Mapped[str] = mapped_column(Text, primary_key=True)  # a changed text asks again
    verdict: Mapped[str] = mapped_column(Text)
    reviewed_by: Mapped[str] = mapped_column(Text)
    at: Mapped[float] = mapped_column(Real)


# --- the document library (staff uploads) and the FAQ book ------------------------------
class LibraryVersion(Base):
    __tablename__ = "library_versions"
    name: Mapped[str] = mapped_column(Text, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    sha256: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by: Mapped[str] = mapped_column(Text)
    at: Mapped[float] = mapped_column(Real)
    status: Mapped[str] = mapped_column(Text)  # pending, live, superseded, rejected, deleted
    reason: Mapped[str] = mapped_column(Text, server_default="")


class LibraryOriginal(Base):
    """The uploaded bytes of one version, so any replica can serve, roll back or re-index
    it (issue #14, point 3)."""

    __tablename__ = "library_originals"
    __table_args__ = (
        ForeignKeyConstraint(
            ["name", "version"],
            ["library_versions.name", "library_versions.version"],
            ondelete="CASCADE",
        ),
    )
    name: Mapped[str] = mapped_column(Text, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class LibraryFile(Base):
    """What staff said about a file when uploading it (fills fields the file leaves empty)."""

    __tablename__ = "library_files"
    name: Mapped[str] = mapped_column(Text, primary_key=True)
    category: Mapped[str] = mapped_column(Text, server_default="")
    department: Mapped[str] = mapped_column(Text, server_default="")
    contact: Mapped[str] = mapped_column(Text, server_default="")


class FaqEntry(Base):
    __tablename__ = "faq_entries"
    __table_args__ = ({"sqlite_autoincrement": True},)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question: Mapped[str] = mapped_column(Text)
    alternatives: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(Text)
    department: Mapped[str] = mapped_column(Text)
    contact: Mapped[str] = mapped_column(Text)
    url: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    updated_by: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[float] = mapped_column(Real)


# --- WeChat and WeCom (web/wechat/) and content safety (migration 0002) ----------------------
class WechatMessage(Base):
    """One message from the official account or WeCom and its answer. Every try of one
    message (WeChat retries after 5 s, up to 3 tries, to any replica) finds this row, so
    the answer is computed once; the parts not yet sent wait here for 「继续」."""

    __tablename__ = "wechat_messages"
    __table_args__ = (Index("wechat_messages_user", "openid", "at"),)
    key: Mapped[str] = mapped_column(Text, primary_key=True)  # channel:account:MsgId
    openid: Mapped[str] = mapped_column(Text)  # the user (WeCom: the member's UserID)
    # working → ready (answer stored) → delivered / pushed / handover (all tries ran out)
    state: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer)
    owner: Mapped[str] = mapped_column(Text)  # the process computing it
    claimed_at: Mapped[float] = mapped_column(Real)
    parts: Mapped[str] = mapped_column(Text, server_default="")  # JSON list of reply parts
    sent: Mapped[int] = mapped_column(Integer, server_default="0")  # parts delivered so far
    at: Mapped[float] = mapped_column(Real)


class WechatToken(Base):
    """An access token shared by every replica (one fetch, never invalidating another's)."""

    __tablename__ = "wechat_tokens"
    name: Mapped[str] = mapped_column(Text, primary_key=True)  # mp:APPID, wecom:CORPID:AGENTID
    token: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[float] = mapped_column(Real)
    fetched_at: Mapped[float] = mapped_column(Real)


class SensitiveWordList(Base):
    """The sensitive-word list as staff last saved it (absent: the shipped defaults)."""

    __tablename__ = "sensitive_words"
    __table_args__ = (CheckConstraint("id = 1"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    words: Mapped[str] = mapped_column(Text)  # one word a line
    version: Mapped[int] = mapped_column(Integer)
    updated_by: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[float] = mapped_column(Real)


class OcrPage(Base):
    """What OCR read off one page image, by the image's content hash and the engine: a page
    is recognised once, however often its file is ingested again (issue #16)."""

    __tablename__ = "ocr_pages"
    key: Mapped[str] = mapped_column(Text, primary_key=True)  # engine:sha256 of the pixels
    text: Mapped[str] = mapped_column(Text)
    confidence: Mapped[float] = mapped_column(Real)
    at: Mapped[float] = mapped_column(Real)


# --- the health probe's row ---------------------------------------------------------------
class RecordsProbe(Base):
    """One row rewritten by the health probe, so a probe really reaches the database."""

    __tablename__ = "records_probe"
    __table_args__ = (CheckConstraint("id = 1"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[float] = mapped_column(Real)


metadata = Base.metadata


def table_of(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


# The tables, for Core queries (`select(files.c.path)`): the stores work with rows, not objects.
meta = table_of(Meta)
files = table_of(File)
documents = table_of(DocumentRow)
chunks = table_of(ChunkRow)
kb_state = table_of(KbState)
session_turns = table_of(SessionTurn)
session_key = table_of(SessionKey)
question_log = table_of(QuestionLogEntry)
feedback = table_of(Feedback)
staff_users = table_of(StaffUser)
staff_tokens = table_of(StaffToken)
audit_log = table_of(AuditEntry)
policy_conditions = table_of(PolicyCondition)
validity_reviews = table_of(ValidityReview)
library_versions = table_of(LibraryVersion)
library_originals = table_of(LibraryOriginal)
library_files = table_of(LibraryFile)
faq_entries = table_of(FaqEntry)
records_probe = table_of(RecordsProbe)
wechat_messages = table_of(WechatMessage)
wechat_tokens = table_of(WechatToken)
sensitive_words = table_of(SensitiveWordList)
ocr_pages = table_of(OcrPage)
