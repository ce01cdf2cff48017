"""Job and result queries used by the API: create, read, list, cancel, delete.

All statements are scoped by ``project_id``: a job of another project is
indistinguishable from one that does not exist.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, RowMapping, delete, select, update

from .schema import jobs, results

FINISHED = ("completed", "failed", "canceled")
QUEUED = ("submitted", "ready")

#: Everything the API shows about a job (the stored program is never read here).
_VIEW = [c for c in jobs.c if c.name not in ("program", "worker_id", "attempts")]


def insert(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Insert a job and its children in one statement (one transaction with the caller)."""
    conn.execute(jobs.insert(), list(rows))


def get(conn: Connection, project_id: str, job_id: str) -> RowMapping | None:
    stmt = select(*_VIEW).where(jobs.c.id == job_id, jobs.c.project_id == project_id)
    return conn.execute(stmt).mappings().first()


def children(conn: Connection, parent_id: str) -> list[str]:
    """Child job ids in circuit submission order."""
    stmt = select(jobs.c.id).where(jobs.c.parent_id == parent_id).order_by(jobs.c.position)
    return list(conn.execute(stmt).scalars())


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


def result_data(conn: Connection, job_ids: Sequence[str], kind: str) -> dict[str, str]:
    """Stored result documents (JSON text) of ``kind`` for the given jobs."""
    stmt = select(results.c.job_id, results.c.data).where(
        results.c.job_id.in_(list(job_ids)), results.c.kind == kind
    )
    return dict(conn.execute(stmt).tuples().all())
