"""Create and upgrade the records schema with Alembic: at start-up and `python -m web migrate`."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, inspect, text

from bot.records.database import Database, advisory_lock

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"
# The newest revision in migrations/versions (a test holds it to Alembic's own answer):
# a start-up at head then needs one query and no Alembic import (half a second).
HEAD = "0003"


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration, without an alembic.ini: the scripts ship inside the package."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head() -> str:
    """The newest revision in migrations/versions, as Alembic finds it."""
    from alembic.script import ScriptDirectory

    revision = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert revision is not None
    return revision


def current_revision(database: Database) -> str | None:
    """The revision the database is at; None before the first migration."""
    with database.read() as conn:
        return _revision(conn)


def _revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.scalar(text("SELECT version_num FROM alembic_version"))


def upgrade(database: Database, revision: str = "head") -> str | None:
    """Bring the schema to `revision` (creating it on an empty database, adopting a records
    file of an earlier release); a no-op when it is there already. The revision reached."""
    target = HEAD if revision == "head" else revision
    if current_revision(database) == target:
        return target
    from alembic import command

    with _migrating(database) as conn:
        # a replica that started at the same moment may have migrated while this one waited
        if _revision(conn) != target:
            log.info("records schema: upgrading %s to %s", database.where, target)
            command.upgrade(alembic_config(conn), revision)
    return current_revision(database)


def downgrade(database: Database, revision: str) -> str | None:
    """Take the schema back to `revision` (`base`: drop every table, and every row)."""
    from alembic import command

    with _migrating(database) as conn:
        command.downgrade(alembic_config(conn), revision)
    return current_revision(database)


@contextlib.contextmanager
def _migrating(database: Database) -> Iterator[Connection]:
    """One transaction for the whole upgrade, one migrator at a time.

    SQLite: foreign keys off meanwhile — rebuilding a table drops the old one, which with
    foreign keys on would delete every row that refers to it — and checked before commit.
    PostgreSQL: an advisory lock, so replicas starting together migrate one after another.
    """
    if not database.is_sqlite:
        with database.transaction() as conn:
            advisory_lock(conn, "records-schema")
            yield conn
        return
    with database.engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        raw.execute("PRAGMA foreign_keys=OFF")  # outside a transaction, or SQLite ignores it
        try:
            conn.execution_options(sqlite_begin="BEGIN IMMEDIATE")
            with conn.begin():
                yield conn
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:  # there before: the migrations make none; say so, keep the rows
                    log.warning(
                        "records: %d rows refer to missing rows, e.g. %s", len(broken), broken[:3]
                    )
        finally:
            raw.execute("PRAGMA foreign_keys=ON")
