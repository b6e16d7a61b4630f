"""WeChat and WeCom messages and access tokens, and the staff's sensitive-word list (issue #15).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import sqlite
from sqlalchemy.types import TypeEngine

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Real: TypeEngine[float] = sa.Double().with_variant(sqlite.REAL(), "sqlite")
T = sa.Text


def _tables() -> sa.MetaData:
    m = sa.MetaData()

    def col(name: str, type_: object, *args: object, **kw: object) -> sa.Column:
        kw.setdefault("nullable", False)
        return sa.Column(name, type_, *args, **kw)  # type: ignore[arg-type]

    sa.Table(
        "wechat_messages",
        m,
        col("key", T, primary_key=True),
        col("openid", T),
        col("state", T),
        col("attempts", sa.Integer),
        col("owner", T),
        col("claimed_at", Real),
        col("parts", T, server_default=""),
        col("sent", sa.Integer, server_default="0"),
        col("at", Real),
        sa.Index("wechat_messages_user", "openid", "at"),
    )
    sa.Table(
        "wechat_tokens",
        m,
        col("name", T, primary_key=True),
        col("token", T),
        col("expires_at", Real),
        col("fetched_at", Real),
    )
    sa.Table(
        "sensitive_words",
        m,
        col("id", sa.Integer, primary_key=True, autoincrement=False),
        col("words", T),
        col("version", sa.Integer),
        col("updated_by", T),
        col("updated_at", Real),
        sa.CheckConstraint("id = 1"),
    )
    return m


def upgrade() -> None:
    _tables().create_all(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    _tables().drop_all(op.get_bind())
