"""The audit log (``schema.audit``): append and read; nothing here updates or deletes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, RowMapping, select

from .schema import audit as t


def append(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(t.insert().values(**row))


def read(conn: Connection, limit: int, before: int | None = None, **equal: Any) -> list[RowMapping]:
    """Entries newest first, matching ``equal`` (column: value, None values ignored), with
    ``since``/``until`` bounds on ``at`` and ``before`` a ``seq`` cursor."""
    since, until = equal.pop("since", None), equal.pop("until", None)
    stmt = select(t).order_by(t.c.seq.desc()).limit(limit)
    for column, value in equal.items():
        if value is not None:
            stmt = stmt.where(t.c[column] == value)
    if since is not None:
        stmt = stmt.where(t.c.at >= since)
    if until is not None:
        stmt = stmt.where(t.c.at < until)
    if before is not None:
        stmt = stmt.where(t.c.seq < before)
    return list(conn.execute(stmt).mappings())
