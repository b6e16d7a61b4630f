"""The records database (SQLite by default, PostgreSQL via `BOT_DATABASE_URL`): models,
the `Database` (engine, transactions, health) and the Alembic migrations."""

from bot.records.database import (
    Database,
    advisory_lock,
    bump_kb_version,
    database_url,
    kb_version,
    unavailable,
    upsert,
)
from bot.records.health import RecordsHealth
from bot.records.migrate import current_revision, downgrade, head, upgrade

__all__ = [
    "Database",
    "RecordsHealth",
    "advisory_lock",
    "bump_kb_version",
    "current_revision",
    "database_url",
    "downgrade",
    "head",
    "kb_version",
    "unavailable",
    "upgrade",
    "upsert",
]
