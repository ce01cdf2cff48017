"""Opening a database: engine options per back end, and migrating it to the current schema."""

from __future__ import annotations

import logging
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Executable, create_engine, event, text
from sqlalchemy.exc import InterfaceError, OperationalError

from . import notify

log = logging.getLogger(__name__)

_MIGRATIONS = Path(__file__).parent / "migrations"


def normalize_url(url: str) -> str:
    """Let users write ``postgresql://`` and still get the psycopg 3 driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


#: Every PostgreSQL connection (pooled, and a listener's): a connection attempt gives up after
#: 5 s, TCP keepalives probe an idle connection after 5 s and drop it after 3 unanswered probes
#: 2 s apart, and unacknowledged data fails the connection after 15 s, so a dead peer or a
#: cut link is noticed in seconds, not after the kernel's two hours; a statement runs at most
#: 60 s (qharbor's are short: a stuck one is a fault, not work). The server's end of each
#: session probes the same way (``-c tcp_keepalives_*``, ``tcp_user_timeout``): a client cut off
#: mid-transaction otherwise leaves a session that holds its row locks for two hours (its
#: worker's row: every recovery sweep's delete waited on it, so no dead worker's job was
#: recovered; tests/dispatch/test_network.py).
POSTGRES_CONNECTION: dict[str, Any] = {
    "connect_timeout": 5, "keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2,
    "keepalives_count": 3, "tcp_user_timeout": 15_000,
    "options": "-c statement_timeout=60000 -c tcp_keepalives_idle=5 -c tcp_keepalives_interval=2"
               " -c tcp_keepalives_count=3 -c tcp_user_timeout=15000",
}
#: What a database that is restarting, out of reach or busy raises (and, on SQLite, some
#: errors in statements too: :func:`transient` tells them apart). A worker retries these
#: (``dispatch/worker.py``); an API answers the transient ones 503 (``api/errors.py``).
UNAVAILABLE: tuple[type[Exception], ...] = (OperationalError, InterfaceError, sqlite3.OperationalError)
_SQLITE_TRANSIENT = ("locked", "busy", "unable to open", "disk i/o")


#: Pauses between tries of a step while the database is unavailable grow to this.
RETRY_MAX_S = 10.0
T = TypeVar("T")


def reason(exc: BaseException) -> str:
    """What an error says, in one line (its first; its type where it says nothing), for logs."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def patiently(what: str, step: Callable[[], T], giving_up: Callable[[], bool] = lambda: False) -> T:
    """``step()``, again and again while the database is unavailable (restarting, out of
    reach, busy): each failure logged, with pauses that grow to :data:`RETRY_MAX_S`
    (jittered, so many processes do not return at once), until ``giving_up()`` says to
    raise instead. Workers and start-up wait out an outage this way."""
    pause = 0.25
    while True:
        try:
            return step()
        except UNAVAILABLE as exc:
            if giving_up():
                raise
            log.warning("%s: the database is unavailable (%s); trying again in %.1f s",
                        what, reason(exc), pause)
            time.sleep(pause * random.uniform(0.5, 1.0))
            pause = min(pause * 2, RETRY_MAX_S)


def transient(exc: BaseException) -> bool:
    """Whether ``exc`` says the database is out of reach for now (restarting, unreachable,
    locked), not that something is wrong with the data or a statement (``no such table``)."""
    cause = getattr(exc, "orig", None) or exc
    if isinstance(cause, sqlite3.OperationalError):
        return any(word in str(cause).lower() for word in _SQLITE_TRANSIENT)
    return isinstance(exc, UNAVAILABLE)


def open_engine(url: str) -> Engine:
    """An engine tuned for many short transactions from several processes."""
    url = normalize_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            # WAL lets readers (the API) proceed while a worker writes; synchronous=NORMAL
            # is durable against process crashes, which is what WAL needs for safety here.
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(conn):  # type: ignore[no-untyped-def]
            # Writers take the lock up front (IMMEDIATE) so two of them never deadlock
            # upgrading a read lock; busy_timeout then queues them. Readers stay
            # deferred and, under WAL, never wait for a writer.
            if conn.get_execution_options().get("read_only"):
                conn.exec_driver_sql("BEGIN")
            else:
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    # Up to 30 connections, each kept once opened: an overflow connection is closed when it is
    # returned, so bursts above a smaller pool opened and closed connections (a server fork
    # each). No ping before each transaction (a round trip each, ~6 % of a trivial job's CPU):
    # a connection broken meanwhile (a database restart) fails its first statement, SQLAlchemy
    # then discards the whole pool, and that one request answers 503 or a worker's step is retried.
    return create_engine(url, pool_size=30, max_overflow=0, connect_args=POSTGRES_CONNECTION)


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A connection for read-only work (never takes SQLite's write lock)."""
    with engine.connect() as conn:
        yield conn.execution_options(read_only=True)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (safe to call from many processes)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Serialise concurrent upgrades from several API/worker processes.
            conn.execute(text("SELECT pg_advisory_xact_lock(7243001)"))
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


class Database:
    """An open database: the SQLAlchemy engine, plus a lean path for the hottest reads.

    Clients poll one job at a time, many times a second. On SQLite, SQLAlchemy's
    per-call overhead (pool checkout, transaction events, result wrapping) costs
    about 20x the indexed lookup itself, so :meth:`rows` runs those few prepared
    statements on a bare per-thread ``sqlite3`` connection instead. They are fast
    enough to run on the event loop (``inline_reads``); on PostgreSQL they go
    through SQLAlchemy from a thread pool like everything else.
    """

    def __init__(self, url: str) -> None:
        self.engine = open_engine(url)
        self.inline_reads = self.engine.dialect.name == "sqlite"
        self._path = self.engine.url.database
        self._local = threading.local()
        self._compiled: dict[int, tuple[str, tuple[str, ...], dict[str, Any]]] = {}
        sqlite_path = self._path if self.inline_reads else None
        self._sockets = notify.socket_dir(sqlite_path) if sqlite_path else None
        self._sender = notify.Sender(self._sockets)

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A write transaction whose notices (``notify.notify``) go out once it commits."""
        with self.engine.begin() as conn:
            conn.info.pop(notify.PENDING, None)  # left by a transaction that rolled back
            yield conn
            pending = conn.info.pop(notify.PENDING, None)
        if pending:
            self._sender.send(pending)

    def listener(self, channel: str) -> notify.Listener:
        """A listener for ``channel``'s notices (see ``store/notify.py``)."""
        url = self.engine.url.render_as_string(hide_password=False).replace("postgresql+psycopg://", "postgresql://")
        return notify.Listener(url, self.engine.dialect.name, self._sockets, channel, POSTGRES_CONNECTION)

    def _raw(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("PRAGMA query_only=1")
            # Map the file and keep a large page cache: hot reads then make no syscalls.
            conn.execute("PRAGMA mmap_size=1073741824")
            conn.execute("PRAGMA cache_size=-65536")
            self._local.conn = conn
            self._local.answers, self._local.version = {}, None  # see tuples()
        return conn

    def rows(self, stmt: Executable, **params: Any) -> list[Mapping[str, Any]]:
        """Run a read-only statement with named ``bindparam`` parameters."""
        if not self.inline_reads:
            with reading(self.engine) as conn:
                return list(conn.execute(stmt, params).mappings())
        sql, values = self._prepared(stmt, params)
        return self._raw().execute(sql, values).fetchall()

    def tuples(self, stmt: Executable, **params: Any) -> list[tuple[Any, ...]]:
        """As :meth:`rows`, as plain tuples in the statement's column order (cheaper to make),
        which the caller must not modify.

        On SQLite the answers are kept (per thread, per statement and values) for as long as
        nothing commits to the database: ``PRAGMA data_version`` changes on every commit by
        another connection (this one never writes), so a page that dashboards poll while
        nothing changes costs one pragma. The version is read before the query, so an answer
        is never kept past a commit it may not have seen."""
        if not self.inline_reads:
            with reading(self.engine) as conn:
                return list(conn.execute(stmt, params).tuples())
        sql, values = self._prepared(stmt, params)
        conn, local = self._raw(), self._local
        version = conn.execute("PRAGMA data_version").fetchone()[0]
        if version != local.version:
            local.answers.clear()
            local.version = version
        key = (sql, *values)
        found = local.answers.get(key)
        if found is None:
            cursor = conn.cursor()
            cursor.row_factory = None
            found = cursor.execute(sql, values).fetchall()
            if len(local.answers) >= 1024:
                local.answers.clear()
            local.answers[key] = found
        return found  # type: ignore[no-any-return]

    def _prepared(self, stmt: Executable, params: dict[str, Any]) -> tuple[str, list[Any]]:
        compiled = self._compiled.get(id(stmt))
        if compiled is None:
            c = stmt.compile(dialect=self.engine.dialect, compile_kwargs={"render_postcompile": True})
            # Literal values in the statement are parameters too; keep them as defaults.
            compiled = self._compiled[id(stmt)] = (str(c), tuple(c.positiontup or ()), c.params)
        sql, order, defaults = compiled
        return sql, [params[name] if name in params else defaults[name] for name in order]

    def reachable(self) -> bool:
        """Whether the database answers a trivial query now (readiness)."""
        try:
            with reading(self.engine) as conn:
                conn.execute(text("SELECT 1"))
            return True
        except UNAVAILABLE:
            return False

    def dispose(self) -> None:
        self._sender.close()
        self.engine.dispose()
