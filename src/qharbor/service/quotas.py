"""Project quotas, checked as a job is admitted (in its insert's transaction, with the
project's row locked, so concurrent submits from any API process cannot overshoot them):
the backends its jobs may use (403 naming the backend) and how many of its jobs may be
unfinished at once (429 naming the quota, with ``Retry-After``); and its ``budget`` in the
rate card's currency (``service/costs.py``): a job that would take the project's spending
past it fails with ``QuotaExhaustedError``."""

from __future__ import annotations

import orjson
from sqlalchemy import Connection

from ..store import costs as cost_store
from ..store import projects as store
from . import costs
from .keys import Principal

#: What a client over its unfinished-jobs quota is told to wait before retrying.
RETRY_AFTER_S = 5


class QuotaRefused(Exception):
    def __init__(self, status: int, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.retry_after = status, message, retry_after


def admit(conn: Connection, who: Principal, backend: str, cost: float = 0.0) -> None:
    """Raise :class:`QuotaRefused` if the project may not add a job on ``backend`` now, and
    :class:`costs.QuotaExhausted` if a job costing ``cost`` would exceed its budget."""
    row = store.get(conn, who.project_id)
    if row is None:
        return
    if row["max_unfinished_jobs"] is not None or row["budget"] is not None:
        # Submits counting against a limit take turns (a plain read is enough for the rest).
        row = store.locked(conn, who.project_id)
        if row is None:
            return
    if row["allowed_backends"] is not None:
        allowed = orjson.loads(row["allowed_backends"])
        if backend not in allowed:
            raise QuotaRefused(403, f"backend {backend!r} is not allowed for this project (allowed_backends: "
                                    f"{', '.join(allowed) or 'none'})")
    most = row["max_unfinished_jobs"]
    if most is not None:
        unfinished = store.unfinished_jobs(conn, who.project_id)
        if unfinished >= most:
            raise QuotaRefused(429, f"quota max_unfinished_jobs of {most} reached: this project has {unfinished} "
                                    "unfinished jobs; retry once one finishes", RETRY_AFTER_S)
    if row["budget"] is not None:
        costs.check(row["budget"], cost_store.project_spent(conn, who.project_id), cost, "the project's budget")
