"""Noisy-simulation speed against qiskit-aer at its best, with the same noise model.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/noise.py [--sizes 12 16 20] [--shots 1000 10000] [--model aria-1]

The model is IonQ's: a symmetric depolarizing channel after every gate — qiskit's
``depolarizing_error(r1, 1)`` after each one-qubit gate and ``depolarizing_error(r2, 2)``
after each cnot (the placement of ``engine.noise.error_sites``), attached per gate through
an aer ``NoiseModel``.

Circuits: up to ``--dm-max`` (12) qubits, ``random_layers(n, 4)`` (rx/ry/rz with a random
angle on every qubit, then cnots on a random matching); wider, the mirror circuit
``mirror(n, 2)`` (two such layers, then their inverse: the same gate count), which ideally
returns every shot to |0...0>.

aer runs three ways, each one shot-counting run in a child process with a time limit
(``--aer-timeout``; a run past it is reported as "> limit") after a warm-up there:
* **default**: ``AerSimulator(noise_model=...)`` (``method="automatic"``);
* **trajectories with shot branching**: ``method="statevector",
  shot_branching_enable=True, shot_branching_sampling_enable=True``;
* **density matrix** (``method="density_matrix"``), up to ``--dm-max`` qubits, where one
  evolution of the 4^n-entry matrix serves every shot.
The row's anchor is the fastest of the three; ratios are its time over qharbor's (> 1:
qharbor faster). qharbor (``engine.noisy_counts``, GPU off) is timed in this process after
``engine.warm_up`` (every kernel loaded, as a worker starts) and a warm-up run, median of
``--repeat`` runs (one run where the first took over 10 s). Timed: the whole shot-counting run.

Agreement, every histogram of every simulator, with statistics that can fail:
* up to ``--dm-max`` qubits, against aer's exact noisy distribution p (density matrix,
  ``save_probabilities``, untimed): (1) the total variation distance, bounded by
  E[TVD] + sqrt(ln(1/δ) / 2N) — E[TVD] of N samples of p estimated from 200 simulated
  multinomial histograms, and the second term McDiarmid's bound (changing one shot moves
  the TVD by at most 1/N), δ = 1e-6; (2) a z-test of the samples' mean exact probability
  (mean Σp², variance (Σp³ − (Σp²)²)/N; |z| ≤ 5), which sees a wrong noise strength that
  a TVD of a few thousand shots over 4,096 outcomes cannot;
* wider, the mirror circuits' return probability P(0...0) against the same from every aer
  histogram of that circuit, pooled: |p_q − p_a| ≤ 5 sqrt(p(1−p)(1/N_q + 1/N_a)) (a
  two-proportion z-test at |z| ≤ 5, p pooled). Where no timed aer run finished, an untimed
  trajectory run of ``--ref-shots`` shots is the reference.
Any failure is reported and the script exits with status 1.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import os
import platform
import statistics
import sys
import time

os.environ["QHARBOR_ENGINE_GPU"] = "off"

import numpy as np
from circuits import mirror, random_layers, to_qiskit
from qiskit_aer import AerSimulator
from qiskit_aer.noise import NoiseModel as AerNoiseModel
from qiskit_aer.noise import depolarizing_error

from qharbor import engine
from qharbor.engine import Circuit
from qharbor.engine.noise import MODELS

DELTA = 1e-6
Z = 5.0
#: aer's three ways: label -> AerSimulator keyword arguments.
METHODS: dict[str, dict[str, object]] = {
    "default": {},
    "branching": {"method": "statevector", "shot_branching_enable": True, "shot_branching_sampling_enable": True},
    "density": {"method": "density_matrix"},
}


def aer_noise(model_name: str) -> AerNoiseModel:
    model = MODELS[model_name]
    nm = AerNoiseModel()
    nm.add_all_qubit_quantum_error(depolarizing_error(model.r1, 1), ["h", "rx", "ry", "rz"])
    nm.add_all_qubit_quantum_error(depolarizing_error(model.r2, 2), ["cx"])
    return nm


def _aer_child(circuit: Circuit, model_name: str, method: str, shots: int, seed: int, out) -> None:  # type: ignore[no-untyped-def]
    sim = AerSimulator(noise_model=aer_noise(model_name), **METHODS[method])  # type: ignore[arg-type]
    sim.run(to_qiskit(random_layers(4, 2), measure=True), shots=10).result()  # warm-up
    qc = to_qiskit(circuit, measure=True)
    t = time.perf_counter()
    result = sim.run(qc, shots=shots, seed_simulator=seed).result()
    elapsed = time.perf_counter() - t
    counts = {int(k.replace(" ", ""), 2): v for k, v in result.get_counts().items()}
    out.send((elapsed, result.results[0].metadata.get("method", "?"), counts))


def run_aer(circuit: Circuit, model_name: str, method: str, shots: int, seed: int, timeout: float):  # type: ignore[no-untyped-def]
    """(seconds, aer's method, counts) of one aer run; or, where it gave none, why: past
    ``timeout``, or its process ended without an answer (at 20 qubits the kernel's out-of-memory
    killer ended aer's shot branching on the 24 GiB development machine)."""
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_aer_child, args=(circuit, model_name, method, shots, seed, child))
    proc.start()
    deadline = time.monotonic() + timeout + 30  # + start-up and warm-up
    try:
        while time.monotonic() < deadline:
            if parent.poll(1.0):
                return parent.recv()
            if not proc.is_alive() and not parent.poll(0):
                code = proc.exitcode
                return f"died ({'signal ' + str(-code) if code is not None and code < 0 else f'exit {code}'})"
        return f"> {timeout:.0f} s"
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join()


def exact(circuit: Circuit, model_name: str) -> np.ndarray:
    """aer's exact noisy distribution (density matrix), indexed like qharbor's outcomes."""
    qc = to_qiskit(circuit)
    qc.save_probabilities()
    sim = AerSimulator(method="density_matrix", noise_model=aer_noise(model_name))
    return np.asarray(sim.run(qc).result().data(0)["probabilities"])


def histogram(counts: dict[int, int], size: int) -> np.ndarray:
    h = np.zeros(size)
    for k, v in counts.items():
        h[k] += v
    return h


def check_exact(counts: dict[int, int], p: np.ndarray, rng: np.random.Generator) -> tuple[bool, str]:
    """TVD and mean-probability z-test of a histogram against the exact distribution ``p``."""
    h = histogram(counts, p.size)
    n = int(h.sum())
    tvd = 0.5 * float(np.abs(h / n - p).sum())
    null = [0.5 * float(np.abs(rng.multinomial(n, p) / n - p).sum()) for _ in range(200)]
    bound = statistics.fmean(null) + math.sqrt(math.log(1 / DELTA) / (2 * n))
    mu, m3 = float(np.square(p).sum()), float((p ** 3).sum())
    z = (float(h @ p) / n - mu) / math.sqrt(max(m3 - mu * mu, 1e-300) / n)
    ok = tvd <= bound and abs(z) <= Z
    return ok, f"TVD {tvd:.3f} ≤ {bound:.3f}, z {z:+.1f}"


def check_return(ours: dict[int, int], theirs: list[dict[int, int]]) -> tuple[bool, str]:
    """Two-proportion z-test of the return probability P(0...0), ``theirs`` pooled."""
    nq, kq = sum(ours.values()), ours.get(0, 0)
    na, ka = sum(sum(c.values()) for c in theirs), sum(c.get(0, 0) for c in theirs)
    pq, pa, pooled = kq / nq, ka / na, (kq + ka) / (nq + na)
    bound = Z * math.sqrt(max(pooled * (1 - pooled), 1e-12) * (1 / nq + 1 / na))
    return abs(pq - pa) <= bound, f"P0 {pq:.4f} vs aer {pa:.4f} ({na} shots): |Δ| {abs(pq - pa):.4f} ≤ {bound:.4f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[12, 16, 20])
    ap.add_argument("--shots", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--layers", type=int, default=4, help="layers of the random circuits (mirror: half, twice)")
    ap.add_argument("--model", default="aria-1")
    ap.add_argument("--dm-max", type=int, default=12, help="widest circuit for aer's density matrix and the TVD check")
    ap.add_argument("--aer-timeout", type=float, default=100.0, help="seconds allowed per aer run")
    ap.add_argument("--methods", nargs="+", choices=list(METHODS), default=list(METHODS),
                    help="aer methods to time (default: all; the anchor is the fastest of those run)")
    ap.add_argument("--ref-shots", type=int, default=500, help="shots of the untimed aer reference, where needed")
    ap.add_argument("--repeat", type=int, default=3, help="qharbor runs per row (median)")
    args = ap.parse_args()
    model = MODELS[args.model]
    limits = engine.Limits(gpu=False)
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores; model {args.model}"
          f" (r1 {model.r1}, r2 {model.r2}); ≤ {args.dm_max} qubits: random_layers(n, {args.layers}), wider:"
          f" mirror(n, {args.layers // 2}); aer limit {args.aer_timeout:.0f} s per run;"
          f" load {os.getloadavg()[0]:.2f} at start")
    print("# aer: default = AerSimulator(noise_model); branching = method='statevector',"
          " shot_branching_enable=True, shot_branching_sampling_enable=True; density = method='density_matrix'")
    for precision in ("double", "single"):  # every kernel loaded (or compiled) as a worker does
        engine.warm_up(precision)
    engine.noisy_counts(random_layers(12, 2), model, 100, seed=0, limits=limits)  # warm-up: our paths
    engine.noisy_counts(random_layers(14, 2), model, 100, seed=0, limits=limits)
    print("| circuit | qubits | shots | qharbor | aer default (its method) | aer branching | aer density |"
          " anchor / qharbor | agreement |")
    print("|---|---|---|---|---|---|---|---|---|")
    rng = np.random.default_rng(0)
    failures: list[str] = []
    for n in args.sizes:
        wide = n > args.dm_max
        circuit = mirror(n, args.layers // 2) if wide else random_layers(n, args.layers)
        name = f"mirror-{n}" if wide else f"random-{n}"
        p = None if wide else exact(circuit, args.model)
        pending: list[tuple[str, dict[int, int], str]] = []  # wide rows wait for the pooled aer reference
        aer_counts: list[dict[int, int]] = []
        for shots in args.shots:
            times, ours = [], {}
            for i in range(args.repeat):
                t = time.perf_counter()
                ours = {int(k): v for k, v in engine.noisy_counts(circuit, model, shots, seed=7 + i, limits=limits).items()}
                times.append(time.perf_counter() - t)
                if times[0] > 10:
                    break
            t_ours = statistics.median(times)
            cells, finished = [], []
            for method in METHODS:
                if method not in args.methods:
                    cells.append("not run")
                    continue
                if method == "density" and wide:
                    cells.append("–")
                    continue
                got = run_aer(circuit, args.model, method, shots, shots + len(finished), args.aer_timeout)
                if isinstance(got, str):
                    cells.append(got)
                    continue
                elapsed, used, counts = got
                finished.append((elapsed, method, counts))
                cells.append(f"{elapsed:.3g} s" + (f" ({used})" if method == "default" else ""))
            if finished:
                anchor = min(e for e, _, _ in finished)
                ratio = f"{anchor / t_ours:.1f}×"
            elif all(c.startswith(">") or c in ("–", "not run") for c in cells):  # every run timed out
                ratio = f"> {args.aer_timeout / t_ours:.0f}×"
            else:
                ratio = "– (no aer run finished)"
            qtime = f"{t_ours:.3g} s" + (f" ({min(times):.3g}–{max(times):.3g})" if len(times) > 1 else " (1 run)")
            row = f"| {name} | {n} | {shots} | {qtime} | " + " | ".join(cells) + f" | {ratio} |"
            if p is not None:
                notes = []
                for who, counts in [("qharbor", ours)] + [(f"aer {m}", c) for _, m, c in finished]:
                    ok, note = check_exact(counts, p, rng)
                    notes.append(f"{who}: {note}")
                    if not ok:
                        failures.append(f"{name} {shots} shots, {who}: {note}")
                print(row + " " + "; ".join(notes) + " |", flush=True)
            else:
                aer_counts += [c for _, _, c in finished]
                pending.append((row, ours, f"{shots} shots"))
        if pending:
            if not aer_counts:
                got = run_aer(circuit, args.model, "branching", args.ref_shots, 1, 3 * args.aer_timeout)
                if isinstance(got, str):
                    failures.append(f"{name}: no aer reference finished ({got})")
                else:
                    aer_counts.append(got[2])
            for row, ours, what in pending:
                ok, note = check_return(ours, aer_counts) if aer_counts else (False, "no aer reference")
                if not ok:
                    failures.append(f"{name} {what}: {note}")
                print(row + f" {note} |", flush=True)
    print(f"# load {os.getloadavg()[0]:.2f} at end")
    if failures:
        print("DISAGREEMENT:\n" + "\n".join(failures), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
