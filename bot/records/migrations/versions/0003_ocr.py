"""Pages: the page a passage starts on, and the OCR cache by page image (issue #16).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import sqlite
from sqlalchemy.types import TypeEngine

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Real: TypeEngine[float] = sa.Double().with_variant(sqlite.REAL(), "sqlite")
T = sa.Text


def _tables() -> sa.MetaData:
    m = sa.MetaData()
    sa.Table(
        "ocr_pages",
        m,
        sa.Column("key", T, primary_key=True, nullable=False),
        sa.Column("text", T, nullable=False),
        sa.Column("confidence", Real, nullable=False),
        sa.Column("at", Real, nullable=False),
    )
    return m


def upgrade() -> None:
    bind = op.get_bind()
    # a records file adopted without its revision row may have the column already
    if "page" not in {c["name"] for c in sa.inspect(bind).get_columns("chunks")}:
        op.add_column("chunks", sa.Column("page", sa.Integer, nullable=False, server_default="0"))
    _tables().create_all(bind, checkfirst=True)


def downgrade() -> None:
    _tables().drop_all(op.get_bind())
    with op.batch_alter_table("chunks") as batch:
        batch.drop_column("page")
