"""Opening a database: engine options per back end, and migrating it to the current schema."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, text

log = logging.getLogger(__name__)

_MIGRATIONS = Path(__file__).parent / "migrations"


def normalize_url(url: str) -> str:
    """Let users write ``postgresql://`` and still get the psycopg 3 driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'qharbor.db'}"


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
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


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
