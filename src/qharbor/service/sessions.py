"""Sessions: a project's reserved run of jobs on one backend, bounded by job count and duration.

Status runs ``created`` → ``started`` (its first job) → ``ended`` (ended by a user, or
on reaching a limit). Jobs join a session by carrying its ``session_id``; the limits
are checked in the transaction that inserts the job, so concurrent submissions
cannot overshoot them.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, RowMapping

from ..core import backends
from ..core.problems import Problems
from ..store import costs as cost_store
from ..store import sessions as store
from ..store.db import Database, reading
from . import costs
from .keys import Principal


class SessionNotFound(Exception):
    def __init__(self, session_id: str) -> None:
        super().__init__(f"no session with id {session_id!r} exists for this API key's project")


@dataclass(frozen=True)
class SessionPage:
    sessions: list[RowMapping]
    next: str | None


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def create(db: Database, who: Principal, body: Any) -> RowMapping:
    p = Problems()
    if not isinstance(body, dict):
        p.add("body", "the request body must be a JSON object with a 'backend'")
        p.raise_if_any()
    backend = backends.for_new_work(body.get("backend"), p)
    settings = body.get("settings") or {}
    if not isinstance(settings, dict):
        p.add("settings", "must be an object")
        settings = {}
    for name in ("job_count_limit", "duration_limit_min"):
        if name in settings and not _positive_int(settings[name]):
            p.add(f"settings.{name}", "must be a positive integer")
    cost = settings.get("cost_limit")
    if cost is not None and not (isinstance(cost, dict) and isinstance(cost.get("value"), (int, float))
                                 and not isinstance(cost.get("value"), bool) and cost["value"] >= 0):
        p.add("settings.cost_limit", "must be {\"unit\": ..., \"value\": a non-negative number}")
    elif cost is not None and str(cost.get("unit", costs.card().currency)).lower() != costs.card().currency.lower():
        p.add("settings.cost_limit.unit", f"must be {costs.card().currency!r}, the rate card's currency")
    p.raise_if_any()
    assert backend is not None
    kept = {k: settings[k] for k in ("job_count_limit", "duration_limit_min", "cost_limit") if k in settings}
    row = {
        "id": str(uuid.uuid4()), "project_id": who.project_id, "creator_id": who.user_id,
        "backend": backend.name, "settings": orjson.dumps(kept).decode(), "status": "created",
        "created_at": time.time(),
    }
    with db.engine.begin() as conn:
        store.insert(conn, row)
        created = store.get(conn, who.project_id, row["id"])
    assert created is not None
    return created


def get(db: Database, who: Principal, session_id: str) -> RowMapping:
    with reading(db.engine) as conn:
        row = store.get(conn, who.project_id, session_id)
    if row is None:
        raise SessionNotFound(session_id)
    return row


def end(db: Database, who: Principal, session_id: str) -> RowMapping:
    """End a session (a no-op if it has ended); its queued jobs still run."""
    with db.engine.begin() as conn:
        row = store.get(conn, who.project_id, session_id, lock=True)
        if row is None:
            raise SessionNotFound(session_id)
        if row["status"] != "ended":
            store.set_state(conn, session_id, status="ended", ended_at=time.time(), ender_id=who.user_id)
        ended = store.get(conn, who.project_id, session_id)
    assert ended is not None
    return ended


def list_sessions(db: Database, who: Principal, *, active: bool | None, limit: int,
                  cursor: str | None) -> SessionPage:
    before = None
    if cursor:
        try:
            before = float(cursor)
        except ValueError:
            p = Problems("query")
            p.add("next", "is not a cursor this server issued")
            p.raise_if_any()
    with reading(db.engine) as conn:
        rows = store.page(conn, who.project_id, active=active, limit=limit + 1, before=before, now=time.time())
    more = len(rows) > limit
    rows = rows[:limit]
    return SessionPage(rows, repr(rows[-1]["created_at"]) if more else None)


def admit_job(conn: Connection, who: Principal, session_id: str, backend: str, now: float,
              cost: float = 0.0) -> None:
    """Check that a job may join the session (in the job's own insert transaction): 400 on
    ``session_id`` if it may not; :class:`costs.QuotaExhausted` if a job costing ``cost``
    would take the session past its ``cost_limit``."""
    p = Problems()
    row = store.get(conn, who.project_id, session_id, lock=True)
    if row is None:
        p.add("session_id", f"no session with id {session_id!r} exists for this API key's project")
        p.raise_if_any()
    assert row is not None
    limits = orjson.loads(row["settings"])
    if status(row, now) == "ended":
        p.add("session_id", f"session {session_id} has ended; create a new one")
    elif row["backend"] != backend:
        p.add("session_id", f"session {session_id} is for backend {row['backend']!r}, not {backend!r}")
    elif "job_count_limit" in limits and store.job_count(conn, session_id) >= limits["job_count_limit"]:
        p.add("session_id", f"session {session_id} has reached its job_count_limit of {limits['job_count_limit']}")
    p.raise_if_any()
    if "cost_limit" in limits:
        costs.check(limits["cost_limit"]["value"], cost_store.session_spent(conn, session_id), cost,
                    f"session {session_id}'s cost_limit")
    if row["status"] == "created":
        minutes = limits.get("duration_limit_min")
        store.set_state(conn, session_id, status="started", started_at=now,
                        expires_at=None if minutes is None else now + 60 * minutes)


def ends_at(row: RowMapping) -> float | None:
    """When the duration limit runs out (the clock starts with the first job; stored then)."""
    return row["expires_at"]  # type: ignore[no-any-return]


def status(row: RowMapping, now: float | None = None) -> str:
    """The stored status, or ``ended`` once the duration limit has passed."""
    limit = ends_at(row)
    if row["status"] != "ended" and limit is not None and (now or time.time()) > limit:
        return "ended"
    return str(row["status"])


def usage_seconds(row: RowMapping, now: float | None = None) -> float:
    if row["started_at"] is None:
        return 0.0
    end = row["ended_at"] or min(now or time.time(), ends_at(row) or float("inf"))
    return max(end - row["started_at"], 0.0)
