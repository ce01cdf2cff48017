"""Session queries. A session groups a project's jobs on one backend, within limits."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, RowMapping, func, select, update

from .schema import jobs, sessions


def insert(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(sessions.insert().values(**row))


def get(conn: Connection, project_id: str, session_id: str, *, lock: bool = False) -> RowMapping | None:
    """One session; ``lock`` holds its row until commit (admitting jobs under a count limit)."""
    stmt = select(sessions).where(sessions.c.id == session_id, sessions.c.project_id == project_id)
    if lock and conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return conn.execute(stmt).mappings().first()


def page(conn: Connection, project_id: str, *, active: bool | None, limit: int,
         before: float | None, now: float) -> list[RowMapping]:
    """Newest first, keyed by creation time. ``active``: not ended by a user or a job count,
    and not past its duration limit at ``now`` (the rule of ``service.sessions.status``)."""
    stmt = select(sessions).where(sessions.c.project_id == project_id)
    if active is not None:
        live = (sessions.c.status != "ended") & (sessions.c.expires_at.is_(None) | (sessions.c.expires_at > now))
        stmt = stmt.where(live if active else ~live)
    if before is not None:
        stmt = stmt.where(sessions.c.created_at < before)
    return list(conn.execute(stmt.order_by(sessions.c.created_at.desc()).limit(limit)).mappings())


def job_count(conn: Connection, session_id: str) -> int:
    stmt = select(func.count()).select_from(jobs).where(jobs.c.session_id == session_id, jobs.c.parent_id.is_(None))
    return int(conn.execute(stmt).scalar() or 0)


def set_state(conn: Connection, session_id: str, **values: Any) -> None:
    conn.execute(update(sessions).where(sessions.c.id == session_id).values(**values))
