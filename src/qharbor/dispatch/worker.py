"""A worker process: claim a job, simulate it, store the outcome, repeat.

Workers share nothing but the database, so they can run beside the API (started
by ``qharbor serve``) or on other machines (``qharbor worker --database URL``).
"""

from __future__ import annotations

import functools
import logging
import os
import signal
import socket
import threading
import time
import uuid
from typing import Any

import orjson
from sqlalchemy import Engine, exists, select

from .. import engine as sim
from ..service.programs import decode_circuit
from ..settings import Settings
from ..store import queue
from ..store.db import open_engine, reading
from ..store.schema import jobs

log = logging.getLogger("qharbor.worker")

HEARTBEAT_S = 2.0
IDLE_POLL_S = (0.005, 0.1)  # back off from the first to the second while the queue is empty


def _has_work(engine: Engine) -> bool:
    """A read-only peek, so idle workers never take SQLite's write lock."""
    queued = exists().where(jobs.c.status.in_(("submitted", "ready")), jobs.c.parent_id.is_(None))
    with reading(engine) as conn:
        return bool(conn.execute(select(queued)).scalar())


@functools.cache
def memory_budget(settings: Settings) -> int:
    """This worker's share of memory for one simulation (fixed when first asked)."""
    if settings.engine_memory_bytes is not None:
        return settings.engine_memory_bytes
    return sim.available_memory() // max(settings.workers, 1)


def execute(engine: Engine, job: Any, worker_id: str, settings: Settings) -> None:
    """Run one claimed job to its outcome; never raises."""
    job_id = job["id"]
    started = time.monotonic()
    elapsed_ms = lambda: int((time.monotonic() - started) * 1000)  # noqa: E731
    try:
        documents: dict[str, dict[str, str]] = {}
        if not job["dry_run"]:
            if job["type"] == "ionq.multi-circuit.v1":
                with reading(engine) as conn:
                    programs = queue.child_programs(conn, job_id)
            else:
                programs = [(job_id, job["program"])]
            for i, (target_id, program) in enumerate(programs):
                if i and i % 16 == 0:  # a long batch notices cancel/delete between circuits
                    with reading(engine) as conn:
                        if not queue.still_running(conn, job_id, worker_id):
                            return
                remaining = settings.job_time_limit_s - (time.monotonic() - started)
                probs = sim.simulate(decode_circuit(program), time_limit_s=max(remaining, 0.0),
                                     precision=settings.engine_precision,
                                     memory_budget=memory_budget(settings))
                result = sim.probabilities(probs, settings.max_result_entries)
                documents[target_id] = {"probabilities": orjson.dumps(result).decode()}
        with engine.begin() as conn:
            queue.complete(conn, job_id, worker_id, documents, elapsed_ms())
    except sim.SimulationError as exc:
        with engine.begin() as conn:
            queue.fail(conn, job_id, worker_id, exc.code, str(exc), elapsed_ms())
    except Exception:
        log.exception("job %s failed unexpectedly", job_id)
        with engine.begin() as conn:
            queue.fail(conn, job_id, worker_id, "InternalError",
                       "the simulator hit an internal error; it has been logged", elapsed_ms())


class Worker:
    def __init__(self, settings: Settings, worker_id: str | None = None) -> None:
        self.settings = settings
        memory_budget(settings)  # measured at start, before any job's memory is in use
        self.id = worker_id or str(uuid.uuid4())
        self.engine = open_engine(settings.database_url)
        self.stopping = threading.Event()

    def _heartbeat(self) -> None:
        parent = os.getppid()
        last_sweep = 0.0
        while not self.stopping.wait(HEARTBEAT_S):
            if os.getppid() != parent and os.environ.get("QHARBOR_SUPERVISED"):
                log.warning("supervisor is gone; worker %s stopping", self.id)
                self.stopping.set()
            try:
                with self.engine.begin() as conn:
                    if not queue.heartbeat(conn, self.id):  # declared dead after a long stall
                        queue.register(conn, self.id, socket.gethostname(), os.getpid())
                    queue.admit(conn)
                if time.monotonic() - last_sweep > self.settings.worker_stale_after_s / 2:
                    last_sweep = time.monotonic()
                    with self.engine.begin() as conn:
                        queue.recover_stale(conn, self.settings.worker_stale_after_s)
            except Exception:  # the database may be briefly unavailable; keep trying
                log.exception("heartbeat failed")

    def run(self) -> None:
        with self.engine.begin() as conn:
            queue.register(conn, self.id, socket.gethostname(), os.getpid())
        threading.Thread(target=self._heartbeat, daemon=True, name="heartbeat").start()
        log.info("worker %s ready", self.id)
        idle = IDLE_POLL_S[0]
        try:
            while not self.stopping.is_set():
                job = None
                if _has_work(self.engine):
                    with self.engine.begin() as conn:
                        job = queue.claim(conn, self.id)
                if job is None:
                    self.stopping.wait(idle)
                    idle = min(idle * 2, IDLE_POLL_S[1])
                    continue
                idle = IDLE_POLL_S[0]
                execute(self.engine, job, self.id, self.settings)
        finally:
            with self.engine.begin() as conn:
                queue.release(conn, self.id)
            self.engine.dispose()


def main(settings: Settings, worker_id: str | None = None) -> None:
    """Run a worker until SIGTERM/SIGINT; the job in hand is finished first."""
    worker = Worker(settings, worker_id)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: worker.stopping.set())
    worker.run()
