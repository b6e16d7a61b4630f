"""The records database: one SQLAlchemy engine per URL and process, write transactions that
are all or nothing, and errors that mean "the database cannot take this now" turned into
`RecordsUnavailableError` (and reported to `health`).

`BOT_DATABASE_URL` unset → SQLite under `BOT_DATA_DIR` (WAL, synchronous=NORMAL, foreign
keys on, writers serialised by `BEGIN IMMEDIATE`); `postgresql+psycopg://…` → PostgreSQL
(psycopg 3), where writers on different replicas are serialised by `advisory_lock`.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, Insert, Table, create_engine, event, exc, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import make_url

from bot.errors import ConfigurationError, RecordsUnavailableError
from bot.records.health import RecordsHealth
from bot.records.models import kb_state, records_probe

if TYPE_CHECKING:
    from bot.config import Settings

BUSY_TIMEOUT_S = 5.0  # how long an SQLite writer waits for the lock (sqlite3's default)

# SQLite result codes that say the file cannot take a write now — not that a statement is wrong.
_SQLITE_UNWRITABLE = {
    sqlite3.SQLITE_BUSY,  # locked by another writer for longer than the busy timeout
    sqlite3.SQLITE_LOCKED,
    sqlite3.SQLITE_READONLY,
    sqlite3.SQLITE_IOERR,  # a write(2) that failed: EIO, EFBIG (file size limit) …
    sqlite3.SQLITE_FULL,  # ENOSPC
    sqlite3.SQLITE_CANTOPEN,
    sqlite3.SQLITE_PROTOCOL,
}
# PostgreSQL SQLSTATEs (and classes) that say the server cannot take a write now: connection
# failures (08), read-only transaction (a standby), insufficient resources (53: disk full,
# out of memory, too many connections), operator intervention (57P: shutdown, starting up).
_PG_UNAVAILABLE_CLASSES = ("08", "53", "57P")
_PG_UNAVAILABLE = {"25006"}


def unwritable(error: BaseException) -> bool:
    """Whether an SQLite error means the file cannot be written (the primary result code)."""
    code = getattr(error, "sqlite_errorcode", None)
    return (
        isinstance(error, sqlite3.Error) and code is not None and code & 0xFF in _SQLITE_UNWRITABLE
    )


def unavailable(error: BaseException) -> bool:
    """Whether an error (SQLAlchemy's, or the driver's beneath it) means the records database
    cannot take the statement now — unwritable, unreachable, full — rather than a wrong one."""
    if isinstance(error, exc.TimeoutError):  # no pooled connection came free in time
        return True
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    orig = error.orig if isinstance(error, exc.DBAPIError) else error
    if isinstance(orig, sqlite3.Error):
        return unwritable(orig)
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return False
    if not isinstance(orig, psycopg.Error):
        return False
    state = orig.sqlstate or ""
    if not state:  # no answer from a server at all: refused, reset, name not resolved
        return isinstance(orig, psycopg.OperationalError)
    return state in _PG_UNAVAILABLE or state.startswith(_PG_UNAVAILABLE_CLASSES)


def database_url(settings: Settings) -> str:
    """`BOT_DATABASE_URL`, else the SQLite records file under `BOT_DATA_DIR`."""
    return settings.database_url or sqlite_url(settings.records_path)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path.resolve()}"


class Database:
    """The records database behind one URL. Build it with `Database.shared(url)`: one engine
    (and connection pool) per URL per process, shared by every store."""

    _shared: dict[str, Database] = {}
    _shared_lock = threading.Lock()

    def __init__(self, url: str, *, busy_timeout_s: float = BUSY_TIMEOUT_S) -> None:
        parsed = make_url(url)
        self.url = url
        self.dialect = parsed.get_backend_name()  # "sqlite" or "postgresql"
        self.where = parsed.render_as_string(hide_password=True)
        if self.dialect == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            self.engine = create_engine(
                parsed,
                connect_args={"timeout": busy_timeout_s, "check_same_thread": False},
                pool_size=5,
                max_overflow=20,
                # every use is a transaction() or read() that ends itself: no extra rollback
                pool_reset_on_return=None,
            )
            _sqlite_events(self.engine, busy_timeout_s)
            self._writing: threading.RLock | None = threading.RLock()
        elif self.dialect == "postgresql":
            self.engine = create_engine(parsed, pool_pre_ping=True, pool_size=5, max_overflow=10)
            self._writing = None  # row locks and advisory locks: the server queues writers
        else:
            raise ConfigurationError(
                f"BOT_DATABASE_URL: unsupported database {self.dialect!r}; "
                "use sqlite:///path or postgresql+psycopg://user:password@host:port/name"
            )
        self.health = RecordsHealth(self._probe, self.where)

    @classmethod
    def shared(cls, url: str) -> Database:
        """The process's `Database` for this URL, built on first use."""
        with cls._shared_lock:
            database = cls._shared.get(url)
            if database is None:
                database = cls._shared[url] = cls(url)
            return database

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        return cls.shared(database_url(settings))

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    # --- transactions ---------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One write transaction: all of it is committed or none of it.

        On SQLite it begins with `BEGIN IMMEDIATE` (it holds the file's write lock from the
        start, so it is already exclusive); on PostgreSQL take `advisory_lock` where writers
        on different replicas must not interleave. A database that cannot take it raises
        `RecordsUnavailableError` (and marks `health` failing); nothing was written.
        """
        with self._connection(write=True) as conn, conn.begin():
            yield conn

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction: one consistent snapshot, rolled back at the end."""
        with self._connection(write=False) as conn, conn.begin():
            yield conn

    @contextlib.contextmanager
    def _connection(self, *, write: bool) -> Iterator[Connection]:
        try:
            conn = self.engine.connect()
        except exc.SQLAlchemyError as error:
            if not unavailable(error):
                raise
            raise self._unavailable(error) from error
        # SQLite: this process's writers queue on a lock, handed over at once, instead of
        # each polling the file's lock in SQLite's busy handler (sleeps of 1–100 ms: with 10
        # threads answering, most of their time was spent asleep). Held from BEGIN to COMMIT
        # only: the pool's check-out and check-in happen outside it.
        queue = self._writing if write and self._writing is not None else contextlib.nullcontext()
        try:
            if self.is_sqlite:
                conn.execution_options(sqlite_begin="BEGIN IMMEDIATE" if write else "BEGIN")
            with queue:
                yield conn
        except Exception as error:  # SQLAlchemy's, or the driver's (`Prepared`, BEGIN)
            if not unavailable(error):
                raise
            # the next transaction gets a new connection: one opened on a file that was
            # read-only stays read-only, one to a restarted server is dead
            with contextlib.suppress(exc.SQLAlchemyError):
                conn.invalidate()
            raise self._unavailable(error) from error
        finally:
            conn.close()

    def _unavailable(self, error: Exception) -> RecordsUnavailableError:
        """What to raise for an error that means the database cannot take the statement now
        (`health` learns of it)."""
        orig = error.orig if isinstance(error, exc.DBAPIError) else None
        cause: BaseException = orig if orig is not None else error
        self.health.failed(cause)
        return RecordsUnavailableError(f"the records store cannot be written: {cause}")

    @contextlib.contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        """Hold `name` against every other process and replica for as long as the block
        runs — longer than one transaction (an upload parses and embeds for seconds between
        its transactions).

        PostgreSQL: a session advisory lock (`pg_advisory_lock`) on a connection of its own,
        released at the end or by the server when the process dies. SQLite: an exclusive
        `flock` on `<records file>.<name>.lock` (processes on one machine, the only ones
        that can share the file); released by the kernel when the process dies.
        Not reentrant: callers in one process serialise their threads first.
        """
        if self.is_sqlite:
            database = make_url(self.url).database
            if not database or database == ":memory:":
                yield
                return
            lock_path = Path(f"{database}.{name}.lock")
            with open(lock_path, "a+b") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)
            return
        key = _lock_key(name)
        try:
            conn = self.engine.connect()
            conn.exec_driver_sql("SELECT pg_advisory_lock(%(key)s)", {"key": key})
            conn.commit()
        except exc.SQLAlchemyError as error:
            if not unavailable(error):
                raise
            raise self._unavailable(error) from error
        try:
            yield
        finally:
            try:
                conn.exec_driver_sql("SELECT pg_advisory_unlock(%(key)s)", {"key": key})
                conn.commit()
            except exc.SQLAlchemyError:
                conn.invalidate()  # a dead connection: the server has released the lock
            finally:
                conn.close()

    def kb_version(self) -> int:
        """The knowledge-base version now (0 before the first change)."""
        with self.read() as conn:
            return kb_version(conn)

    def _probe(self) -> None:
        """Commit one row, so the probe really reaches the file or the server."""
        with self.transaction() as conn:
            records_probe.create(conn, checkfirst=True)
            upsert(conn, records_probe, {"id": 1, "at": time.time()}, ["id"])

    def close(self) -> None:
        """Close the pooled connections (a later use opens new ones)."""
        self.engine.dispose()


def _sqlite_events(engine: Engine, busy_timeout_s: float) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # SQLAlchemy, not the sqlite3 module, says when a transaction begins (see "begin")
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL: a commit is atomic and survives a crash of the process; only the last
        # commits before a power cut may be lost. FULL fsyncs every commit, which cost each
        # answer ~10 ms of waiting for its session and question-log rows.
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")
        dbapi_connection.execute("PRAGMA foreign_keys=ON")
        dbapi_connection.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        # straight to the driver: this runs for every transaction (each answer has one)
        begin = conn.get_execution_options().get("sqlite_begin", "BEGIN")
        conn.connection.dbapi_connection.execute(begin)  # type: ignore[union-attr]


def advisory_lock(conn: Connection, name: str) -> None:
    """Serialise writers on `name` across processes and replicas until the transaction ends.

    PostgreSQL: `pg_advisory_xact_lock`. SQLite: a `Database.transaction()` already holds
    the file's write lock (BEGIN IMMEDIATE), so there is nothing more to take.
    """
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(%(key)s)", {"key": _lock_key(name)})
    elif conn.get_execution_options().get("sqlite_begin") != "BEGIN IMMEDIATE":
        raise RuntimeError("advisory_lock needs a write transaction (Database.transaction())")


def _lock_key(name: str) -> int:
    """The 64-bit PostgreSQL advisory-lock key of a name."""
    return int.from_bytes(
        hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True
    )


class Prepared:
    """An INSERT run straight on the driver's cursor, compiled once per dialect: for the rows
    every answer writes (its session turn and question-log row), where SQLAlchemy's
    execution machinery cost more than the statement. The driver's errors are raised as
    SQLAlchemy's (`IntegrityError`, `OperationalError` …), like any other statement's."""

    def __init__(self, stmt: Insert) -> None:
        self.stmt = stmt
        self._compiled: dict[str, tuple[str, tuple[str, ...] | None]] = {}

    def __call__(self, conn: Connection, params: Mapping[str, object]) -> None:
        compiled = self._compiled.get(conn.dialect.name)
        if compiled is None:
            c = self.stmt.compile(dialect=conn.dialect, column_keys=list(params))
            positions = tuple(c.positiontup) if c.positiontup else None
            compiled = self._compiled[conn.dialect.name] = (str(c), positions)
        sql, positions = compiled
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        args = tuple(params[k] for k in positions) if positions else params
        try:
            cursor.execute(sql, args)
        except conn.dialect.loaded_dbapi.Error as error:  # as SQLAlchemy would raise it
            raise exc.DBAPIError.instance(
                sql, args, error, conn.dialect.loaded_dbapi.Error
            ) from error
        finally:
            cursor.close()


def upsert(
    conn: Connection,
    table: Table,
    rows: Mapping[str, object] | Sequence[Mapping[str, object]],
    keys: Sequence[str],
) -> None:
    """Insert rows, replacing the other columns of a row whose `keys` exist already."""
    many = [dict(rows)] if isinstance(rows, Mapping) else [dict(r) for r in rows]
    if not many:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite_dialect
    stmt = dialect.insert(table)
    others = [c for c in many[0] if c not in keys]
    stmt = (
        stmt.on_conflict_do_update(
            index_elements=list(keys), set_={c: stmt.excluded[c] for c in others}
        )
        if others
        else stmt.on_conflict_do_nothing(index_elements=list(keys))
    )
    conn.execute(stmt, many)


def kb_version(conn: Connection) -> int:
    """The knowledge-base version as this transaction sees it."""
    version = conn.scalar(select(kb_state.c.version).where(kb_state.c.id == 1))
    return int(version or 0)


def bump_kb_version(conn: Connection) -> int:
    """Count one change to what is live, in the caller's transaction; the new version.

    Every replica polls `kb_version` and reloads when it moved, so call this in the same
    transaction as the change (committed together or not at all).
    """
    table = kb_state
    version = conn.scalar(
        update(table)
        .where(table.c.id == 1)
        .values(version=table.c.version + 1, changed_at=time.time())
        .returning(table.c.version)
    )
    if version is None:  # a database made before the row: the first change makes it
        upsert(conn, table, {"id": 1, "version": 1, "changed_at": time.time()}, ["id"])
        version = 1
    return int(version)
