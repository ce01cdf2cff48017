"""The dispatch queue: every statement workers use to claim, finish and recover jobs.

A job is claimed by one ``UPDATE ... WHERE seq = (oldest queued) RETURNING``; light jobs
queued next behind a light one are taken with it (:data:`LIGHT`, :func:`claim`). On PostgreSQL
the selects take ``FOR UPDATE SKIP LOCKED``, so concurrent workers each get different rows
without waiting; on SQLite the writer lock (``BEGIN IMMEDIATE``) makes the same statements
atomic.
Completion is guarded by ``status='started' AND worker_id=me AND attempts=this run``: a job
canceled, deleted or handed to another worker meanwhile is never overwritten.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, RowMapping, bindparam, delete, func, insert, select, text, update

from . import notify
from .db import Database
from .jobs import QUEUED
from .schema import jobs, results, workers

MULTI = "ionq.multi-circuit.v1"


def admit(conn: Connection, batch: int = 1000) -> int:
    """Move accepted jobs (``submitted``) into the queue proper (``ready``).

    Run by every worker's heartbeat, so jobs waiting behind busy workers show as
    ``ready``; an idle worker claims a ``submitted`` job directly.
    """
    pending = select(jobs.c.seq).where(jobs.c.status == "submitted").order_by(jobs.c.seq).limit(batch)
    if conn.dialect.name == "postgresql":
        pending = pending.with_for_update(skip_locked=True)
    return conn.execute(update(jobs).where(jobs.c.seq.in_(pending.scalar_subquery())).values(status="ready")).rowcount


#: Top-level jobs waiting for a worker (children run with their parent), oldest first, read
#: off the queue's own partial index (``jobs_waiting``) so a look costs the same however many
#: jobs have run. SQLite's planner (no statistics) would rather walk the parent index and
#: sort every top-level job ever run (2.5 ms at 20,000 jobs, vs 10 us), so there it is named.
_SQLITE_WAITING = ("SELECT seq FROM jobs INDEXED BY jobs_waiting WHERE status IN ('submitted', 'ready')"
                   " AND parent_id IS NULL {after}ORDER BY seq LIMIT {limit}")
_WAITING = {
    "sqlite": text(_SQLITE_WAITING.format(after="", limit="1")).columns(jobs.c.seq),
    "postgresql": select(jobs.c.seq).where(jobs.c.status.in_(QUEUED), jobs.c.parent_id.is_(None))
                  .order_by(jobs.c.seq).limit(1),
}


def any_queued(db: Database) -> bool:
    """Whether a job waits for a worker: the cheap read idle workers repeat (``Database.rows``)."""
    return bool(db.rows(_WAITING[db.engine.dialect.name]))


#: A claim takes more than one job only when they are *light*: one small ideal circuit with
#: few shots, whose simulation costs less than claiming and storing it (a Bell pair: 0.2 ms to
#: simulate, 2.3 ms of dispatch one at a time; bench/scale.py). Under a deep queue of such jobs
#: a worker then pays one claim and one completion for up to :data:`BATCH` of them. A heavier
#: job is always claimed alone, and nothing is taken behind one: only jobs cheaper than their
#: own dispatch ever wait for another's run. Evaluated in SQL, and returned with each claimed
#: job as ``light``. (A simulator job's ``noise`` is stored as ``{"model": ..., "seed"?: ...}``,
#: model first: ``service/programs.py``.)
LIGHT = ((jobs.c.type == "ionq.circuit.v1") & (jobs.c.backend == "simulator")
         & jobs.c.noise.startswith('{"model":"ideal"', autoescape=True)
         & (jobs.c.qubits <= 12) & (jobs.c.shots <= 10_000) & (func.length(jobs.c.program) <= 8192))
BATCH = 16

_CLAIMED = (
    jobs.c.id, jobs.c.seq, jobs.c.type, jobs.c.program, jobs.c.dry_run, jobs.c.shots, jobs.c.noise,
    jobs.c.attempts, jobs.c.backend, jobs.c.seed, jobs.c.debiasing, jobs.c.gate_counts, LIGHT.label("light"),
)


def _claim(which):  # type: ignore[no-untyped-def]
    return (
        update(jobs)
        .where(which)
        .values(status="started", worker_id=bindparam("me"), started_at=bindparam("now"),
                attempts=jobs.c.attempts + 1)
        .returning(*_CLAIMED)
    )


def _next(dialect: str):  # type: ignore[no-untyped-def]
    """The jobs queued next after the one just claimed, oldest first (the claim then takes the
    light ones among them: a bounded look, however many heavy jobs wait behind). A statement of
    its own: as ``seq IN (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED)`` inside the UPDATE, with
    the light filter outside, PostgreSQL claimed all 19 queued jobs, not 16
    (``tests/store/test_queue.py``): a planner may run such a subquery more than once."""
    if dialect == "sqlite":
        return text(_SQLITE_WAITING.format(after="AND seq > :after ", limit=":n"))
    return (_WAITING["postgresql"].where(jobs.c.seq > bindparam("after"))  # type: ignore[attr-defined]
            .limit(bindparam("n")).with_for_update(skip_locked=True))


# Statements workers run once per job, built once (building one costs more than running it).
# The head's claim compares with one value (an InitPlan, run once), never ``IN`` (see _next).
_CLAIM = {"sqlite": _claim(jobs.c.seq == _WAITING["sqlite"].scalar_subquery()),
          "postgresql": _claim(jobs.c.seq == _WAITING["postgresql"].with_for_update(skip_locked=True)  # type: ignore[attr-defined]
                               .scalar_subquery())}
_NEXT = {dialect: _next(dialect) for dialect in ("sqlite", "postgresql")}
_CLAIM_MORE = _claim(jobs.c.seq.in_(bindparam("seqs", expanding=True)) & LIGHT)
_CLAIM_CHILDREN = (
    update(jobs)
    .where(jobs.c.parent_id == bindparam("job_id"), jobs.c.status.in_(QUEUED))
    .values(status="started", worker_id=bindparam("me"), started_at=bindparam("now"))
)


def claim(conn: Connection, worker_id: str, batch: int = BATCH) -> list[RowMapping]:
    """Take the oldest queued top-level job (and a multi-circuit job's children) and, if it is
    light, the light ones among the ``batch - 1`` queued next; mark them started, oldest first.
    Empty when nothing waits."""
    now = time.time()
    params = {"me": worker_id, "now": now}
    head = conn.execute(_CLAIM[conn.dialect.name], params).mappings().first()
    if head is None:
        return []
    if head["type"] == MULTI:
        conn.execute(_CLAIM_CHILDREN, {"job_id": head["id"], "me": worker_id, "now": now})
    if not head["light"] or batch <= 1:
        return [head]
    seqs = list(conn.execute(_NEXT[conn.dialect.name], {"after": head["seq"], "n": batch - 1}).scalars())
    if not seqs:
        return [head]
    more = conn.execute(_CLAIM_MORE, {**params, "seqs": seqs}).mappings()
    return [head, *sorted(more, key=lambda job: job["seq"])]


def child_programs(conn: Connection, parent_id: str) -> list[tuple[str, str]]:
    stmt = select(jobs.c.id, jobs.c.program).where(jobs.c.parent_id == parent_id).order_by(jobs.c.position)
    return list(conn.execute(stmt).tuples())


_STILL_RUNNING = select(jobs.c.id).where(jobs.c.id == bindparam("job_id"), jobs.c.status == "started",
                                         jobs.c.worker_id == bindparam("me"))


def still_running(conn: Connection, job_id: str, worker_id: str) -> bool:
    return conn.execute(_STILL_RUNNING, {"job_id": job_id, "me": worker_id}).first() is not None


# Completion is fenced by (worker, attempt): only the run that holds the job's current claim
# may finish it. A worker presumed dead (a stalled heartbeat) whose job went to another
# worker, or back to the queue, and that comes back later, stores nothing.
_THIS_RUN = ((jobs.c.id == bindparam("job_id")) & (jobs.c.status == "started")
             & (jobs.c.worker_id == bindparam("me")) & (jobs.c.attempts == bindparam("attempt")))
_ITS_CHILDREN = ((jobs.c.parent_id == bindparam("job_id")) & (jobs.c.status == "started")
                 & (jobs.c.worker_id == bindparam("me")))


def _finish(conn: Connection, job: Mapping[str, Any], worker_id: str, output: str | None = None,
            own: Mapping[str, Any] | None = None, **values: Any) -> bool:
    """Give the job (as claimed; with its own ``output`` and ``own`` values) and a multi-circuit
    job's children an outcome, if this run still holds it."""
    params = {"job_id": job["id"], "me": worker_id, "attempt": job["attempts"]}
    mine = {**values, **(own or {})} if output is None else {**values, **(own or {}), "output": output}
    if not conn.execute(update(jobs).where(_THIS_RUN).values(**mine), params).rowcount:
        return False
    if job["type"] == MULTI:  # only those have children
        conn.execute(update(jobs).where(_ITS_CHILDREN).values(**values), params)
    notify.notify(conn, notify.FINISHED)
    return True


_OUTPUT = update(jobs).where(jobs.c.id == bindparam("jid")).values(output=bindparam("output"))


def complete(
    conn: Connection, job: Mapping[str, Any], worker_id: str, finished: Mapping[str, tuple[Mapping[str, str], str]],
    duration_ms: int, cost: float = 0.0, quantum_time_us: int = 0,
) -> bool:
    """Store each job's result documents and output (``{job_id: ({kind: json}, output json)}``,
    the job and, for a multi-circuit parent, each child) and mark the family completed; the job
    itself records its ``cost`` and ``quantum_time_us`` (``core/pricing.py``).

    Returns False, storing nothing, if ``job`` (as claimed) is no longer this run's to finish.
    """
    own = finished.get(job["id"])  # its output goes in with its status: one statement fewer
    if not _finish(conn, job, worker_id, status="completed", completed_at=time.time(),
                   execution_duration_ms=duration_ms, output=own[1] if own else None,
                   own={"cost": cost, "quantum_time_us": quantum_time_us}):
        return False
    children = [{"jid": jid, "output": output} for jid, (_, output) in finished.items() if jid != job["id"]]
    if children:
        conn.execute(_OUTPUT, children)
    rows = [
        {"job_id": jid, "kind": kind, "data": data}
        for jid, (by_kind, _) in finished.items()
        for kind, data in by_kind.items()
    ]
    if rows:
        conn.execute(insert(results), rows)
    return True


def fail(conn: Connection, job: Mapping[str, Any], worker_id: str, code: str, message: str,
         duration_ms: int | None) -> bool:
    """Mark ``job`` (as claimed) failed, if it is still this run's to finish."""
    return _finish(conn, job, worker_id, status="failed", completed_at=time.time(),
                   execution_duration_ms=duration_ms, failure_code=code, failure_message=message)


def register(conn: Connection, worker_id: str, hostname: str, pid: int) -> None:
    now = time.time()
    conn.execute(insert(workers).values(id=worker_id, hostname=hostname, pid=pid, started_at=now, heartbeat_at=now))


def heartbeat(conn: Connection, worker_id: str) -> bool:
    """Refresh this worker's liveness; False if it was declared dead meanwhile."""
    result = conn.execute(update(workers).where(workers.c.id == worker_id).values(heartbeat_at=time.time()))
    return result.rowcount > 0


def _recover(conn: Connection, dead: list[str], max_attempts: int) -> int:
    """Requeue (or, after ``max_attempts``, fail) the started jobs of dead workers."""
    if not dead:
        return 0
    owned = (jobs.c.status == "started") & jobs.c.worker_id.in_(dead)
    failed = conn.execute(
        update(jobs)
        .where(owned, jobs.c.parent_id.is_(None), jobs.c.attempts >= max_attempts)
        .values(
            status="failed",
            completed_at=time.time(),
            failure_code="SimulationError",
            failure_message=(
                f"the worker running this job stopped unexpectedly {max_attempts} times"
                " (for example killed for lack of memory); it was not retried again"
            ),
            worker_id=None,
        )
        .returning(jobs.c.id)
    ).scalars().all()
    if failed:
        notify.notify(conn, notify.FINISHED)
        conn.execute(
            update(jobs)
            .where(jobs.c.parent_id.in_(failed), jobs.c.status == "started")
            .values(status="failed", completed_at=time.time(), failure_code="SimulationError",
                    failure_message="the parent job failed", worker_id=None)
        )
    requeued = conn.execute(
        update(jobs).where(owned).values(status="ready", worker_id=None, started_at=None)
    ).rowcount
    if requeued:
        notify.notify(conn, notify.QUEUED)
    conn.execute(delete(workers).where(workers.c.id.in_(dead)))
    return requeued + len(failed)


def release(conn: Connection, worker_id: str, max_attempts: int) -> int:
    """A worker known to be gone (it stopped, or its supervisor saw it exit): recover its jobs now."""
    return _recover(conn, [worker_id], max_attempts)


def recover_stale(conn: Connection, stale_after_s: float, max_attempts: int) -> int:
    """Recover jobs of workers whose heartbeat stopped, or that are not registered at all."""
    cutoff = time.time() - stale_after_s
    dead = list(conn.execute(select(workers.c.id).where(workers.c.heartbeat_at < cutoff)).scalars())
    orphans = conn.execute(
        select(jobs.c.worker_id)
        .where(jobs.c.status == "started", jobs.c.worker_id.is_not(None),
               jobs.c.started_at < cutoff, jobs.c.worker_id.not_in(select(workers.c.id)))
        .distinct()
    ).scalars().all()
    return _recover(conn, dead + list(orphans), max_attempts)
