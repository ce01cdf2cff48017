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
distance between ours and aer's statevector histogram.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import time

import numpy as np
from qiskit import QuantumCircuit
from qiskit_aer import AerSimulator
from qiskit_aer.noise import NoiseModel as AerNoiseModel
from qiskit_aer.noise import depolarizing_error

from qharbor import engine
from qharbor.engine import Circuit, Gate
from qharbor.engine.noise import MODELS


def ghz(n: int) -> Circuit:
    return Circuit(n, (Gate("h", (0,)),) + tuple(Gate("x", (q + 1,), (q,)) for q in range(n - 1)))


def random_layers(n: int, layers: int, seed: int = 1) -> Circuit:
    rng = np.random.default_rng(seed)
    gates = []
    for _ in range(layers):
        for q in range(n):
            gates.append(Gate(("rx", "ry", "rz")[rng.integers(3)], (q,), (), (float(rng.uniform(0, 2 * math.pi)),)))
        perm = rng.permutation(n)
        gates += [Gate("x", (int(perm[i + 1]),), (int(perm[i]),)) for i in range(0, n - 1, 2)]
    return Circuit(n, tuple(gates))


def to_qiskit(circuit: Circuit) -> QuantumCircuit:
    qc = QuantumCircuit(circuit.qubits)
    for g in circuit.gates:
        if g.name == "x" and g.controls:
            qc.cx(g.controls[0], g.targets[0])
        elif g.name == "h":
            qc.h(g.targets[0])
        else:
            getattr(qc, g.name)(g.params[0], g.targets[0])
    qc.measure_all()
    return qc


def aer_noise(model_name: str) -> AerNoiseModel:
    model = MODELS[model_name]
    nm = AerNoiseModel()
    nm.add_all_qubit_quantum_error(depolarizing_error(model.r1, 1), ["h", "rx", "ry", "rz"])
    nm.add_all_qubit_quantum_error(depolarizing_error(model.r2, 2), ["cx"])
    return nm


def tvd(a: dict[str, int], b: dict[str, int]) -> float:
    na, nb = sum(a.values()), sum(b.values())
    return 0.5 * sum(abs(a.get(k, 0) / na - b.get(k, 0) / nb) for k in set(a) | set(b))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10, 16, 20])
    ap.add_argument("--shots", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--layers", type=int, default=4, help="layers of the random circuits")
    ap.add_argument("--model", default="aria-1")
    args = ap.parse_args()
    model = MODELS[args.model]
    nm = aer_noise(args.model)
    sims = {"aer default": AerSimulator(noise_model=nm),
            "aer statevector": AerSimulator(method="statevector", noise_model=nm)}
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores; model {args.model};"
          f" random = {args.layers} layers; times in seconds")
    # warm-up: compile our kernels, start aer's thread pools
    engine.noisy_counts(random_layers(12, 2), model, 100, seed=0)
    engine.noisy_counts(random_layers(14, 2), model, 100, seed=0)
    for sim in sims.values():
        sim.run(to_qiskit(random_layers(4, 2)), shots=10).result()
    print("| circuit | qubits | shots | qharbor | aer default (method) | aer statevector |"
          " ratio default | ratio statevector | TVD vs aer sv |")
    print("|---|---|---|---|---|---|---|---|---|")
    for n in args.sizes:
        for name, circuit in (("ghz", ghz(n)), ("random", random_layers(n, args.layers))):
            qc = to_qiskit(circuit)
            for shots in args.shots:
                t = time.perf_counter()
                ours = engine.noisy_counts(circuit, model, shots, seed=7)
                t_ours = time.perf_counter() - t
                times, methods, aer_sv = {}, {}, {}
                for label, sim in sims.items():
                    t = time.perf_counter()
                    result = sim.run(qc, shots=shots, seed_simulator=7).result()
                    times[label] = time.perf_counter() - t
                    methods[label] = result.results[0].metadata.get("method", "?")
                    counts = result.get_counts()
                    if label == "aer statevector":
                        aer_sv = {str(int(k.replace(" ", ""), 2)): v for k, v in counts.items()}
                print(f"| {name} | {n} | {shots} | {t_ours:.3f} |"
                      f" {times['aer default']:.3f} ({methods['aer default']}) | {times['aer statevector']:.3f} |"
                      f" {times['aer default'] / t_ours:.1f}× | {times['aer statevector'] / t_ours:.1f}× |"
                      f" {tvd(ours, aer_sv):.3f} |", flush=True)


if __name__ == "__main__":
    main()
