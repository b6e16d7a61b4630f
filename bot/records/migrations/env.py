"""Alembic's environment: migrations run on the connection `bot.records.migrate.upgrade`
passes in (in its transaction), against the models' metadata."""

from __future__ import annotations

from alembic import context

from bot.records.models import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "run the records migrations through bot.records.migrate.upgrade (`python -m web migrate`)"
    )
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
