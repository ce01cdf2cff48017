"""Retention: deleting finished jobs (with their children and results) that ended before a
cutoff, a small batch per transaction so the queue's writers never wait long. Unfinished
jobs are never touched (their ``completed_at`` is NULL); the audit log is not either."""

from __future__ import annotations

from sqlalchemy import Connection, delete, select

from .jobs import FINISHED
from .schema import jobs, results


def purge(conn: Connection, before: float, batch: int) -> int:
    """Delete up to ``batch`` top-level jobs finished before ``before``; returns how many."""
    old = list(conn.execute(
        select(jobs.c.id).where(jobs.c.parent_id.is_(None), jobs.c.status.in_(FINISHED),
                                jobs.c.completed_at < before)
        .order_by(jobs.c.completed_at).limit(batch)).scalars())
    if old:
        family = list(conn.execute(select(jobs.c.id).where(jobs.c.parent_id.in_(old))).scalars()) + old
        conn.execute(delete(results).where(results.c.job_id.in_(family)))
        conn.execute(delete(jobs).where(jobs.c.id.in_(family)))
    return len(old)
