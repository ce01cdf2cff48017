"""A ``quantum-function`` (hamiltonian-energy) job end to end against qiskit-aer's EstimatorV2.

A 20-qubit hardware-efficient ansatz (``--layers`` of ry, rz on every qubit and a cx ladder,
bound from ``params``) and a Hamiltonian of ``--terms`` random Pauli strings (each on 1 to 4
random qubits, letters X, Y, Z), in the same run:

The ansatz is ``tests/ansatz.py``'s (OpenQASM 3 for qharbor, the same circuit built in qiskit
for aer).

* **qharbor**: ``qharbor serve --workers 1`` on a fresh data directory; ``POST /v0.4/jobs`` then
  ``GET /v0.4/jobs/{id}`` (a long poll) until completed — the exact value, from the state vector.
* **qiskit-aer** ``EstimatorV2`` in exact mode (its default ``precision=0``: expectation values
  from the state, no shots, statevector method): ``run([(circuit, observable)]).result()``.

Both values must agree to 1e-8 (the script exits non-zero otherwise). Times are medians of
``--repeat`` runs after one warm-up each.

    .venv/bin/python bench/quantum_function.py --qubits 20 --terms 200 --repeat 3
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # the ansatz, written as the tests write it

import ansatz
import numpy as np
from common import HOST, first_key, free_port, process, qharbor_serve, wait_healthy, wait_ready


def problem(n: int, terms: int, layers: int, seed: int) -> tuple[list[tuple[str, float]], list[float]]:
    rng = np.random.default_rng(seed)
    hamiltonian = []
    for _ in range(terms):
        qubits = rng.choice(n, size=int(rng.integers(1, 5)), replace=False)
        hamiltonian.append((" ".join(f"{rng.choice(list('XYZ'))}{q}" for q in sorted(qubits)),
                            float(rng.normal())))
    return hamiltonian, rng.uniform(-np.pi, np.pi, 2 * n * layers).tolist()


def aer(n: int, layers: int, hamiltonian: list[tuple[str, float]], params: list[float],
        repeat: int) -> tuple[float, list[float]]:
    from qiskit.quantum_info import SparsePauliOp
    from qiskit_aer.primitives import EstimatorV2

    qc = ansatz.circuit(n, layers, params)
    op = SparsePauliOp.from_sparse_list(
        [("".join(p[0] for p in s.split()), [int(p[1:]) for p in s.split()], c) for s, c in hamiltonian], n)
    estimator = EstimatorV2(options={"backend_options": {"method": "statevector"}})
    value, times = 0.0, []
    for i in range(repeat + 1):
        t = time.perf_counter()
        value = float(estimator.run([(qc, op)]).result()[0].data.evs)
        if i:
            times.append(time.perf_counter() - t)
    return value, times


def qharbor(n: int, layers: int, hamiltonian: list[tuple[str, float]], params: list[float],
            repeat: int) -> tuple[float, list[float]]:
    body = json.dumps({"type": "quantum-function", "backend": "simulator", "input": {
        "data": {"type": "hamiltonian-energy", "data": {
            "hamiltonian": [{"pauli_string": s, "coefficient": c} for s, c in hamiltonian],
            "ansatz": {"data": ansatz.qasm(n, layers)[0]}}},
        "params": params}}).encode()
    with tempfile.TemporaryDirectory() as tmp:
        port, log = free_port(), Path(tmp) / "server.log"
        with process(qharbor_serve(Path(tmp) / "data", port, 1), log, stop=signal.SIGINT) as proc:
            wait_healthy(proc, port, log)
            wait_ready(proc, log, 1)
            headers = {"Authorization": f"apiKey {first_key(log)}", "Content-Type": "application/json"}
            conn = http.client.HTTPConnection(HOST, port, timeout=120)
            value, times = 0.0, []
            for i in range(repeat + 1):
                t = time.perf_counter()
                conn.request("POST", "/v0.4/jobs", body, headers)
                job_id = json.loads(conn.getresponse().read())["id"]
                while True:
                    conn.request("GET", f"/v0.4/jobs/{job_id}", headers=headers)
                    job = json.loads(conn.getresponse().read())
                    if job["status"] in ("completed", "failed", "canceled"):
                        break
                elapsed = time.perf_counter() - t
                if job["status"] != "completed":
                    sys.exit(f"qharbor job {job_id} {job['status']}: {job['failure']}")
                value = job["results"]["value"]
                if i:
                    times.append(elapsed)
    return value, times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--qubits", type=int, default=20)
    parser.add_argument("--terms", type=int, default=200)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    hamiltonian, params = problem(args.qubits, args.terms, args.layers, args.seed)
    ours, our_times = qharbor(args.qubits, args.layers, hamiltonian, params, args.repeat)
    theirs, their_times = aer(args.qubits, args.layers, hamiltonian, params, args.repeat)
    load = os.getloadavg()[0]
    print(f"{args.qubits} qubits, {args.terms} terms, {args.layers} layers; load average {load:.1f} "
          f"on {os.cpu_count()} cores (a shared machine: times are noisy)")
    print(f"qharbor end to end (POST, long poll): median {statistics.median(our_times) * 1000:.0f} ms  {our_times}")
    print(f"qiskit-aer EstimatorV2 exact:       median {statistics.median(their_times) * 1000:.0f} ms  {their_times}")
    print(f"values: qharbor {ours!r}, aer {theirs!r}, |difference| {abs(ours - theirs):.2e}")
    print(f"qharbor / aer: {statistics.median(our_times) / statistics.median(their_times):.2f}x")
    if abs(ours - theirs) > 1e-8:
        sys.exit("the values disagree")


if __name__ == "__main__":
    main()
