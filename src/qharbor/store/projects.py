"""Project settings admins make (``schema.projects``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, RowMapping, bindparam, func, select, update

from .schema import jobs
from .schema import projects as t

# Built once: every job submission reads its project's row.
_GET = select(t).where(t.c.id == bindparam("project_id"))
_LOCKED = _GET.with_for_update()


def get(conn: Connection, project_id: str) -> RowMapping | None:
    return conn.execute(_GET, {"project_id": project_id}).mappings().first()


def put(conn: Connection, row: dict[str, Any]) -> None:
    """Insert or replace the project's row."""
    if conn.execute(update(t).where(t.c.id == row["id"]).values(**row)).rowcount == 0:
        conn.execute(t.insert().values(**row))


def locked(conn: Connection, project_id: str) -> RowMapping | None:
    """The project's row, locked until the transaction ends (``FOR UPDATE``), so that submits
    to a project with quotas take turns checking them."""
    return conn.execute(_LOCKED, {"project_id": project_id}).mappings().first()


def unfinished_jobs(conn: Connection, project_id: str) -> int:
    stmt = (select(func.count()).select_from(jobs)
            .where(jobs.c.project_id == project_id, jobs.c.parent_id.is_(None),
                   jobs.c.status.in_(("submitted", "ready", "started"))))
    return int(conn.execute(stmt).scalar_one())
