"""Baseline: every table the product had when records moved to SQLAlchemy (issue #14).

On an empty database it creates them all. On a records file written by an earlier release
(tables made by the stores' own `CREATE TABLE IF NOT EXISTS`, no `alembic_version`) it
adopts the file: creates what is missing, adds the columns older files lack, rebuilds the
`files` table of the first releases (no `fingerprint`), and keeps every row.

The tables are written out here, not imported from the models: the models move on with
later revisions, the baseline must stay what it was.

Revision ID: 0001
Revises:
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import sqlite
from sqlalchemy.types import TypeEngine

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Real: TypeEngine[float] = sa.Double().with_variant(sqlite.REAL(), "sqlite")
T = sa.Text


def _tables() -> sa.MetaData:
    m = sa.MetaData()

    def col(name: str, type_: object, *args: object, **kw: object) -> sa.Column:
        kw.setdefault("nullable", False)
        return sa.Column(name, type_, *args, **kw)  # type: ignore[arg-type]

    def opt(name: str, type_: object, *args: object) -> sa.Column:
        return sa.Column(name, type_, *args, nullable=True)  # type: ignore[arg-type]

    sa.Table("meta", m, col("key", T, primary_key=True), col("value", T))
    sa.Table(
        "files",
        m,
        col("path", T, primary_key=True),
        col("fingerprint", T),
        col("indexed_at", T, server_default=sa.text("CURRENT_TIMESTAMP")),
    )
    sa.Table(
        "documents",
        m,
        col("doc_id", T, primary_key=True),
        col("path", T, sa.ForeignKey("files.path", ondelete="CASCADE")),
        *(opt(c, T) for c in ("title", "category", "department", "contact", "url", "updated")),
        opt("sample", sa.Integer),
        opt("kind", T),
        opt("text", T),
        col("alternatives", T, server_default=""),
        col("meta", T, server_default=""),
        sa.Index("documents_path", "path"),
    )
    sa.Table(
        "chunks",
        m,
        col("chunk_id", T, primary_key=True),
        col("doc_id", T, sa.ForeignKey("documents.doc_id", ondelete="CASCADE")),
        opt("ordinal", sa.Integer),
        opt("title", T),
        opt("section", T),
        opt("text", T),
        sa.Index("chunks_doc", "doc_id"),
    )
    sa.Table(
        "kb_state",
        m,
        col("id", sa.Integer, primary_key=True, autoincrement=False),
        col("version", sa.Integer, server_default="0"),
        col("changed_at", Real, server_default="0"),
        sa.CheckConstraint("id = 1"),
    )
    sa.Table(
        "session_turns",
        m,
        col("session_id", T, primary_key=True),
        col("turn", sa.Integer, primary_key=True, autoincrement=False),
        col("question", T),
        col("standalone", T),
        col("answer", T),
        col("answered", sa.Integer),
        col("doc_ids", T, server_default=""),
        col("at", Real),
        sa.Index("session_turns_at", "at"),
    )
    sa.Table(
        "session_key",
        m,
        col("id", sa.Integer, primary_key=True, autoincrement=False),
        col("secret", sa.LargeBinary),
        sa.CheckConstraint("id = 1"),
    )
    sa.Table(
        "question_log",
        m,
        col("id", sa.Integer, primary_key=True),
        col("at", Real),
        col("session_id", T),
        col("question", T),
        col("standalone", T),
        col("answered", sa.Integer),
        col("mode", T),
        col("top_doc", T, server_default=""),
        opt("confidence", Real),
        col("reason", T, server_default=""),
        sa.Index("question_log_at", "at"),
        sqlite_autoincrement=True,
    )
    sa.Table(
        "feedback",
        m,
        col("id", sa.Integer, primary_key=True),
        col("session_id", T, server_default=""),
        col("question", T),
        col("answer", T),
        col("rating", T),
        col("comment", T, server_default=""),
        col("at", Real),
        sa.CheckConstraint("rating IN ('up', 'down')"),
        sqlite_autoincrement=True,
    )
    sa.Table(
        "staff_users",
        m,
        col("username", T, primary_key=True),
        col("password_hash", T),
        col("role", T),
        col("created_at", Real),
        sa.CheckConstraint("role IN ('editor', 'admin')"),
    )
    sa.Table(
        "staff_tokens",
        m,
        col("token_sha256", T, primary_key=True),
        col("username", T, sa.ForeignKey("staff_users.username", ondelete="CASCADE")),
        col("expires_at", Real),
    )
    sa.Table(
        "audit_log",
        m,
        col("id", sa.Integer, primary_key=True),
        col("at", Real),
        col("user", T),
        col("action", T),
        col("target", T),
        opt("old_version", sa.Integer),
        opt("new_version", sa.Integer),
        col("detail", T, server_default=""),
        sqlite_autoincrement=True,
    )
    sa.Table(
        "policy_conditions",
        m,
        col("doc_id", T, primary_key=True),
        col("eligibility", T),
        col("edited_by", T),
        col("at", Real),
    )
    sa.Table(
        "validity_reviews",
        m,
        col("doc_id", T, primary_key=True),
        col("phrase", T, primary_key=True),
        col("verdict", T),
        col("reviewed_by", T),
        col("at", Real),
        sa.CheckConstraint("verdict IN ('confirmed', 'rejected')"),
    )
    sa.Table(
        "library_versions",
        m,
        col("name", T, primary_key=True),
        col("version", sa.Integer, primary_key=True, autoincrement=False),
        col("sha256", T),
        col("size", sa.Integer),
        col("uploaded_by", T),
        col("at", Real),
        col("status", T),
        col("reason", T, server_default=""),
    )
    sa.Table(
        "library_originals",
        m,
        col("name", T, primary_key=True),
        col("version", sa.Integer, primary_key=True, autoincrement=False),
        col("content", sa.LargeBinary),
        sa.ForeignKeyConstraint(
            ["name", "version"],
            ["library_versions.name", "library_versions.version"],
            ondelete="CASCADE",
        ),
    )
    sa.Table(
        "library_files",
        m,
        col("name", T, primary_key=True),
        *(col(c, T, server_default="") for c in ("category", "department", "contact")),
    )
    sa.Table(
        "faq_entries",
        m,
        col("id", sa.Integer, primary_key=True),
        *(col(c, T) for c in ("question", "alternatives", "answer", "category")),
        *(col(c, T) for c in ("department", "contact", "url")),
        col("version", sa.Integer),
        col("updated_by", T),
        col("updated_at", Real),
        sqlite_autoincrement=True,
    )
    sa.Table(
        "records_probe",
        m,
        col("id", sa.Integer, primary_key=True, autoincrement=False),
        col("at", Real),
        sa.CheckConstraint("id = 1"),
    )
    return m


# Columns that arrived after a table's first release: older records files lack them.
_ADDED: dict[str, tuple[sa.Column[Any], ...]] = {
    "documents": (
        sa.Column("alternatives", T, nullable=False, server_default=""),  # FAQ phrasings
        sa.Column("meta", T, nullable=False, server_default=""),  # policy validity, eligibility
    ),
    "question_log": (
        sa.Column("confidence", Real, nullable=True),  # how well the evidence covered it
        sa.Column("reason", T, nullable=False, server_default=""),  # why it was refused
    ),
}


def upgrade() -> None:
    bind = op.get_bind()
    tables = _tables()
    inspector = sa.inspect(bind)
    present = set(inspector.get_table_names())
    if "files" in present and "fingerprint" not in _columns(inspector, "files"):
        _rebuild_files()
    tables.create_all(bind, checkfirst=True)
    inspector = sa.inspect(bind)  # it caches: look again after the changes
    for name, added in _ADDED.items():
        have = _columns(inspector, name)
        for column in added:
            if column.name not in have:
                op.add_column(name, column)
    for table in tables.tables.values():  # indexes a store once made lazily
        have = {str(index["name"]) for index in inspector.get_indexes(table.name)}
        for index in table.indexes:
            if index.name not in have:
                index.create(bind)
    state = tables.tables["kb_state"]
    if bind.scalar(sa.select(sa.func.count()).select_from(state)) == 0:
        bind.execute(state.insert().values(id=1, version=0, changed_at=0))


def downgrade() -> None:
    _tables().drop_all(op.get_bind())


def _columns(inspector: sa.Inspector, table: str) -> set[str]:
    return {column["name"] for column in inspector.get_columns(table)}


def _rebuild_files() -> None:
    """The first releases kept only the file's hash (`sha256`): rebuild the table (SQLite's
    documented procedure; `upgrade` turned foreign keys off, so no document is dropped) with
    empty fingerprints — they match nothing, so the next ingest re-parses every file,
    reusing its vectors."""
    op.execute(
        "CREATE TABLE files_new (path TEXT NOT NULL PRIMARY KEY, fingerprint TEXT NOT NULL,"
        " indexed_at TEXT DEFAULT CURRENT_TIMESTAMP NOT NULL)"
    )
    op.execute(
        "INSERT INTO files_new (path, fingerprint, indexed_at) SELECT path, '', indexed_at FROM files"
    )
    op.execute("DROP TABLE files")
    op.execute("ALTER TABLE files_new RENAME TO files")
