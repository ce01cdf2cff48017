"""Noisy-simulation speed against qiskit-aer with the same noise model.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/noise.py [--sizes 10 16 20] [--shots 1000 10000] [--model aria-1]

Both simulators run the same seeded circuits (GHZ, and random layers: rx/ry/rz with
a random angle on every qubit, then cnots on a random matching) under IonQ's model:
a symmetric depolarizing channel after every gate, qiskit's ``depolarizing_error(r1, 1)``
after each one-qubit gate and ``depolarizing_error(r2, 2)`` after each cnot (the
placement of ``engine.noise.error_sites``), attached per gate through an aer
``NoiseModel``. qiskit-aer runs twice: its default method (``automatic``: it picks the
stabilizer method for Clifford circuits with Pauli noise, else density matrix or
statevector) and ``method="statevector"`` (one trajectory per shot). The timed part is
the whole shot-counting run (sampling errors, simulating, sampling outcomes); each
simulator is warmed up once beforehand so compilation is excluded. Ratios are aer's
time over ours (> 1: ours is faster). Agreement is checked as the total variation
distance would be dominated by sampling noise on wide random circuits, so agreement is
shown as each histogram's *ideal overlap*: the mean ideal probability of its outcomes
over Σ p_ideal² (1 for noiseless samples, lower with noise; the two should agree).
Each aer run happens in a child process with a time limit (``--aer-timeout``); a run
that exceeds it is reported as "> limit", and its ratio as a lower bound.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import time

import numpy as np
from circuits import ghz, random_layers, to_qiskit
from qiskit_aer import AerSimulator
from qiskit_aer.noise import NoiseModel as AerNoiseModel
from qiskit_aer.noise import depolarizing_error

from qharbor import engine
from qharbor.engine import Circuit
from qharbor.engine.noise import MODELS


def aer_noise(model_name: str) -> AerNoiseModel:
    model = MODELS[model_name]
    nm = AerNoiseModel()
    nm.add_all_qubit_quantum_error(depolarizing_error(model.r1, 1), ["h", "rx", "ry", "rz"])
    nm.add_all_qubit_quantum_error(depolarizing_error(model.r2, 2), ["cx"])
    return nm


def overlap(counts: dict[str, int], ideal: np.ndarray) -> float:
    shots = sum(counts.values())
    mean = sum(ideal[int(k)] * c for k, c in counts.items()) / shots
    return float(mean / np.square(ideal).sum())


def _aer_child(circuit: Circuit, model_name: str, method: str | None, shots: int, out) -> None:  # type: ignore[no-untyped-def]
    nm = aer_noise(model_name)
    sim = AerSimulator(noise_model=nm) if method is None else AerSimulator(method=method, noise_model=nm)
    sim.run(to_qiskit(random_layers(4, 2), measure=True), shots=10).result()  # warm-up
    qc = to_qiskit(circuit, measure=True)
    t = time.perf_counter()
    result = sim.run(qc, shots=shots, seed_simulator=7).result()
    elapsed = time.perf_counter() - t
    counts = {str(int(k.replace(" ", ""), 2)): v for k, v in result.get_counts().items()}
    out.send((elapsed, result.results[0].metadata.get("method", "?"), counts))


def run_aer(circuit: Circuit, model_name: str, method: str | None, shots: int, timeout: float):  # type: ignore[no-untyped-def]
    """(seconds, method, counts) of one aer run, or (None, method?, None) past ``timeout``."""
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_aer_child, args=(circuit, model_name, method, shots, child))
    proc.start()
    try:
        if parent.poll(timeout + 30):  # + start-up and warm-up
            return parent.recv()
        return None, method or "?", None
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10, 16, 20])
    ap.add_argument("--shots", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--layers", type=int, default=4, help="layers of the random circuits")
    ap.add_argument("--model", default="aria-1")
    ap.add_argument("--aer-timeout", type=float, default=120.0, help="seconds allowed per aer run")
    args = ap.parse_args()
    model = MODELS[args.model]
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores; model {args.model};"
          f" random = {args.layers} layers; times in seconds; aer limit {args.aer_timeout:.0f} s per run")
    engine.noisy_counts(random_layers(12, 2), model, 100, seed=0)  # warm-up: compile our kernels
    engine.noisy_counts(random_layers(14, 2), model, 100, seed=0)
    print("| circuit | qubits | shots | qharbor | aer default (method) | aer statevector |"
          " ratio default | ratio statevector | ideal overlap qharbor / aer sv |")
    print("|---|---|---|---|---|---|---|---|---|")
    for n in args.sizes:
        for name, circuit in (("ghz", ghz(n)), ("random", random_layers(n, args.layers))):
            ideal = engine.simulate(circuit)
            for shots in args.shots:
                t = time.perf_counter()
                ours = engine.noisy_counts(circuit, model, shots, seed=7)
                t_ours = time.perf_counter() - t
                d_time, d_method, _ = run_aer(circuit, args.model, None, shots, args.aer_timeout)
                s_time, _, s_counts = run_aer(circuit, args.model, "statevector", shots, args.aer_timeout)

                def show(x: float | None) -> str:
                    return f"> {args.aer_timeout:.0f}" if x is None else f"{x:.3f}"

                def ratio(x: float | None) -> str:
                    return f"> {args.aer_timeout / t_ours:.0f}×" if x is None else f"{x / t_ours:.1f}×"

                agree = f"{overlap(ours, ideal):.3f} / " + ("–" if s_counts is None else f"{overlap(s_counts, ideal):.3f}")
                print(f"| {name} | {n} | {shots} | {t_ours:.3f} | {show(d_time)} ({d_method}) | {show(s_time)} |"
                      f" {ratio(d_time)} | {ratio(s_time)} | {agree} |", flush=True)


if __name__ == "__main__":
    main()
