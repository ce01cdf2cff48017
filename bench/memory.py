"""Memory that scales with the work: a worker's peak for a wide job, the API's after many reads.

    .venv/bin/python bench/memory.py [--qubits 26] [--precision single] [--reads 2000]

Starts a real ``qharbor serve --workers 1`` on a fresh data directory and reads the
processes' memory from ``/proc`` (Linux):

1. **Worker peak for one wide job.** The worker's peak resident set (``VmHWM``) is reset
   (``clear_refs``) once the worker is idle and warm, a ``--qubits``-qubit job of random
   layers (``bench/circuits.py``) runs to completion, and the new peak is compared with the
   state vector itself (2^n amplitudes, real and imaginary parts: 8 bytes each in single
   precision, 16 in double). Reported: the idle resident set, the peak, and the peak's
   increase over idle as a multiple of the state vector (the job's own memory; the idle
   process — Python, numba, LLVM, SQLAlchemy — is there whatever the job).
2. **API process after many result reads.** The API's resident set before and after
   ``--reads`` reads of every result format of ``--jobs`` finished 22-qubit jobs with
   10,000 shots (the largest stored results an ideal job of that width has), with the
   bytes served: the API keeps no results in memory, so it must not grow with them.

The script exits non-zero if the worker's increase exceeds ``--max-ratio`` (1.25) times the
state vector, or the API grows by more than ``--max-api-growth-mib`` (64).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from circuits import ionq_job, random_layers
from common import first_key, free_port, http, process, qharbor_serve, wait_healthy, wait_ready

FORMATS = ["probabilities", "histogram", "shots"]
ARTIFACTS = ["ionq.result.probabilities.json.v2", "ionq.result.histogram.json.v2", "ionq.result.shots.json.v2"]


def status(pid: int) -> dict[str, int]:
    """``/proc/<pid>/status`` memory lines, in bytes."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            out[name] = int(value.split()[0]) * 1024
    return out


def worker_pid(serve_pid: int) -> int:
    found = subprocess.run(["pgrep", "-P", str(serve_pid), "-f", "qharbor worker"], capture_output=True, text=True)
    pids = [int(p) for p in found.stdout.split()]
    if len(pids) != 1:
        sys.exit(f"expected one worker process under {serve_pid}, found {pids}")
    return pids[0]


def run_job(port: int, key: str, body: dict, timeout: float = 600.0) -> dict:
    status_code, answer = http("POST", port, "/v0.4/jobs", key, json.dumps(body).encode())
    assert status_code == 201, answer
    job_id = json.loads(answer)["id"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = json.loads(http("GET", port, f"/v0.4/jobs/{job_id}", key, timeout=30)[1])
        if job["status"] in ("completed", "failed", "canceled"):
            return job
    sys.exit(f"job {job_id} did not finish in {timeout:.0f} s")


def mib(n: float) -> str:
    return f"{n / 2**20:.0f} MiB"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--qubits", type=int, default=26)
    ap.add_argument("--precision", choices=["single", "double"], default="single")
    ap.add_argument("--jobs", type=int, default=5, help="22-qubit jobs whose results the API serves")
    ap.add_argument("--reads", type=int, default=2000, help="result reads in all")
    ap.add_argument("--max-ratio", type=float, default=1.25)
    ap.add_argument("--max-api-growth-mib", type=float, default=64)
    args = ap.parse_args()

    port = free_port()
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="qharbor-memory-") as tmp:
        log = Path(tmp) / "serve.log"
        env = {"QHARBOR_ENGINE_PRECISION": args.precision}
        with process(qharbor_serve(Path(tmp) / "data", port, 1), log, env) as serve:
            wait_healthy(serve, port, log)
            wait_ready(serve, log, 1)
            key = first_key(log)
            worker = worker_pid(serve.pid)
            run_job(port, key, ionq_job(random_layers(12), 100))  # warm: every path loaded once
            time.sleep(1.0)
            idle = status(worker)["VmRSS"]
            Path(f"/proc/{worker}/clear_refs").write_text("5")  # reset VmHWM to the current RSS
            job = run_job(port, key, ionq_job(random_layers(args.qubits), 1000))
            peak = status(worker)["VmHWM"]
            state = (1 << args.qubits) * (8 if args.precision == "single" else 16)
            ratio = (peak - idle) / state
            print(f"# {args.qubits} qubits, {args.precision} precision, 1 worker; job {job['status']},"
                  f" {job['execution_duration_ms']} ms, output {job.get('output')}")
            print("| worker | resident set |\n|---|---|")
            print(f"| idle (warm) | {mib(idle)} |\n| peak during the job | {mib(peak)} |")
            print(f"| state vector (2^{args.qubits} × {state >> args.qubits} B) | {mib(state)} |")
            print(f"| peak − idle | {mib(peak - idle)} = **{ratio:.3f}×** the state vector |")
            if job["status"] != "completed":
                failures.append(f"the {args.qubits}-qubit job {job['status']}: {job.get('failure')}")
            if ratio > args.max_ratio:
                failures.append(f"worker peak − idle is {ratio:.3f}× the state vector (> {args.max_ratio})")

            ids = [run_job(port, key, ionq_job(random_layers(22, seed=s), 10_000))["id"] for s in range(args.jobs)]
            paths = [f"/v0.4/jobs/{i}/results/{f}" for i in ids for f in FORMATS]
            paths += [f"/v0.4/jobs/{i}/artifacts/{a}" for i in ids for a in ARTIFACTS]
            for p in paths:  # one warm-up round: allocator pools, caches
                http("GET", port, p, key, timeout=30)
            before = status(serve.pid)["VmRSS"]
            served = 0
            for n in range(args.reads):
                served += len(http("GET", port, paths[n % len(paths)], key, timeout=30)[1])
            after = status(serve.pid)["VmRSS"]
            sizes = [len(http("GET", port, p, key, timeout=30)[1]) for p in paths]
            print(f"\n# API process: {args.reads} result reads of {len(paths)} documents"
                  f" ({mib(min(sizes))}–{mib(max(sizes))} each, {np.median(sizes) / 1024:.0f} KiB median),"
                  f" {mib(served)} served")
            print("| API | resident set |\n|---|---|")
            print(f"| before the reads | {mib(before)} |\n| after | {mib(after)} |\n| growth | {mib(after - before)} |")
            if after - before > args.max_api_growth_mib * 2**20:
                failures.append(f"the API grew by {mib(after - before)} (> {args.max_api_growth_mib} MiB)")
    if failures:
        print("\nFAILED:\n  " + "\n  ".join(failures))
        sys.exit(1)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
