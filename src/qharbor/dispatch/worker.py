"""A worker process: claim a job (or a batch of light ones), simulate, store the outcome, repeat.

Workers share nothing but the database, so they can run beside the API (started
by ``qharbor serve``) or on other machines (``qharbor worker --database URL``).
"""

from __future__ import annotations

import ctypes
import functools
import logging
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import orjson
from sqlalchemy import Connection

from .. import engine as sim
from ..core import pricing, runs
from ..settings import Settings
from ..store import notify, queue, retention
from ..store.db import UNAVAILABLE, Database, patiently, reading, reason

log = logging.getLogger("qharbor.worker")
T = TypeVar("T")

#: A stopping worker tries this long more to store the job in hand, then leaves it for recovery.
DRAIN_S = 30.0
#: An idle worker that can be woken by notices (``store/notify.py``) still looks for work this often.
IDLE_RECHECK_S = 0.5
#: Without notices, an idle worker polls (a cheap indexed read), backing off between these.
_POLL_MIN_S, _POLL_MAX_S = 0.001, 0.02


@functools.cache
def memory_budget(settings: Settings) -> int:
    """This worker's share of memory for one simulation (fixed when first asked)."""
    if settings.engine_memory_bytes is not None:
        return settings.engine_memory_bytes
    return sim.available_memory() // max(settings.workers, 1)


Retry = Callable[[str, Callable[[], T]], T]


def _once(_: str, step: Callable[[], T]) -> T:
    return step()


Outcome = Callable[[Connection], bool]


def execute(db: Database, claimed: list[Any], worker_id: str, settings: Settings, retry: Retry[Any] = _once) -> None:
    """Run claimed jobs one after another, then store their outcomes in one transaction (a
    batch of light jobs pays one commit); never raises. Database steps go through ``retry``
    (:meth:`Worker.retrying`: through an outage, the results wait in memory)."""
    which = f"job {claimed[0]['id']}" + (f" and {len(claimed) - 1} more" if len(claimed) > 1 else "")
    try:
        outcomes = [(job, outcome) for job in claimed
                    if (outcome := _run(db, job, worker_id, settings, retry)) is not None]

        def step() -> list[bool]:
            with db.begin() as conn:
                return [store(conn) for _, store in outcomes]

        stored = retry(f"storing {which}", step) if outcomes else []
    except UNAVAILABLE:
        log.warning("%s: the database stayed unavailable; left to be recovered", which)
        return
    for (job, _), ok in zip(outcomes, stored):
        if not ok:
            log.warning("job %s (attempt %d) is no longer this worker's: its outcome was discarded (canceled, "
                        "deleted, or given to another worker while this one seemed dead)", job["id"], job["attempts"])


def _run(db: Database, job: Any, worker_id: str, settings: Settings, retry: Retry[Any]) -> Outcome | None:
    """Simulate one claimed job; how to store its outcome (completed, or failed with a code),
    or None if it stopped being this worker's midway. Raises only ``UNAVAILABLE``."""
    job_id = job["id"]
    started = time.monotonic()
    elapsed_ms = lambda: int((time.monotonic() - started) * 1000)
    try:
        finished: dict[str, tuple[dict[str, str], str]] = {}
        machine = runs.machine(job)
        qpu = machine[1]
        emulated_ms = 0
        if not job["dry_run"]:
            multi = job["type"] == "ionq.multi-circuit.v1"
            if multi:
                def read_children() -> list[tuple[str, str]]:
                    with reading(db.engine) as conn:
                        return queue.child_programs(conn, job_id)

                programs = retry(f"reading job {job_id}", read_children)
            else:
                programs = [(job_id, job["program"])]
            sampled = False
            for i, (target_id, program) in enumerate(programs):
                if i and i % 16 == 0 and not _still_mine(db, job_id, worker_id):
                    return None  # a long batch notices cancel/delete between circuits
                remaining = max(settings.job_time_limit_s - (time.monotonic() - started), 0.0)
                limits = sim.Limits(remaining, settings.engine_precision, memory_budget(settings),
                                    settings.max_exact_outcomes, settings.engine_gpu == "auto")
                documents, output, machine_ms = runs.circuit(job, target_id, i, program, machine, limits)
                emulated_ms += machine_ms
                finished[target_id] = documents, orjson.dumps(output).decode()
                sampled = sampled or output.get("probabilities") == "sampled"
            if multi:
                finished[job_id] = {}, orjson.dumps({"probabilities": "sampled" if sampled else "exact"}).decode()
        # An emulated QPU reports the time the machine would take (gates, readout, reset per shot).
        duration = emulated_ms if qpu else elapsed_ms()
        cost, compute_us = _priced(job, emulated_ms, settings.prices())
        return lambda conn: queue.complete(conn, job, worker_id, finished, duration, cost, compute_us)
    except UNAVAILABLE:
        raise
    except sim.SimulationError as exc:
        code, message = exc.code, str(exc)
    except Exception:
        log.exception("job %s failed unexpectedly", job_id)
        code, message = "InternalError", "the simulator hit an internal error; it has been logged"
    duration_ms = elapsed_ms()
    return lambda conn: queue.fail(conn, job, worker_id, code, message, duration_ms)


def _priced(job: Any, machine_ms: int, card: pricing.RateCard) -> tuple[float, int]:
    """What the job costs and its quantum compute time, recorded as it completes (a dry run: nothing)."""
    if job["dry_run"]:
        return 0.0, 0
    counts = orjson.loads(job["gate_counts"])
    compute_us = pricing.compute_us(job["backend"], machine_ms)
    return card.cost(job["backend"], job["shots"], counts.get("1q", 0), counts.get("2q", 0), compute_us), compute_us


def _still_mine(db: Database, job_id: str, worker_id: str) -> bool:
    """Whether the job is still this worker's to run (not canceled, deleted or recovered);
    while the database cannot say, it is."""
    try:
        with reading(db.engine) as conn:
            return queue.still_running(conn, job_id, worker_id)
    except UNAVAILABLE:
        return True


class Worker:
    def __init__(self, settings: Settings, worker_id: str | None = None) -> None:
        self.settings = settings
        memory_budget(settings)  # measured at start, before any job's memory is in use
        self.id = worker_id or str(uuid.uuid4())
        self.db = Database(settings.database_url)
        #: Set to stop after the job in hand. A plain flag, not an Event: it is set from a signal
        #: handler, which may interrupt the main thread inside an Event's own lock (a second
        #: SIGTERM then deadlocked the worker in ``Event.set``).
        self.stopping = False
        self.taking_jobs = False  # set once warmed up (see main)

    def retrying(self, what: str, step: Callable[[], T]) -> T:
        """``step()``, through any database outage (``store.db.patiently``): a worker never
        gives up on its database — except once it is stopping, when it tries for
        :data:`DRAIN_S` more, then raises."""
        deadline: float | None = None

        def giving_up() -> bool:
            nonlocal deadline
            if not self.stopping:
                return False
            deadline = deadline or time.monotonic() + DRAIN_S
            return time.monotonic() > deadline

        return patiently(what, step, giving_up)

    def _heartbeat(self) -> None:
        last_sweep = 0.0
        stale_s = self.settings.worker_stale_after_s
        # A worker whose own beat came late (the database was out of reach, restarting, or
        # this process was paused) judges no other worker dead until a whole stale period
        # later: the others were most likely cut off alike and need that long to beat again.
        # Else the first back declared them all dead, and every job in hand ran twice.
        last_beat = time.monotonic()
        in_touch_since = last_beat - stale_s
        supervisor = self.settings.supervisor_pid
        while not self.stopping:
            time.sleep(self.settings.worker_heartbeat_s)
            if supervisor is not None and os.getppid() != supervisor:  # where the kernel does not tell us
                log.warning("supervisor is gone; worker %s stopping", self.id)
                self.stopping = True
            try:
                with self.db.begin() as conn:
                    if not queue.heartbeat(conn, self.id):  # declared dead after a long stall
                        queue.register(conn, self.id, socket.gethostname(), os.getpid())
                    queue.admit(conn)
                now = time.monotonic()
                if now - last_beat > self.settings.worker_heartbeat_s + stale_s / 2:
                    in_touch_since = now
                last_beat = now
                if now - last_sweep > stale_s / 2 and now - in_touch_since >= stale_s:
                    last_sweep = now
                    with self.db.begin() as conn:
                        queue.recover_stale(conn, stale_s, self.settings.max_attempts)
                    self._retain()
            except UNAVAILABLE as exc:  # the next beat tries again
                log.warning("heartbeat: the database is unavailable (%s)", reason(exc))
            except Exception:
                log.exception("heartbeat failed")

    def _retain(self) -> None:
        """Delete finished jobs past ``Settings.retention_days``: batches of 200, at most 10
        a sweep, so a backlog drains over a few sweeps without holding the database."""
        if self.settings.retention_days <= 0:
            return
        before = time.time() - self.settings.retention_days * 86400
        for _ in range(10):
            with self.db.begin() as conn:
                deleted = retention.purge(conn, before, 200)
            if deleted:
                log.info("retention: deleted %d finished jobs older than %g days", deleted,
                         self.settings.retention_days)
            if deleted < 200:
                return

    def _warm_up(self) -> None:
        """Load (or, on a fresh install, compile) the engine's kernels before taking jobs,
        so the first job does not pay for it against its time limit."""
        sim.warm_up(self.settings.engine_precision)

    def _register(self) -> None:
        with self.db.begin() as conn:
            queue.register(conn, self.id, socket.gethostname(), os.getpid())

    def _next_jobs(self) -> list[Any]:
        """The oldest queued job and any light ones behind it, claimed (``queue.claim``); none
        when none waits (or the worker is stopping).
        On SQLite a look (a read) comes first, as a claim takes the writer lock; on PostgreSQL
        the claim is the look (one transaction a job fewer; finding nothing writes nothing)."""
        if self.stopping or (self.db.engine.dialect.name == "sqlite" and not queue.any_queued(self.db)):
            return []
        with self.db.begin() as conn:
            return queue.claim(conn, self.id)

    def _release(self) -> None:
        with self.db.begin() as conn:
            queue.release(conn, self.id, self.settings.max_attempts)

    def run(self) -> None:
        self._warm_up()
        self.taking_jobs = True  # from here a signal lets the loop finish (see main)
        # Listening before the first look, so work queued in between still wakes this worker.
        listener = self.db.listener(notify.QUEUED)
        idle = _POLL_MIN_S
        try:
            self.retrying("registering", self._register)
            threading.Thread(target=self._heartbeat, daemon=True, name="heartbeat").start()
            log.info("worker %s ready: %s precision, memory share %d bytes", self.id,
                     self.settings.engine_precision, memory_budget(self.settings))
            while not self.stopping:
                claimed = self.retrying("looking for work", self._next_jobs)
                if claimed:
                    execute(self.db, claimed, self.id, self.settings, self.retrying)
                    idle = _POLL_MIN_S
                elif listener.live:  # woken by a notice; the slow re-check is a safety net
                    listener.wait(IDLE_RECHECK_S)
                else:  # no notices here: a cheap poll, backing off while idle
                    time.sleep(idle)
                    idle = min(idle * 2, _POLL_MAX_S)
        finally:
            listener.close()
            try:
                self.retrying("releasing", self._release)
            except UNAVAILABLE:  # its job, if any, is recovered once the heartbeat is seen stale
                log.warning("worker %s stopped without reaching the database to release its job", self.id)
            self.db.dispose()


def main(settings: Settings, worker_id: str | None = None) -> None:
    """Run a worker until SIGTERM/SIGINT; the job in hand is finished first. Before it takes
    jobs (while loading its kernels) a signal ends it at once: it holds nothing yet."""
    worker = Worker(settings, worker_id)

    def on_signal(*_: object) -> None:
        if not worker.taking_jobs:
            raise SystemExit(0)
        worker.stopping = True

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    if settings.supervisor_pid is not None:
        _die_with(settings.supervisor_pid)
    worker.run()


def _die_with(supervisor: int) -> None:
    """Have the kernel send SIGTERM when the supervisor exits (Linux ``PR_SET_PDEATHSIG``),
    then make sure it has not exited already: a worker never outlives the ``qharbor serve``
    that started it, however that one ends."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the heartbeat's parent check remains
        pass
    if os.getppid() != supervisor:
        raise SystemExit(0)
