"""A worker process: claim a job, simulate it, store the outcome, repeat.

Workers share nothing but the database, so they can run beside the API (started
by ``qharbor serve``) or on other machines (``qharbor worker --database URL``).
"""

from __future__ import annotations

import ctypes
import functools
import logging
import os
import random
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
from ..service import characterizations, estimates, qasm3, qasm3_results, results
from ..service.programs import decode_circuit, noise_model, qasm3_circuit
from ..settings import Settings
from ..store import notify, queue
from ..store.db import UNAVAILABLE, Database, reading

log = logging.getLogger("qharbor.worker")
T = TypeVar("T")

HEARTBEAT_S = 2.0
#: Pauses between tries of a database step while the database is unavailable grow to this.
RETRY_MAX_S = 10.0
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


@functools.cache
def _systematics(backend: str, model: sim.noise.NoiseModel) -> sim.debias.Systematics:
    qpu = characterizations.current(backend)
    assert qpu is not None
    return sim.debias.systematics(backend, qpu.qubits, model, 1 - qpu.fidelity["1q"], 1 - qpu.fidelity["2q"],
                                  qpu.readout_error)


Histogram = dict[str, int]
#: One circuit's outcome: its result documents (``{kind: json}``) and its ``output``.
Ran = tuple[dict[str, str], dict[str, Any]]


def _same(histogram: Histogram) -> Histogram:
    return histogram


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _ideal(job: Any, position: int, circuit: sim.Circuit, options: dict[str, Any], max_exact: int) -> Ran:
    """One circuit on the ideal simulator: its exact probability map while that is small,
    else the job's shots drawn once from the final state (``engine.ideal``)."""
    found, precision = sim.ideal(circuit, job["shots"], results.measurement_rng(job, position), max_exact, **options)
    return ({"probabilities": _dumps(found.as_map(job["shots"]))},
            {"probabilities": "sampled" if found.sampled else "exact", "precision": precision})


def _noisy(job: Any, target_id: str, position: int, circuit: sim.Circuit, model: sim.noise.NoiseModel,
           qpu: characterizations.Characterization | None, options: dict[str, Any],
           relabel: Callable[[Histogram], Histogram] = _same) -> Ran:
    """One circuit under a noise model, like hardware (count/shots): on the simulator one
    trajectory per shot; on an emulated QPU with its systematic errors, readout and, if the
    job is debiased, as variants (engine/debias.py). ``relabel`` maps each histogram's
    outcomes (an OpenQASM 3 program's basis states to its records)."""
    shots, seed = job["shots"], results.seed_of(job)
    sampled = {"probabilities": "sampled"}
    if qpu is None:
        counts = relabel(sim.noisy_counts(circuit, model, shots, seed, position, **options))
        return {"probabilities": _dumps(results.sampled_probabilities(counts, shots))}, sampled
    on = bool(job["debiasing"])  # decided at submission (service/programs.py)
    runs = sim.debias.run(circuit, _systematics(job["backend"], model), qpu.qubits, shots, seed, position,
                          variants=sim.debias.VARIANTS if on else 1, **options)
    histograms = [relabel(h) for _, h in runs]
    if not on:
        return {"probabilities": _dumps(results.sampled_probabilities(histograms[0], shots))}, sampled
    variants = [{"variant_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"qharbor:{target_id}:{v}")),
                 "qubit_map": qubit_map, "shots": sum(h.values())} for v, (qubit_map, h) in enumerate(runs)]
    record = {"variants": variants, "aggregation_method": "average", "histograms": histograms}
    output = {**sampled, "error_mitigation": {"debiasing": {"variants": variants, "aggregation_method": "average"}}}
    return {"probabilities": _dumps(sim.debias.average(histograms)), results.DEBIASING: _dumps(record)}, output


def _run(job: Any, target_id: str, position: int, program: str, model: sim.noise.NoiseModel | None,
         qpu: characterizations.Characterization | None, options: dict[str, Any], settings: Settings) -> Ran:
    """One circuit of a claimed job, on the path its type and backend call for."""
    if job["type"] != qasm3.JOB_TYPE:
        circuit = decode_circuit(program)
        if model is None:
            return _ideal(job, position, circuit, options, settings.max_exact_outcomes)
        return _noisy(job, target_id, position, circuit, model, qpu, options)
    compiled = qasm3.decode(program)  # OpenQASM 3: per-register results (qasm3_results)
    fixed = qasm3_results.static(compiled) if model is not None else None
    if fixed is not None:  # a static program under noise: as a circuit
        documents, output = _noisy(job, target_id, position, fixed.circuit, model, qpu, options, fixed.recorded)
        return {qasm3_results.LAYOUT: fixed.layout, **documents}, output
    # ideal, or dynamic: shot branching
    return qasm3_results.run(compiled, shots=job["shots"], seed=results.seed_of(job),
                             max_exact=settings.max_exact_outcomes, noise=model, **options)


Retry = Callable[[str, Callable[[], T]], T]


def _once(_: str, step: Callable[[], T]) -> T:
    return step()


def execute(db: Database, job: Any, worker_id: str, settings: Settings, retry: Retry[Any] = _once) -> None:
    """Run one claimed job to its outcome; never raises. Its database steps go through
    ``retry`` (:meth:`Worker.retrying`: through an outage, the result waits in memory)."""
    job_id = job["id"]
    started = time.monotonic()
    elapsed_ms = lambda: int((time.monotonic() - started) * 1000)  # noqa: E731

    def store(outcome: Callable[[Connection], bool]) -> bool:
        def step() -> bool:
            with db.begin() as conn:
                return outcome(conn)

        return retry(f"storing job {job_id}", step)

    try:
        try:
            finished: dict[str, tuple[dict[str, str], str]] = {}
            qpu = characterizations.current(job["backend"]) if job["backend"].startswith("qpu.") else None
            emulated_ms = 0
            model = noise_model(job["backend"], orjson.loads(job["noise"]) if job["noise"] else None)
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
                        return  # a long batch notices cancel/delete between circuits
                    remaining = max(settings.job_time_limit_s - (time.monotonic() - started), 0.0)
                    options = {"time_limit_s": remaining, "precision": settings.engine_precision,
                               "memory_budget": memory_budget(settings)}
                    documents, output = _run(job, target_id, i, program, model, qpu, options, settings)
                    if qpu is not None:
                        emulated_ms += estimates.circuit_ms(job["backend"], circuit_of(job, program), job["shots"])
                    finished[target_id] = documents, _dumps(output)
                    sampled = sampled or output["probabilities"] == "sampled"
                if multi:
                    finished[job_id] = {}, _dumps({"probabilities": "sampled" if sampled else "exact"})
            # An emulated QPU reports the time the machine would take (gates, readout, reset per shot).
            duration = emulated_ms if qpu else elapsed_ms()
            stored = store(lambda conn: queue.complete(conn, job, worker_id, finished, duration))
        except UNAVAILABLE:
            raise
        except sim.SimulationError as exc:
            stored = store(lambda conn: queue.fail(conn, job, worker_id, exc.code, str(exc), elapsed_ms()))
        except Exception:
            log.exception("job %s failed unexpectedly", job_id)
            stored = store(lambda conn: queue.fail(conn, job, worker_id, "InternalError",
                                                   "the simulator hit an internal error; it has been logged",
                                                   elapsed_ms()))
    except UNAVAILABLE:
        log.warning("job %s: the database stayed unavailable; the job is left to be recovered", job_id)
        return
    if not stored:
        log.warning("job %s (attempt %d) is no longer this worker's: its outcome was discarded (canceled, "
                    "deleted, or given to another worker while this one seemed dead)", job_id, job["attempts"])


def _still_mine(db: Database, job_id: str, worker_id: str) -> bool:
    """Whether the job is still this worker's to run (not canceled, deleted or recovered);
    while the database cannot say, it is."""
    try:
        with reading(db.engine) as conn:
            return queue.still_running(conn, job_id, worker_id)
    except UNAVAILABLE:
        return True


def circuit_of(job: Any, program: str) -> sim.Circuit:
    """A stored program's gates, as counted in ``stats.gate_counts`` (for the emulated time)."""
    if job["type"] == qasm3.JOB_TYPE:
        return qasm3_circuit(None, qasm3.decode(program)).circuit
    return decode_circuit(program)


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
        """``step()``, again and again while the database is unavailable (restarting, out of
        reach, busy): logged, with pauses that grow to :data:`RETRY_MAX_S` (jittered, so many
        workers do not return at once). A worker never gives up on its database — except
        once it is stopping, when it tries for :data:`DRAIN_S` more, then raises."""
        pause, deadline = 0.25, None
        while True:
            try:
                return step()
            except UNAVAILABLE as exc:
                if self.stopping:
                    deadline = deadline or time.monotonic() + DRAIN_S
                    if time.monotonic() > deadline:
                        raise
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                log.warning("%s: the database is unavailable (%s); trying again in %.1f s", what, reason, pause)
                time.sleep(pause * random.uniform(0.5, 1.0))
                pause = min(pause * 2, RETRY_MAX_S)

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
            time.sleep(HEARTBEAT_S)
            if supervisor is not None and os.getppid() != supervisor:  # where the kernel does not tell us
                log.warning("supervisor is gone; worker %s stopping", self.id)
                self.stopping = True
            try:
                with self.db.begin() as conn:
                    if not queue.heartbeat(conn, self.id):  # declared dead after a long stall
                        queue.register(conn, self.id, socket.gethostname(), os.getpid())
                    queue.admit(conn)
                now = time.monotonic()
                if now - last_beat > HEARTBEAT_S + stale_s / 2:
                    in_touch_since = now
                last_beat = now
                if now - last_sweep > stale_s / 2 and now - in_touch_since >= stale_s:
                    last_sweep = now
                    with self.db.begin() as conn:
                        queue.recover_stale(conn, stale_s)
            except UNAVAILABLE as exc:  # the next beat tries again
                log.warning("heartbeat: the database is unavailable (%s)", str(exc).strip().splitlines()[0])
            except Exception:
                log.exception("heartbeat failed")

    def _warm_up(self) -> None:
        """Load (or, on a fresh install, compile) the engine's kernels before taking jobs,
        so the first job does not pay for it against its time limit."""
        sim.warm_up(self.settings.engine_precision)

    def _register(self) -> None:
        with self.db.begin() as conn:
            queue.register(conn, self.id, socket.gethostname(), os.getpid())

    def _next_job(self) -> Any:
        """The oldest queued job, claimed; None when none waits (or the worker is stopping)."""
        if self.stopping or not queue.any_queued(self.db):
            return None
        with self.db.begin() as conn:
            return queue.claim(conn, self.id)

    def _release(self) -> None:
        with self.db.begin() as conn:
            queue.release(conn, self.id)

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
                job = self.retrying("looking for work", self._next_job)
                if job is not None:
                    execute(self.db, job, self.id, self.settings, self.retrying)
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
