"""The aggregate reads behind ``/metrics`` and ``/ready``: one query each, whatever the
number of API processes and workers (the database is where they all meet)."""

from __future__ import annotations

import functools
import time
from typing import Any

from sqlalchemy import Connection, case, func, select, text

from .db import _MIGRATIONS
from .schema import jobs, workers


def jobs_by_status(conn: Connection) -> list[tuple[str, str, int]]:
    """(status, backend, count) of top-level jobs."""
    stmt = (select(jobs.c.status, jobs.c.backend, func.count()).where(jobs.c.parent_id.is_(None))
            .group_by(jobs.c.status, jobs.c.backend))
    return [(s, b, n) for s, b, n in conn.execute(stmt)]


def durations(conn: Connection, start: Any, end: Any, bounds: list[float]) -> list[tuple[str, int, float, list[int]]]:
    """Per backend, over top-level jobs with both times: (backend, count, sum of end − start,
    count at most each bound)."""
    span = end - start
    where = [jobs.c.parent_id.is_(None), start.is_not(None), end.is_not(None)]
    stmt = (select(jobs.c.backend, func.count(), func.coalesce(func.sum(span), 0.0),
                   *(func.sum(case((span <= b, 1), else_=0)) for b in bounds))
            .where(*where).group_by(jobs.c.backend))
    return [(row[0], row[1], float(row[2]), [int(n or 0) for n in row[3:]]) for row in conn.execute(stmt)]


def worker_heartbeats(conn: Connection) -> list[tuple[str, str, float]]:
    """(worker id, hostname, last heartbeat) of every registered worker."""
    return [(i, h, at) for i, h, at in conn.execute(select(workers.c.id, workers.c.hostname, workers.c.heartbeat_at))]


def live_workers(conn: Connection, stale_after_s: float) -> int:
    cutoff = time.time() - stale_after_s
    return int(conn.execute(select(func.count()).select_from(workers).where(workers.c.heartbeat_at >= cutoff))
               .scalar_one())


def revision(conn: Connection) -> str | None:
    """The database's migration revision."""
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


@functools.cache
def head() -> str:
    """The newest migration revision this code knows."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    found = ScriptDirectory.from_config(config).get_current_head()
    assert found is not None
    return found
