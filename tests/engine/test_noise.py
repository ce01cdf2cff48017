"""Noisy simulation against an independent reference: qiskit-aer's density matrix with
qiskit's own depolarizing channels placed where IonQ's models put them."""

from __future__ import annotations

import math

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit_aer import AerSimulator
from qiskit_aer.noise import depolarizing_error

from qharbor import engine
from qharbor.engine import Circuit, Gate
from qharbor.engine.noise import MODELS, NoiseModel, error_sites

SHOTS = 20_000


def _reference(circuit: Circuit, model: NoiseModel, build) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Exact noisy distribution: each gate, then its channels (same sites as ours)."""
    qc = QuantumCircuit(circuit.qubits)
    sites = error_sites(circuit)
    for index, gate in enumerate(circuit.gates):
        build(qc, gate)
        for _, qubits in (s for s in sites if s[0] == index):
            r = model.r1 if len(qubits) == 1 else model.r2
            qc.append(depolarizing_error(r, len(qubits)).to_instruction(), list(qubits))
    qc.save_probabilities()
    result = AerSimulator(method="density_matrix").run(qc).result()
    return np.asarray(result.data()["probabilities"])


def _qiskit_gate(qc: QuantumCircuit, g: Gate) -> None:
    if g.name == "h":
        qc.h(g.targets[0])
    elif g.name == "x" and len(g.controls) == 1:
        qc.cx(g.controls[0], g.targets[0])
    elif g.name == "x" and len(g.controls) == 2:
        qc.ccx(g.controls[0], g.controls[1], g.targets[0])
    elif g.name == "ry":
        qc.ry(g.params[0], g.targets[0])
    elif g.name == "zz":
        qc.rzz(g.params[0], *g.targets)
    else:
        raise AssertionError(g)


def _tvd(counts: dict[str, int], exact: np.ndarray) -> float:
    empirical = np.zeros_like(exact)
    for k, c in counts.items():
        empirical[int(k)] = c / SHOTS
    return 0.5 * float(np.abs(empirical - exact).sum())


def _bound(exact: np.ndarray) -> float:
    """Four times the expected total variation distance of SHOTS samples from ``exact``."""
    return 4 * 0.5 * sum(math.sqrt(2 * p * (1 - p) / (math.pi * SHOTS)) for p in exact)


def _random_circuit(n: int, depth: int, seed: int) -> Circuit:
    rng = np.random.default_rng(seed)
    gates: list[Gate] = []
    for _ in range(depth):
        for q in range(n):
            gates.append(Gate("ry", (q,), (), (float(rng.uniform(0, math.pi)),)))
        a, b, c = (int(x) for x in rng.choice(n, 3, replace=False))
        gates += [Gate("x", (b,), (a,)), Gate("zz", (a, c), (), (float(rng.uniform(0, 3)),)),
                  Gate("x", (c,), (a, b))]
    return Circuit(n, tuple(gates))


CASES = {
    "bell": Circuit(2, (Gate("h", (0,)), Gate("x", (1,), (0,)))),
    "ghz6": Circuit(6, (Gate("h", (0,)), *(Gate("x", (q + 1,), (q,)) for q in range(5)))),
    "random5": _random_circuit(5, 8, 3),
}


@pytest.mark.parametrize("model", ["aria-1", "harmony"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_histograms_match_the_density_matrix_reference(case: str, model: str) -> None:
    circuit, noise_model = CASES[case], MODELS[model]
    exact = _reference(circuit, noise_model, _qiskit_gate)
    counts = engine.noisy_counts(circuit, noise_model, SHOTS, seed=11)
    assert sum(counts.values()) == SHOTS
    assert _tvd(counts, exact) < _bound(exact)
    if model == "harmony" and case != "bell":  # the test can see the noise: beyond the sampling bound
        ideal = engine.simulate(circuit)
        assert 0.5 * np.abs(ideal - exact).sum() > 2 * _bound(exact)


def test_same_seed_same_histogram_and_ideal_is_untouched() -> None:
    circuit = CASES["random5"]
    a = engine.noisy_counts(circuit, MODELS["aria-1"], 1000, seed=5)
    assert a == engine.noisy_counts(circuit, MODELS["aria-1"], 1000, seed=5)
    assert a != engine.noisy_counts(circuit, MODELS["aria-1"], 1000, seed=6)
    zero = NoiseModel("none", 0.0, 0.0, 29)
    exact = engine.simulate(circuit)
    counts = engine.noisy_counts(circuit, zero, SHOTS, seed=1)
    assert _tvd(counts, exact) < _bound(exact)


def test_error_sites_follow_the_documented_rule() -> None:
    circuit = Circuit(4, (Gate("h", (0, 1)), Gate("x", (3,), (0, 1)), Gate("zz", (2, 3), (), (0.1,))))
    assert error_sites(circuit) == [(0, (0,)), (0, (1,)), (1, (0, 1)), (1, (1, 3)), (2, (2, 3))]
