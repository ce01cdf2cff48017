"""qharbor end to end over HTTP against the simulators a user would pick instead.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/e2e.py                                  # 16 20 22 24 26 qubits + small batch
    .venv/bin/python bench/e2e.py --sizes 16 20 --repeat 3 --only random qft
    .venv/bin/python bench/e2e.py --only small --json             # JSON on stdout instead of the tables
    .venv/bin/python bench/e2e.py --json results.json             # the tables, and the JSON in a file

What is compared, per case (the same seeded circuits from ``bench/circuits.py`` for
everyone, 1000 shots, counts as the answer):

* **qharbor e2e**: a real ``qharbor serve --workers 1`` (a subprocess on a fresh temporary
  data directory, SQLite; ``QHARBOR_ENGINE_PRECISION=single`` unless ``--precision``),
  driven over one keep-alive HTTP/1.1 connection (stdlib ``http.client``, request bodies
  serialised beforehand). Timed: ``POST /v0.4/jobs`` → ``GET /v0.4/jobs/{id}`` until the
  status is terminal (the server long-polls: it holds an unfinished job's GET up to 2 s
  until it finishes) → ``GET /v0.4/jobs/{id}/results/histogram``, read to its last byte
  (parsing that JSON is left outside the timer: it is the client library's choice).
* **in-process sim**: ``qharbor.engine.simulate(circuit, Limits(precision=...))`` in this process,
  best of the repeats after a warm-up: the simulation alone, so ``overhead = e2e − sim``
  is everything the service adds (submission, queueing, claim, decode, result map and
  its JSON, storage, completion notice, the long-poll answer, the histogram draw and read).
* **qsim** (qsimcirq): ``QSimSimulator(QSimOptions(cpu_threads=<cores>,
  max_fused_gate_size=f)).run(circuit + terminal measurement, repetitions=shots)`` for f in
  2, 3, 4; the table shows the f with the best median (its documented tuning knob; 2 is its
  default). Precision: qsim is single precision only.
* **qiskit-aer**: ``AerSimulator()`` with its defaults (automatic method → statevector,
  double precision, all cores, fusion on), ``run(qc + measure_all(), shots=shots)
  .result().get_counts()``; for the small batch one ``run()`` on the list of circuits
  (aer's best case: it parallelises across experiments). Skipped above
  ``--aer-max-qubits`` (default 22: random-26 takes aer ~1 min a run here).
* **the small batch** (``small_batch``: 5 qubits, 50 random gates, ``--small`` of them)
  runs through qharbor two ways, both reported: (a) as that many separate jobs submitted
  at once from ``--connections`` threads, each with its own keep-alive connection (each
  thread POSTs its share back to back, then collects each one's completion and
  histogram); timed until the last histogram is read; (b) as one ``ionq.multi-circuit.v1``
  job holding them all (how qiskit-ionq and cirq-ionq submit a list), with its nested
  histogram read once. qsim runs them one ``run()`` after another.

Every case and simulator: one untimed warm-up, then ``--repeat`` timed runs (default 3);
the tables give the median and the spread [min–max]. All harness work happens outside
every timer: circuit conversion, JSON bodies, bit-order transposes, references, checks.

**Agreement, asserted** (the script exits 1 on any disagreement, after printing the
tables). The exact reference is independent of qharbor: qsim's ``simulate()`` final state
(complex64), transposed to qharbor's bit order (qubit q = bit q of the decimal key; cirq
puts qubit 0 in the most significant bit); at or below ``--crosscheck-max-qubits`` (16)
it is itself checked against qiskit's ``Statevector`` (max |Δp| ≤ 1e-5), which also
pins the cirq converter's bit order. Every sampled result (each run of each simulator:
qharbor's histograms, qsim's measurements, aer's counts) must pass, against it:

1. support: every sampled outcome has reference probability above a cut: 1e-9, lowered
   (for wide random circuits, where many genuine outcomes sit below 1e-9) to the level
   under which the reference holds at most 1e-8 of the mass, so a correct sampler trips
   it with probability ≤ 1e-5 per 1000-shot histogram;
2. z-test of the mean reference probability of the samples: E = Σp², Var = Σp³ − (Σp²)²,
   z = (mean − E)/sqrt(Var/shots), |z| < 5 — skipped where sqrt(Var) < 1e-3·E (all
   outcomes about equally likely, e.g. GHZ: no power, and float noise would dominate). A
   sampler from the wrong distribution (wrong bit order, a wrong gate) sits near
   mean = 1/N instead of ≈ 2/N for these circuits: z ≈ −20 at 1000 shots;
3. for distributions with few outcomes (≤ 64 with p > 1e-9; GHZ, the 5-qubit batch) the
   total variation distance to the reference below 1.5·sqrt(k/shots) (three times the
   bound sqrt(k/shots)/2 on its expectation).

Once per case qharbor's ``GET /jobs/{id}/results/probabilities`` is checked too: when the
job's ``output.probabilities`` is ``"exact"`` or absent, every outcome must match the
reference to 1e-5; when it is ``"sampled"`` (ideal jobs with more outcomes than the
server keeps), the values must be the histogram's count/shots.

A job that fails (e.g. today's QuantumCircuitComplexityError above 20 qubits) or does not
finish within ``--job-timeout`` (then it is canceled) is reported as a failure row; the
peers are still measured. Exit status: 1 on any disagreement, else 2 if any qharbor job
failed, else 0.

**Where the time goes** (second table; medians over the timed runs), from the client's
clock and the job's own timestamps (``submitted_at``, ``started_at``, ``completed_at``: the
server's ``time.time()`` truncated to ms; same machine, same clock):

* POST: the client's ``POST /jobs`` round trip (validation, insert, commit);
* queue: ``started_at − submitted_at`` (waiting for the worker's poll and the claim);
* worker: ``completed_at − started_at``: decode + simulation + measuring the state + its JSON
  (``completed_at`` is stamped in the completing transaction *before* the result rows are
  inserted and committed, so storage is not in this column), with ``execution_duration_ms``
  (the worker's own monotonic measure of the same span) beside it, and the in-process
  simulation time and the in-process cost of the result (``engine.measure.measure`` +
  ``orjson.dumps``, what the worker does after simulating) for comparison;
* notice: client saw ``completed`` − ``completed_at``: result insert + commit, the
  long-poll watcher's tick, the re-read and rendering of the job, the answer;
* read: the ``GET …/results/histogram`` round trip (the server draws the histogram from
  the stored probability map on every read).

For the batch of separate jobs it also shows the worker's gap between one job's
``completed_at`` and the next one's ``started_at`` (storing, committing, polling,
claiming) — the per-job cost of a saturated queue. A finer split inside the worker
(decode vs simulate vs map vs JSON vs insert vs commit, per job) needs timestamps the
server does not record; see ``WISHES`` below.

Design choices: one worker by default (``--workers``) so that the worker's simulation has
the machine's cores like the in-process and peer runs (more workers would compete for the
same 2 cores); timings on a shared machine are noisy — the header records the load average
before and after.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import math
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from http.client import HTTPConnection, HTTPException
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", str(os.cpu_count()))

import numpy as np
import orjson
from circuits import (
    cases,
    ionq_job,
    ionq_multi_job,
    to_cirq,
    to_qiskit,
)
from common import (
    HOST,
    REPO,
    first_key,
    free_port,
    http,
    process,
    qharbor_serve,
    wait_healthy,
    wait_ready,
)

from qharbor import engine
from qharbor.engine import Circuit

THREADS = os.cpu_count() or 1
TERMINAL = {"completed", "failed", "canceled"}
FUSIONS = (2, 3, 4)
FEW_OUTCOMES = 64
Z_LIMIT = 5.0
EXACT_TOL = 1e-5

#: What a finer breakdown inside the worker would need (server changes; not made here).
WISHES = (
    "per-job worker phase timings stored with the job (e.g. a `timings` object in the job JSON or a debug "
    "log line): claim (poll wake-up → claimed), decode, simulate, probability map, JSON encode, result insert, "
    "commit — monotonic ms each;",
    "`completed_at` stamped after the result rows are inserted (or a separate `stored_at`), so storage shows "
    "inside the worker span instead of in the notice;",
    "the API's time from the watcher seeing the completion to the answer written (long-poll wake-up latency), "
    "and the histogram draw time on result reads.",
)


# --------------------------------------------------------------------------- formatting

def fmt_s(t: float | None) -> str:
    if t is None or math.isnan(t):
        return "–"
    if abs(t) < 1.0:
        return f"{t * 1e3:.3g} ms"
    return f"{t:.3g} s"


def spread(times: Sequence[float]) -> str:
    if not times:
        return "–"
    return f"{fmt_s(statistics.median(times))} [{fmt_s(min(times))}–{fmt_s(max(times))}]"


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def ratio(a: float, b: float) -> str:
    return "–" if math.isnan(a) or math.isnan(b) or b == 0 else f"{a / b:.2f}×"


def epoch(iso: str | None) -> float:
    return math.nan if iso is None else datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


# --------------------------------------------------------------------------- the reference and the checks

@dataclass
class Reference:
    """Exact probabilities of one circuit in qharbor's bit order, and the statistics the checks use."""

    p: np.ndarray
    cut: float           # sampled outcomes at or below this are "impossible"
    e2: float            # Σp²
    var: float           # Σp³ − (Σp²)²
    few: int             # outcomes with p > 1e-9, when at most FEW_OUTCOMES, else 0

    @classmethod
    def of(cls, p: np.ndarray) -> Reference:
        ordered = np.sort(p)
        mass = np.cumsum(ordered)
        below = int(np.searchsorted(mass, 1e-8, side="right"))
        cut = min(1e-9, float(ordered[below - 1]) if below else 0.0)
        e2 = float(np.dot(p, p))
        var = max(float(np.dot(p * p, p)) - e2 * e2, 0.0)
        k = int(np.count_nonzero(p > 1e-9))
        return cls(p, cut, e2, var, k if k <= FEW_OUTCOMES else 0)


def reference_probabilities(circuit: Circuit) -> np.ndarray:
    """qsim's final state (not qharbor's), as probabilities with qubit q = bit q."""
    import cirq
    import qsimcirq

    n = circuit.qubits
    sim = qsimcirq.QSimSimulator(qsimcirq.QSimOptions(cpu_threads=THREADS, max_fused_gate_size=4))
    state = sim.simulate(to_cirq(circuit), qubit_order=cirq.LineQubit.range(n)).final_state_vector
    p = np.abs(state).astype(np.float64) ** 2
    del state
    return np.ascontiguousarray(p.reshape((2,) * n).transpose().reshape(-1)) if n > 1 else p


def crosscheck(circuit: Circuit, p: np.ndarray) -> str | None:
    """The reference against qiskit's Statevector (a second, independent simulator)."""
    from qiskit.quantum_info import Statevector

    q = Statevector(to_qiskit(circuit)).probabilities()
    worst = float(np.max(np.abs(q - p)))
    return None if worst <= EXACT_TOL else f"reference (qsim) and qiskit Statevector differ by {worst:.2e}"


def check_counts(keys: np.ndarray, counts: np.ndarray, ref: Reference, shots: int) -> str | None:
    """None when the sampled ``counts`` of outcomes ``keys`` agree with ``ref``; else why not."""
    if int(counts.sum()) != shots:
        return f"counts sum to {int(counts.sum())}, not {shots}"
    if keys.size and (keys.min() < 0 or keys.max() >= ref.p.size):
        return f"outcome {int(keys.max())} outside 0..{ref.p.size - 1}"
    ps = ref.p[keys]
    impossible = ps <= ref.cut
    if impossible.any():
        k = int(keys[impossible][0])
        return (f"{int(counts[impossible].sum())} shots on outcomes the reference excludes "
                f"(e.g. {k}: p = {ref.p[k]:.2e} ≤ {ref.cut:.1e})")
    if math.sqrt(ref.var) >= 1e-3 * ref.e2:
        mean = float(np.dot(counts, ps)) / shots
        z = (mean - ref.e2) / math.sqrt(ref.var / shots)
        if abs(z) >= Z_LIMIT:
            return f"mean reference probability of the samples {mean:.3e} vs expected {ref.e2:.3e}: z = {z:.1f}"
    if ref.few:
        tv = 0.5 * (float(np.abs(counts / shots - ps).sum()) + max(1.0 - float(ps.sum()), 0.0))
        bound = 1.5 * math.sqrt(ref.few / shots)
        if tv >= bound:
            return f"total variation {tv:.3f} ≥ {bound:.3f} ({ref.few} outcomes)"
    return None


def histogram_arrays(histogram: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    keys = np.fromiter((int(k) for k in histogram), dtype=np.int64, count=len(histogram))
    return keys, np.fromiter(histogram.values(), dtype=np.int64, count=len(histogram))


def check_probabilities(probabilities: dict[str, float], kind: str, histogram: dict[str, int],
                        ref: Reference, shots: int) -> str | None:
    """qharbor's probability map: exact (to EXACT_TOL everywhere) or the histogram's count/shots."""
    if kind == "sampled":
        if set(probabilities) != set(histogram):
            return "sampled probabilities and histogram name different outcomes"
        off = max((abs(v - histogram[k] / shots) for k, v in probabilities.items()), default=0.0)
        return None if off < 1e-12 else f"sampled probabilities differ from count/shots by {off:.1e}"
    q = np.zeros_like(ref.p)
    keys = np.fromiter((int(k) for k in probabilities), dtype=np.int64, count=len(probabilities))
    if keys.size and (keys.min() < 0 or keys.max() >= q.size):
        return f"probability map has outcome {int(keys.max())} outside 0..{q.size - 1}"
    q[keys] = np.fromiter(probabilities.values(), dtype=np.float64, count=len(probabilities))
    worst = float(np.max(np.abs(q - ref.p)))
    return None if worst <= EXACT_TOL else f"exact probabilities off the reference by {worst:.2e}"


# --------------------------------------------------------------------------- qharbor over HTTP

class Client:
    """One keep-alive HTTP/1.1 connection (stdlib ``http.client``: headers and a bytes body go
    out in one send, so no Nagle/delayed-ACK stall)."""

    def __init__(self, port: int, key: str, timeout: float) -> None:
        self.conn = HTTPConnection(HOST, port, timeout=timeout)
        self.conn.connect()
        self.get_headers = {"Authorization": f"apiKey {key}"}
        self.post_headers = {**self.get_headers, "Content-Type": "application/json"}

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        self.conn.request(method, path, body=body, headers=self.post_headers if body is not None else self.get_headers)
        response = self.conn.getresponse()
        return response.status, response.read()

    def close(self) -> None:
        self.conn.close()


class JobFailed(Exception):
    pass


@dataclass
class JobRun:
    """One job through the API: client times (perf_counter offsets, s) and what the server said."""

    start: float             # time.time() at the POST
    post: float              # POST answered, s after start
    seen: float              # terminal status seen
    read: float              # histogram read (= seen when not completed)
    polls: int
    job: dict[str, Any]
    histogram: bytes = b""

    @property
    def total(self) -> float:
        return self.read

    def server(self, name: str) -> float:
        return epoch(self.job.get(name))

    def breakdown(self) -> dict[str, float]:
        submitted, started, completed = (self.server(k) for k in ("submitted_at", "started_at", "completed_at"))
        ms = self.job.get("execution_duration_ms")
        return {"post": self.post, "queue": started - submitted, "worker": completed - started,
                "exec": math.nan if ms is None else ms / 1e3, "notice": self.start + self.seen - completed,
                "read": self.read - self.seen if self.histogram else math.nan, "polls": float(self.polls)}


def post_job(client: Client, body: bytes) -> tuple[str, float, float, float]:
    """``POST /v0.4/jobs``: the job's id, time.time() and perf_counter before it, perf_counter after."""
    wall, t0 = time.time(), time.perf_counter()
    status, raw = client.request("POST", "/v0.4/jobs", body)
    if status != 201:
        raise JobFailed(f"POST /v0.4/jobs answered {status}: {raw[:300]!r}")
    return orjson.loads(raw)["id"], wall, t0, time.perf_counter()


def collect(client: Client, job_id: str, wall: float, t0: float, t1: float, timeout: float) -> JobRun:
    """``GET /v0.4/jobs/{id}`` until the job is terminal (each GET of an unfinished job is a
    long poll), then, if it completed, ``GET …/results/histogram``."""
    polls = 0
    while True:
        status, raw = client.request("GET", f"/v0.4/jobs/{job_id}")
        polls += 1
        if status != 200:
            raise JobFailed(f"GET /v0.4/jobs/{job_id} answered {status}: {raw[:300]!r}")
        job = orjson.loads(raw)
        if job["status"] in TERMINAL:
            break
        if time.perf_counter() - t0 > timeout:
            client.request("PUT", f"/v0.4/jobs/{job_id}/status/cancel", b"{}")
            raise JobFailed(f"not finished after {timeout:.0f} s (status {job['status']}); canceled")
    t2 = time.perf_counter()
    if job["status"] != "completed":
        return JobRun(wall, t1 - t0, t2 - t0, t2 - t0, polls, job)
    status, histogram = client.request("GET", f"/v0.4/jobs/{job_id}/results/histogram")
    t3 = time.perf_counter()
    if status != 200:
        raise JobFailed(f"GET …/results/histogram answered {status}: {histogram[:300]!r}")
    return JobRun(wall, t1 - t0, t2 - t0, t3 - t0, polls, job, histogram)


def run_job(client: Client, body: bytes, timeout: float) -> JobRun:
    """POST → GET until terminal → GET the histogram, all timed (the JobRun's offsets)."""
    return collect(client, *post_job(client, body), timeout)


def failure_of(job: dict[str, Any]) -> str | None:
    if job["status"] == "completed":
        return None
    failure = job.get("failure") or {}
    return f"{job['status']}: {failure.get('code', '?')}: {failure.get('message', '')}"[:300]


def run_batch(port: int, key: str, bodies: list[bytes], connections: int,
              timeout: float) -> tuple[float, list[JobRun]]:
    """``bodies`` as separate jobs, submitted at once from ``connections`` threads (each
    with its own keep-alive connection, opened beforehand): every thread POSTs its share
    back to back, then waits for each of them and reads its histogram. Returns the time
    from the start to the last histogram read, and every job's run."""
    clients = [Client(port, key, timeout) for _ in range(min(connections, len(bodies)))]
    runs: list[JobRun | None] = [None] * len(bodies)
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(clients) + 1)
    ends: list[float] = []

    def work(c: int) -> None:
        client = clients[c]
        mine = range(c, len(bodies), len(clients))
        barrier.wait()
        try:
            posted = [(i, post_job(client, bodies[i])) for i in mine]
            for i, (job_id, wall, t0, t1) in posted:
                runs[i] = collect(client, job_id, wall, t0, t1, timeout)
            ends.append(time.perf_counter())
        except BaseException as exc:  # reported by the caller
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(c,)) for c in range(len(clients))]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    for client in clients:
        client.close()
    if errors:
        raise JobFailed(f"{type(errors[0]).__name__}: {errors[0]}")
    return max(ends) - start, [r for r in runs if r is not None]


# --------------------------------------------------------------------------- results of one case

@dataclass
class Timing:
    times: list[float] = field(default_factory=list)
    failure: str | None = None
    failed_after: float | None = None   # client time from POST to seeing the failure
    note: str = ""

    @property
    def median(self) -> float:
        return median(self.times)

    def cell(self) -> str:
        if self.failure:
            after = f" after {fmt_s(self.failed_after)}" if self.failed_after is not None else ""
            return f"FAILED{after} ({self.failure[:80]})"
        return spread(self.times) + (f" ({self.note})" if self.note else "")

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"times_s": [round(t, 6) for t in self.times]}
        if self.times:
            out.update(median_s=round(self.median, 6), min_s=round(min(self.times), 6),
                       max_s=round(max(self.times), 6))
        if self.failure:
            out["failure"] = self.failure
            out["failed_after_s"] = self.failed_after
        if self.note:
            out["note"] = self.note
        return out


@dataclass
class Row:
    case: str
    qubits: int
    circuits: int
    mode: str = ""                                     # qharbor's way for the batch
    qharbor: Timing = field(default_factory=Timing)
    sim: float = math.nan                              # in-process simulation, best
    map_json: float = math.nan                         # in-process probability map + JSON, best
    qsim: dict[int, Timing] = field(default_factory=dict)
    aer: Timing | None = None
    breakdown: dict[str, float] = field(default_factory=dict)
    batch: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def best_f(self) -> int | None:
        ok = {f: t for f, t in self.qsim.items() if t.times}
        return min(ok, key=lambda f: ok[f].median) if ok else None

    @property
    def name(self) -> str:
        return f"{self.case} ({self.mode})" if self.mode else self.case


# --------------------------------------------------------------------------- measuring

def best_of(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm-up
    best = math.inf
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def timed(fn: Callable[[], Any], repeat: int) -> tuple[list[float], list[Any]]:
    """One warm-up, then ``repeat`` timed calls; the times and every call's result (warm-up first)."""
    results = [fn()]
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        results.append(fn())
        times.append(time.perf_counter() - t)
    return times, results


def measure_in_process(row: Row, circuits: list[Circuit], precision: str, shots: int, repeat: int) -> None:
    """The simulation alone, and (a diagnostic) what the worker does after it: measuring the
    state (the exact map while small, else the shots) and the result's JSON."""
    row.sim = best_of(lambda: [engine.simulate(c, engine.Limits(precision=precision)) for c in circuits], repeat)
    try:
        from qharbor.settings import Settings

        limit = Settings(database_url="").max_exact_outcomes
        probs = [engine.simulate(c, engine.Limits(precision=precision)) for c in circuits]
        rng = np.random.default_rng(0)
        row.map_json = best_of(lambda: [orjson.dumps(engine.measure.measure(p, shots, rng, limit).as_map(shots))
                                        for p in probs], max(1, min(repeat, 2)))
    except Exception as exc:  # a diagnostic only (engine internals may change)
        row.notes.append(f"in-process map+JSON not measured: {type(exc).__name__}: {exc}")


def measure_qsim(row: Row, circuits: list[Circuit], refs: list[Reference], shots: int, repeat: int,
                 problems: list[str]) -> None:
    import qsimcirq

    native = [to_cirq(c, measure=True) for c in circuits]
    weights = [1 << np.arange(c.qubits, dtype=np.int64) for c in circuits]
    for f in FUSIONS:
        sim = qsimcirq.QSimSimulator(qsimcirq.QSimOptions(cpu_threads=THREADS, max_fused_gate_size=f))
        timing = Timing()
        try:
            timing.times, results = timed(lambda: [sim.run(c, repetitions=shots) for c in native], repeat)
        except Exception as exc:
            timing.failure = f"{type(exc).__name__}: {exc}"
            row.qsim[f] = timing
            continue
        row.qsim[f] = timing
        for run in results:
            for i, result in enumerate(run):
                outcomes = result.measurements["m"].astype(np.int64) @ weights[i]
                keys, counts = np.unique(outcomes, return_counts=True)
                if (why := check_counts(keys, counts, refs[i], shots)) is not None:
                    problems.append(f"{row.case}: qsim f={f}, circuit {i}: {why}")
                    break


def measure_aer(row: Row, circuits: list[Circuit], refs: list[Reference], shots: int, repeat: int,
                problems: list[str]) -> None:
    from qiskit_aer import AerSimulator

    sim = AerSimulator()
    native = [to_qiskit(c, measure=True) for c in circuits]
    job_input = native if len(native) > 1 else native[0]
    row.aer = Timing()
    try:
        row.aer.times, results = timed(lambda: sim.run(job_input, shots=shots).result().get_counts(), repeat)
    except Exception as exc:
        row.aer.failure = f"{type(exc).__name__}: {exc}"
        return
    for run in results:
        for i, counts in enumerate(run if isinstance(run, list) else [run]):
            keys = np.fromiter((int(k.replace(" ", ""), 2) for k in counts), dtype=np.int64, count=len(counts))
            values = np.fromiter(counts.values(), dtype=np.int64, count=len(counts))
            if (why := check_counts(keys, values, refs[i], shots)) is not None:
                problems.append(f"{row.case}: aer, circuit {i}: {why}")
                break


def check_histograms(row: Row, runs: list[JobRun], refs: list[Reference], shots: int, problems: list[str],
                     nested: bool = False) -> None:
    for r, run in enumerate(runs):
        if not run.histogram:
            continue
        doc = orjson.loads(run.histogram)
        histograms = list(doc.values()) if nested else [doc]
        if len(histograms) != len(refs):
            problems.append(f"{row.name}: run {r}: {len(histograms)} histograms for {len(refs)} circuits")
            continue
        for i, histogram in enumerate(histograms):
            keys, counts = histogram_arrays(histogram)
            if (why := check_counts(keys, counts, refs[i], shots)) is not None:
                problems.append(f"{row.name}: qharbor, run {r}, circuit {i}: {why}")
                break


def check_job_probabilities(port: int, key: str, row: Row, job: dict[str, Any], histogram: bytes,
                            refs: list[Reference], shots: int, problems: list[str], nested: bool = False) -> None:
    """Once per case: ``GET …/results/probabilities`` against the reference (outside the timers)."""
    status, raw = http("GET", port, f"/v0.4/jobs/{job['id']}/results/probabilities", key, timeout=120.0)
    if status != 200:
        problems.append(f"{row.name}: GET …/results/probabilities answered {status}: {raw[:200]!r}")
        return
    kind = (job.get("output") or {}).get("probabilities", "exact")
    maps = list(orjson.loads(raw).values()) if nested else [orjson.loads(raw)]
    histograms = list(orjson.loads(histogram).values()) if nested else [orjson.loads(histogram)]
    for i, (probabilities, hist) in enumerate(zip(maps, histograms)):
        if (why := check_probabilities(probabilities, kind, hist, refs[i], shots)) is not None:
            problems.append(f"{row.name}: qharbor probabilities ({kind}), circuit {i}: {why}")
            break


def summarise(runs: list[JobRun]) -> dict[str, float]:
    parts = [r.breakdown() for r in runs]
    return {k: median([p[k] for p in parts]) for k in parts[0]} if parts else {}


def measure_qharbor_job(port: int, key: str, row: Row, circuits: list[Circuit], refs: list[Reference],
                        args: argparse.Namespace, problems: list[str]) -> None:
    """The circuit as one job, or several as one ``ionq.multi-circuit.v1`` job (nested results)."""
    multi = len(circuits) > 1
    body = orjson.dumps(ionq_multi_job(circuits, args.shots) if multi else ionq_job(circuits[0], args.shots))
    runs: list[JobRun] = []
    client = None
    try:
        client = Client(port, key, args.job_timeout + 30)
        for attempt in range(args.repeat + 1):  # the first is the warm-up
            run = run_job(client, body, args.job_timeout)
            if (why := failure_of(run.job)) is not None:
                row.qharbor.failure, row.qharbor.failed_after = why, run.seen
                if not runs[1:]:  # where the time went until it failed
                    row.breakdown = summarise([run])
                    row.notes.append("breakdown: from the failed job")
                break
            runs.append(run)
            if attempt:
                row.qharbor.times.append(run.total)
    except (JobFailed, OSError, HTTPException) as exc:
        row.qharbor.failure = f"{type(exc).__name__}: {exc}"
    finally:
        if client is not None:
            client.close()
    if runs[1:]:
        row.breakdown = summarise(runs[1:])
    check_histograms(row, runs, refs, args.shots, problems, nested=multi)
    if runs:
        check_job_probabilities(port, key, row, runs[-1].job, runs[-1].histogram, refs, args.shots, problems,
                                nested=multi)


def measure_qharbor_batch(port: int, key: str, row: Row, circuits: list[Circuit], refs: list[Reference],
                          args: argparse.Namespace, problems: list[str]) -> None:
    bodies = [orjson.dumps(ionq_job(c, args.shots)) for c in circuits]
    batches: list[list[JobRun]] = []
    try:
        for attempt in range(args.repeat + 1):
            total, runs = run_batch(port, key, bodies, args.connections, args.job_timeout)
            failed = [why for r in runs if (why := failure_of(r.job)) is not None]
            if failed:
                row.qharbor.failure = f"{len(failed)} of {len(runs)} jobs: {failed[0]}"
                break
            batches.append(runs)
            if attempt:
                row.qharbor.times.append(total)
    except (JobFailed, OSError, HTTPException) as exc:
        row.qharbor.failure = f"{type(exc).__name__}: {exc}"
    for b, runs in enumerate(batches):
        for i, run in enumerate(runs):
            doc = orjson.loads(run.histogram)
            keys, counts = histogram_arrays(doc)
            if (why := check_counts(keys, counts, refs[i], args.shots)) is not None:
                problems.append(f"{row.name}: qharbor, batch {b}, job {i}: {why}")
                break
    if not batches:
        return
    last = batches[-1]
    for i, run in enumerate(last):  # every job's probabilities, once
        before = len(problems)
        check_job_probabilities(port, key, row, run.job, run.histogram, [refs[i]], args.shots, problems)
        if len(problems) > before:
            break
    timed_batches = batches[1:] or batches
    if not batches[1:]:
        row.notes.append("breakdown: from the warm-up batch (no timed batch completed)")
    row.breakdown = summarise([r for runs in timed_batches for r in runs])
    gaps, busy, spans = [], [], []
    for runs in timed_batches:
        by_start = sorted(runs, key=lambda r: r.server("started_at"))
        gaps += [b.server("started_at") - a.server("completed_at") for a, b in zip(by_start, by_start[1:])]
        busy.append(sum(r.server("completed_at") - r.server("started_at") for r in runs))
        first = min(r.start for r in runs)
        spans.append(max(r.start + r.post for r in runs) - first)
    row.batch = {"gap": median(gaps), "worker_busy": median(busy), "submit_span": median(spans)}


# --------------------------------------------------------------------------- the run

def versions() -> dict[str, str]:
    found = {}
    for name in ("qharbor", "qsimcirq", "cirq-core", "qiskit-aer", "qiskit", "numpy", "numba"):
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def git_head() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True,
                              timeout=10).stdout.strip() or "?"
    except OSError:
        return "?"


def run_all(args: argparse.Namespace) -> dict[str, Any]:
    problems: list[str] = []
    rows: list[Row] = []
    settings: dict[str, Any] = {
        "cpu": cpu_model(), "cores": THREADS, "versions": versions(), "commit": git_head(),
        "server": {"workers": args.workers, "precision": args.precision, "database": "SQLite (fresh temp dir)",
                   "client": f"http.client, 1 keep-alive connection; batch: {args.connections} connections"},
        "qsim": {"cpu_threads": THREADS, "max_fused_gate_size": list(FUSIONS), "repetitions": args.shots},
        "aer": {"options": "AerSimulator() defaults", "shots": args.shots, "max_qubits": args.aer_max_qubits},
        "shots": args.shots, "repeat": args.repeat, "load_before": os.getloadavg(),
    }
    with tempfile.TemporaryDirectory(prefix="qharbor-e2e-") as tmp:
        tmpdir = Path(tmp)
        log, port = tmpdir / "server.log", free_port()
        env = {"QHARBOR_ENGINE_PRECISION": args.precision}
        with process(qharbor_serve(tmpdir / "data", port, args.workers), log, env=env, stop=signal.SIGINT) as proc:
            wait_healthy(proc, port, log)
            settings["workers_ready_s"] = round(wait_ready(proc, log, args.workers), 1)
            key = first_key(log)
            engine.warm_up(args.precision)
            for name, circuits in cases(args.sizes, args.small, args.only):
                progress(f"{name}: reference")
                row = Row(name, circuits[0].qubits, len(circuits))
                refs = [Reference.of(reference_probabilities(c)) for c in circuits]
                if circuits[0].qubits <= args.crosscheck_max_qubits:
                    for i, (c, ref) in enumerate(zip(circuits, refs)):
                        if (why := crosscheck(c, ref.p)) is not None:
                            problems.append(f"{name}: circuit {i}: {why}")
                            break
                progress(f"{name}: qharbor")
                if len(circuits) == 1:
                    measure_qharbor_job(port, key, row, circuits, refs, args, problems)
                    qharbor_rows = [row]
                else:
                    row.mode = f"{len(circuits)} jobs"
                    measure_qharbor_batch(port, key, row, circuits, refs, args, problems)
                    multi = Row(name, circuits[0].qubits, len(circuits), mode="1 multi-circuit job")
                    measure_qharbor_job(port, key, multi, circuits, refs, args, problems)
                    qharbor_rows = [row, multi]
                progress(f"{name}: in-process, qsim, aer")
                measure_in_process(row, circuits, args.precision, args.shots, args.repeat)
                measure_qsim(row, circuits, refs, args.shots, args.repeat, problems)
                if circuits[0].qubits <= args.aer_max_qubits:
                    measure_aer(row, circuits, refs, args.shots, args.repeat, problems)
                for other in qharbor_rows[1:]:  # the peers and the simulation are the same for both ways
                    other.sim, other.map_json, other.qsim, other.aer = row.sim, row.map_json, row.qsim, row.aer
                rows += qharbor_rows
                del refs
            server_alive = proc.poll() is None
        server_log = log.read_text(errors="replace")
    marks = ("Traceback", "ERROR", "exited with")
    settings["server_log_problems"] = [line for line in server_log.splitlines() if any(m in line for m in marks)][:20]
    if not server_alive:
        settings["server_log_problems"].insert(0, "the server exited during the run")
    settings["load_after"] = os.getloadavg()
    return {"settings": settings, "rows": rows, "problems": problems}


def progress(text: str) -> None:
    print(f"# {time.strftime('%H:%M:%S')} {text}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- output

def overhead(row: Row) -> float:
    return row.qharbor.median - row.sim if row.qharbor.times else math.nan


def agreement(row: Row, problems: list[str]) -> str:
    mine = [p for p in problems if p.startswith(row.name + ":") or p.startswith(row.case + ":")]
    if mine:
        return f"FAIL ({len(mine)})"
    return "ok" if not row.qharbor.failure else "peers ok; qharbor: no result"


def print_tables(report: dict[str, Any]) -> None:
    s, rows, problems = report["settings"], report["rows"], report["problems"]
    v = s["versions"]
    print(f"# {s['cpu']}, {s['cores']} cores; load {s['load_before'][0]:.1f} → {s['load_after'][0]:.1f} (1-min avg); "
          f"qharbor {v['qharbor']} @ {s['commit']}, qsimcirq {v['qsimcirq']} (cirq {v['cirq-core']}), "
          f"qiskit-aer {v['qiskit-aer']} (qiskit {v['qiskit']}), numpy {v['numpy']}, numba {v['numba']}")
    print(f"# qharbor: serve --workers {s['server']['workers']}, precision {s['server']['precision']}, "
          f"{s['server']['database']}, {s['server']['client']}; qsim: cpu_threads={THREADS}, "
          f"max_fused_gate_size best of {'/'.join(map(str, FUSIONS))}; aer: AerSimulator() defaults "
          f"(≤ {s['aer']['max_qubits']} qubits); {s['shots']} shots; {s['repeat']} timed runs after a warm-up, "
          f"median [min–max]; in-process sim: best of {s['repeat']}")
    print()
    print("| case | qharbor e2e | in-process sim | overhead | qsim best | aer default | e2e/qsim | e2e/aer | agreement |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        f = row.best_f
        qsim = row.qsim.get(f) if f is not None else None
        qsim_cell = f"{qsim.cell()} (f={f})" if qsim else "–"
        aer_cell = row.aer.cell() if row.aer else f"not run (> {s['aer']['max_qubits']} qubits)"
        over = overhead(row)
        over_cell = fmt_s(over)
        if row.circuits > 1 and not math.isnan(over):
            over_cell += f" ({fmt_s(over / row.circuits)}/job)"
        print(f"| {row.name} | {row.qharbor.cell()} | {fmt_s(row.sim)} | {over_cell} | {qsim_cell} | {aer_cell} | "
              f"{ratio(row.qharbor.median, qsim.median if qsim else math.nan)} | "
              f"{ratio(row.qharbor.median, row.aer.median if row.aer else math.nan)} | {agreement(row, problems)} |")
    print()
    print("Where qharbor's time goes (medians over the timed runs; server timestamps have 1 ms resolution):")
    print()
    print("| case | POST | queue (started − submitted) | worker (completed − started) | execution_duration_ms "
          "| in-process sim | in-process map+JSON | notice (seen − completed_at) | histogram read | GETs to completion |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        b = row.breakdown
        if not b:
            print(f"| {row.name} | " + " | ".join(["–"] * 9) + " |")
            continue
        print(f"| {row.name} | {fmt_s(b['post'])} | {fmt_s(b['queue'])} | {fmt_s(b['worker'])} | {fmt_s(b['exec'])} "
              f"| {fmt_s(row.sim / row.circuits if row.mode.endswith('jobs') else row.sim)} "
              f"| {fmt_s(row.map_json / row.circuits if row.mode.endswith('jobs') else row.map_json)} "
              f"| {fmt_s(b['notice'])} | {fmt_s(b['read'])} | {b['polls']:.0f} |")
    for row in rows:
        if row.batch:
            t = row.qharbor.median
            print(f"\n{row.name}: per job, medians: POST {fmt_s(row.breakdown['post'])}, worker span "
                  f"{fmt_s(row.breakdown['worker'])} (in-process sim {fmt_s(row.sim / row.circuits)}), gap between "
                  f"one job's completed_at and the next one's started_at {fmt_s(row.batch['gap'])}; all "
                  f"{row.circuits} POSTs answered {fmt_s(row.batch['submit_span'])} after the first was sent; "
                  f"worker busy (Σ completed − started) {fmt_s(row.batch['worker_busy'])} of "
                  f"{fmt_s(t)} in all; the queue and notice columns above include waiting behind earlier jobs "
                  f"(one worker).")
    for row in rows:
        for note in row.notes:
            print(f"\nnote, {row.name}: {note}")
    print("\nA finer split inside the worker needs server support (not changed by this script):")
    for wish in WISHES:
        print(f"  - {wish}")
    goals = goal_lines(rows)
    if goals:
        print("\nGoals (from the issue):")
        for line in goals:
            print(f"  - {line}")
    if s["server_log_problems"]:
        print("\nServer output with errors:")
        for line in s["server_log_problems"]:
            print(f"  {line}")
    if problems:
        print(f"\nDISAGREEMENT ({len(problems)}):")
        for p in problems:
            print(f"  - {p}")


def goal_lines(rows: list[Row]) -> list[str]:
    out = []
    for row in rows:
        e2e = row.qharbor.median if row.qharbor.times else math.nan
        kind = row.case.split("-")[0]
        f = row.best_f
        if kind in ("random", "qft") and row.qubits in (20, 24, 26) and f is not None:
            out.append(_goal(f"{row.name} ≤ 1.0× qsim (f={f})", e2e, row.qsim[f].median, row.qharbor.failure))
        if (kind in ("random", "qft") and row.qubits in (16, 20, 22) or kind == "small") and row.aer and row.aer.times:
            out.append(_goal(f"{row.name} ≤ 1.0× aer", e2e, row.aer.median, row.qharbor.failure))
        if row.qubits <= 20:
            per_job = overhead(row) / row.circuits
            verdict = ("not measured: " + row.qharbor.failure[:60]) if row.qharbor.failure else (
                "met" if per_job <= 5e-3 else "NOT met")
            out.append(f"{row.name}: everything but the simulation {fmt_s(per_job)} per job (≤ 5 ms): {verdict}")
    return out


def _goal(label: str, ours: float, theirs: float, failure: str | None) -> str:
    if failure:
        return f"{label}: not measured ({failure[:60]})"
    r = ours / theirs
    return f"{label}: {r:.2f}× — {'met' if r <= 1.0 else 'NOT met'}"


def to_json(report: dict[str, Any]) -> dict[str, Any]:
    rows = []
    for row in report["rows"]:
        rows.append({
            "case": row.case, "mode": row.mode or "1 job", "qubits": row.qubits, "circuits": row.circuits,
            "qharbor_e2e": row.qharbor.to_json(), "in_process_sim_s": row.sim, "in_process_map_json_s": row.map_json,
            "overhead_s": overhead(row),
            "qsim": {str(f): t.to_json() for f, t in row.qsim.items()}, "qsim_best_f": row.best_f,
            "aer": row.aer.to_json() if row.aer else None,
            "breakdown_s": row.breakdown, "batch_s": row.batch, "notes": row.notes,
            "agreement": agreement(row, report["problems"]),
        })
    nan_free = orjson.loads(orjson.dumps(rows, option=orjson.OPT_SERIALIZE_NUMPY))  # NaN → null
    return {"settings": report["settings"], "rows": nan_free, "problems": report["problems"],
            "goals": goal_lines(report["rows"]), "wishes": list(WISHES)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--sizes", type=int, nargs="+", default=[16, 20, 22, 24, 26])
    p.add_argument("--only", nargs="*", help="case name prefixes: random, qft, ghz, small (default: all)")
    p.add_argument("--repeat", type=int, default=3, help="timed runs per case after one warm-up (default 3)")
    p.add_argument("--shots", type=int, default=1000)
    p.add_argument("--small", type=int, default=200, help="how many 5-qubit, 50-gate circuits (default 200)")
    p.add_argument("--workers", type=int, default=1, help="qharbor serve --workers (default 1)")
    p.add_argument("--precision", choices=("single", "double"), default="single",
                   help="QHARBOR_ENGINE_PRECISION for the server and the in-process runs (default single)")
    p.add_argument("--connections", type=int, default=16, help="connections for the batch of jobs (default 16)")
    p.add_argument("--aer-max-qubits", type=int, default=22, help="run aer up to this many qubits (default 22)")
    p.add_argument("--crosscheck-max-qubits", type=int, default=16,
                   help="check the qsim reference against qiskit's Statevector up to this size (default 16)")
    p.add_argument("--job-timeout", type=float, default=600.0,
                   help="seconds a job may take before it is canceled and reported as failed (default 600)")
    p.add_argument("--json", nargs="?", const="-", metavar="FILE",
                   help="the results as JSON: on stdout instead of the tables, or written to FILE beside them")
    args = p.parse_args(argv)
    if args.repeat < 1:
        p.error("--repeat must be at least 1")

    report = run_all(args)
    if args.json:
        document = orjson.dumps(to_json(report), option=orjson.OPT_INDENT_2) + b"\n"
        if args.json == "-":
            sys.stdout.buffer.write(document)
        else:
            Path(args.json).write_bytes(document)
    if args.json != "-":
        print_tables(report)
    if report["problems"]:
        return 1
    return 2 if any(r.qharbor.failure for r in report["rows"]) else 0


if __name__ == "__main__":
    sys.exit(main())
