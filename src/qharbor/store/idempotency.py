"""Idempotency-key records (``schema.idempotency_keys``). Each function is one statement, run
in the caller's transaction; :func:`claim` must run in a transaction of its own, since a
refused insert aborts a PostgreSQL transaction."""

from __future__ import annotations

from sqlalchemy import Connection, RowMapping, delete, select, update
from sqlalchemy.exc import IntegrityError

from .schema import idempotency_keys as t


def claim(conn: Connection, project_id: str, key: str, fingerprint: str, now: float) -> bool:
    """Record the key as in flight; False if the project already has it."""
    try:
        with conn.begin_nested():
            conn.execute(t.insert().values(project_id=project_id, key=key, fingerprint=fingerprint, created_at=now))
    except IntegrityError:
        return False
    return True


def get(conn: Connection, project_id: str, key: str) -> RowMapping | None:
    return conn.execute(select(t).where(t.c.project_id == project_id, t.c.key == key)).mappings().first()


def finish(conn: Connection, project_id: str, key: str, status: int, body: str) -> None:
    conn.execute(update(t).where(t.c.project_id == project_id, t.c.key == key).values(status=status, body=body))


def drop(conn: Connection, project_id: str, key: str, created_at: float | None = None) -> None:
    """Forget the key (only the record made at ``created_at``, when given)."""
    where = [t.c.project_id == project_id, t.c.key == key]
    if created_at is not None:
        where.append(t.c.created_at == created_at)
    conn.execute(delete(t).where(*where))


def expire(conn: Connection, before: float) -> int:
    return conn.execute(delete(t).where(t.c.created_at < before)).rowcount
