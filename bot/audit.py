"""Who changed what and when — every staff change to the knowledge base, in the records DB."""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, datetime

from sqlalchemy import Connection, insert, select

from bot.records import Database
from bot.records.models import audit_log

COLUMNS = ("id", "at", "user", "action", "target", "old_version", "new_version", "detail")


def _cell(value: object) -> object:
    """Spreadsheets run cells that start with = + - @ as formulas: quote them."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


class AuditLog:
    def __init__(self, database: Database) -> None:
        self.database = database

    def record(
        self,
        user: str,
        action: str,
        target: str,
        old_version: int | None = None,
        new_version: int | None = None,
        detail: str = "",
    ) -> None:
        with self.database.transaction() as conn:
            self.write(conn, user, action, target, old_version, new_version, detail)

    def write(
        self,
        conn: Connection,
        user: str,
        action: str,
        target: str,
        old_version: int | None = None,
        new_version: int | None = None,
        detail: str = "",
    ) -> None:
        """Record a change inside the caller's transaction `conn` (`database.transaction()`),
        so the change and its entry are kept together or not at all."""
        conn.execute(
            insert(audit_log).values(
                at=time.time(),
                user=user,
                action=action,
                target=target,
                old_version=old_version,
                new_version=new_version,
                detail=detail,
            )
        )

    def entries(self, limit: int = 500) -> list[dict[str, object]]:
        with self.database.read() as conn:
            rows = conn.execute(
                select(*(audit_log.c[k] for k in COLUMNS))
                .order_by(audit_log.c.id.desc())
                .limit(limit)
            ).all()
        entries = [dict(zip(COLUMNS, row, strict=True)) for row in rows]
        for entry in entries:
            stamp = float(str(entry["at"]))
            entry["at"] = datetime.fromtimestamp(stamp, UTC).isoformat(timespec="seconds")
        return entries

    def csv(self, limit: int = 100_000) -> str:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
        writer.writeheader()
        for entry in self.entries(limit):
            writer.writerow({k: _cell(v) for k, v in entry.items()})
        return "\ufeff" + buffer.getvalue()  # BOM: Excel opens the Chinese text correctly
