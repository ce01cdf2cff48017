"""Queries over what jobs cost (``core/pricing.py``): what a project or session has spent,
an organization's finished jobs for usage reports, and the queue's figures for predicting
a new job's wait."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, RowMapping, func, select

from .schema import api_keys, jobs, projects, workers

#: Jobs that count against a budget or a session's cost limit: those that will run or ran
#: (their predicted cost until they complete, then the recorded one). Failed and canceled
#: jobs are not charged.
_CHARGED = ("submitted", "ready", "started", "completed")


def _spent(conn: Connection, *where: Any) -> float:
    stmt = select(func.coalesce(func.sum(jobs.c.cost), 0.0)).where(
        jobs.c.parent_id.is_(None), jobs.c.status.in_(_CHARGED), *where)
    return float(conn.execute(stmt).scalar_one())


def project_spent(conn: Connection, project_id: str) -> float:
    return _spent(conn, jobs.c.project_id == project_id)


def session_spent(conn: Connection, session_id: str) -> float:
    return _spent(conn, jobs.c.session_id == session_id)


def completed(conn: Connection, organization_id: str, since: float, until: float,
              project_id: str | None = None) -> list[RowMapping]:
    """An organization's completed top-level jobs with ``since <= completed_at < until`` (one
    project's if given), with their project's and submitter's names."""
    named = (jobs.outerjoin(projects, projects.c.id == jobs.c.project_id)
             .outerjoin(api_keys, api_keys.c.user_id == jobs.c.submitter_id))
    stmt = (select(jobs.c.id, jobs.c.name, jobs.c.project_id, jobs.c.submitter_id, jobs.c.completed_at,
                   jobs.c.cost, jobs.c.quantum_time_us, projects.c.name.label("project_name"),
                   api_keys.c.name.label("user_name"))
            .select_from(named)
            .where(jobs.c.organization_id == organization_id, jobs.c.parent_id.is_(None),
                   jobs.c.completed_at >= since, jobs.c.completed_at < until, jobs.c.status == "completed"))
    if project_id is not None:
        stmt = stmt.where(jobs.c.project_id == project_id)
    return list(conn.execute(stmt).mappings())


def queue_figures(conn: Connection, recent: int = 50) -> tuple[int, int, int, float | None]:
    """``(waiting, running, workers, mean run seconds of the newest ``recent`` completed jobs
    or None)`` — top-level jobs only (children run with their parent)."""
    top = jobs.c.parent_id.is_(None)
    counts: dict[str, int] = dict(conn.execute(select(jobs.c.status, func.count()).where(
        top, jobs.c.status.in_(("submitted", "ready", "started"))).group_by(jobs.c.status)).tuples().all())
    newest = (select((jobs.c.completed_at - jobs.c.started_at).label("run"))
              .where(top, jobs.c.status == "completed", jobs.c.started_at.is_not(None))
              .order_by(jobs.c.completed_at.desc()).limit(recent).subquery())
    mean = conn.execute(select(func.avg(newest.c.run))).scalar_one()
    alive = conn.execute(select(func.count()).select_from(workers)).scalar_one()
    return (counts.get("submitted", 0) + counts.get("ready", 0), counts.get("started", 0), int(alive),
            None if mean is None else float(mean))
