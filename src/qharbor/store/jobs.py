"""Job and result queries used by the API: create, read, list, cancel, delete.

All statements are scoped by ``project_id``: a job of another project is
indistinguishable from one that does not exist.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, RowMapping, bindparam, delete, select, update

from . import notify
from .db import Database
from .schema import jobs, results

FINISHED = ("completed", "failed", "canceled")
QUEUED = ("submitted", "ready")

#: Everything the API shows about a job (the stored program is never read here).
_VIEW = [c for c in jobs.c if c.name not in ("program", "worker_id", "attempts")]


def insert(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Insert a job and its children in one statement (one transaction with the caller)."""
    conn.execute(jobs.insert(), list(rows))


# The statements clients poll, prepared once (see Database.rows).
_GET = select(*_VIEW).where(jobs.c.id == bindparam("job_id"), jobs.c.project_id == bindparam("project_id"))
_EXISTS = select(jobs.c.seq).where(jobs.c.id == bindparam("job_id"), jobs.c.project_id == bindparam("project_id"))
_FINISHED_SINCE = select(jobs.c.id, jobs.c.completed_at).where(jobs.c.completed_at > bindparam("since"))
_CHILDREN = select(jobs.c.id).where(jobs.c.parent_id == bindparam("parent_id")).order_by(jobs.c.position)
_RESULT = select(results.c.data).where(results.c.job_id == bindparam("job_id"), results.c.kind == bindparam("kind"))
_CHILD_SHAPES = (select(jobs.c.qubits, jobs.c.output).where(jobs.c.parent_id == bindparam("parent_id"))
                 .order_by(jobs.c.position))
_CHILD_RESULTS = (
    select(jobs.c.id, results.c.data)
    .select_from(jobs.outerjoin(results, (results.c.job_id == jobs.c.id) & (results.c.kind == bindparam("kind"))))
    .where(jobs.c.parent_id == bindparam("parent_id"))
    .order_by(jobs.c.position)
)


def get(db: Database, project_id: str, job_id: str) -> Mapping[str, Any] | None:
    found = db.rows(_GET, job_id=job_id, project_id=project_id)
    return found[0] if found else None


def exists(db: Database, project_id: str, job_id: str) -> bool:
    return bool(db.rows(_EXISTS, job_id=job_id, project_id=project_id))


def finished_since(db: Database, since: float) -> list[tuple[str, float]]:
    """Jobs that reached an outcome after ``since`` (UNIX seconds), with when."""
    return [(row["id"], row["completed_at"]) for row in db.rows(_FINISHED_SINCE, since=since)]


def children(db: Database, parent_id: str) -> list[str]:
    """Child job ids in circuit submission order."""
    return [row["id"] for row in db.rows(_CHILDREN, parent_id=parent_id)]


def result(db: Database, job_id: str, kind: str) -> str | None:
    """A stored result document (JSON text)."""
    found = db.rows(_RESULT, job_id=job_id, kind=kind)
    return found[0]["data"] if found else None


def child_shapes(db: Database, parent_id: str) -> list[tuple[int, str | None]]:
    """Each child's qubit count and ``output`` (JSON), in submission order."""
    return [(row["qubits"], row["output"]) for row in db.rows(_CHILD_SHAPES, parent_id=parent_id)]


def child_results(db: Database, parent_id: str, kind: str) -> list[tuple[str, str | None]]:
    """``(child_id, document)`` for every child, in submission order."""
    return [(row["id"], row["data"]) for row in db.rows(_CHILD_RESULTS, parent_id=parent_id, kind=kind)]


def page(
    conn: Connection,
    project_id: str,
    *,
    limit: int,
    before_seq: int | None = None,
    ids: Sequence[str] = (),
    statuses: Sequence[str] = (),
    backends: Sequence[str] = (),
    parent_id: str | None = None,
    session_id: str | None = None,
    submitter_id: str | None = None,
) -> list[RowMapping]:
    """Newest first; ``before_seq`` is the keyset cursor, so inserts never shift a page."""
    stmt = select(*_VIEW).where(jobs.c.project_id == project_id)
    stmt = stmt.where(jobs.c.parent_id == parent_id if parent_id else jobs.c.parent_id.is_(None))
    if before_seq is not None:
        stmt = stmt.where(jobs.c.seq < before_seq)
    if ids:
        stmt = stmt.where(jobs.c.id.in_(ids))
    if statuses:
        stmt = stmt.where(jobs.c.status.in_(statuses))
    if backends:
        stmt = stmt.where(jobs.c.backend.in_(backends))
    if session_id:
        stmt = stmt.where(jobs.c.session_id == session_id)
    if submitter_id:
        stmt = stmt.where(jobs.c.submitter_id == submitter_id)
    return list(conn.execute(stmt.order_by(jobs.c.seq.desc()).limit(limit)).mappings())


def source(conn: Connection, project_id: str, job_id: str) -> tuple[RowMapping, list[RowMapping]] | None:
    """A job with its stored programs (its own, or its children's in order), for cloning."""
    row = conn.execute(select(jobs).where(jobs.c.id == job_id, jobs.c.project_id == project_id)).mappings().first()
    if row is None:
        return None
    if row["program"] is not None:
        return row, [row]
    kids = select(jobs.c.name, jobs.c.program).where(jobs.c.parent_id == job_id).order_by(jobs.c.position)
    return row, list(conn.execute(kids).mappings())


def _owned(conn: Connection, project_id: str, ids: Iterable[str]) -> list[str]:
    stmt = select(jobs.c.id).where(jobs.c.project_id == project_id, jobs.c.id.in_(list(ids)))
    return list(conn.execute(stmt).scalars())


def cancel(conn: Connection, project_id: str, ids: Sequence[str]) -> list[str]:
    """Cancel the caller's unfinished jobs (and their children); returns the ids found.

    Finished jobs are left as they are: cancel is a no-op once a job has an outcome.
    """
    found = _owned(conn, project_id, ids)
    if found:
        now = time.time()
        conn.execute(
            update(jobs)
            .where(
                (jobs.c.id.in_(found) | jobs.c.parent_id.in_(found)),
                jobs.c.status.not_in(FINISHED),
            )
            .values(status="canceled", completed_at=now, worker_id=None)
        )
        notify.notify(conn, notify.FINISHED)  # wakes long polls waiting on these jobs
    return found


def remove(conn: Connection, project_id: str, ids: Sequence[str]) -> list[str]:
    """Delete the caller's jobs, their children and all their results; returns the ids found."""
    found = _owned(conn, project_id, ids)
    if found:
        family = select(jobs.c.id).where(jobs.c.id.in_(found) | jobs.c.parent_id.in_(found))
        every = list(conn.execute(family).scalars())
        conn.execute(delete(results).where(results.c.job_id.in_(every)))
        conn.execute(delete(jobs).where(jobs.c.id.in_(every)))
    return found
