"""The audit log (``schema.audit``): append and read; nothing here updates or deletes.

Also the job event streams' source of deletions (``service/job_events.py``): a deleted job
leaves no row of its own, but every deletion through the API appends ``job.delete``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, RowMapping, bindparam, func, select

from .db import Database
from .schema import audit as t

_APPEND = t.insert()  # built once: every job submission appends an entry


def append(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(_APPEND, row)


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


#: Prepared once (``Database.tuples``): the newest entry, and a project's entries after a cursor
#: (a walk of the ``audit_project`` index from the cursor on: O(entries since the last look)).
_LAST = select(func.coalesce(func.max(t.c.seq), 0))
_PROJECT_AFTER = (select(t.c.seq, t.c.action, t.c.target)
                  .where(t.c.project_id == bindparam("project_id"), t.c.seq > bindparam("after"))
                  .order_by(t.c.seq).limit(bindparam("limit")))


def last_seq(db: Database) -> int:
    """The newest entry's ``seq`` (0 in an empty log): where a follower starts."""
    return int(db.tuples(_LAST)[0][0])


def project_after(db: Database, project_id: str, after: int, limit: int) -> list[tuple[int, str, str | None]]:
    """A project's entries after ``seq`` ``after``, oldest first, as ``(seq, action, target)``:
    every action, so a follower's cursor passes the creations and cancels too and each look
    reads only what is new."""
    return db.tuples(_PROJECT_AFTER, project_id=project_id, after=after, limit=limit)  # type: ignore[return-value]
