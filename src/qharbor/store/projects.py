"""Project settings admins make (``schema.projects``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, RowMapping, select, update

from .schema import projects as t


def get(conn: Connection, project_id: str) -> RowMapping | None:
    return conn.execute(select(t).where(t.c.id == project_id)).mappings().first()


def put(conn: Connection, row: dict[str, Any]) -> None:
    """Insert or replace the project's row."""
    if conn.execute(update(t).where(t.c.id == row["id"]).values(**row)).rowcount == 0:
        conn.execute(t.insert().values(**row))
