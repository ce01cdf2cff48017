"""IonQ's noise models, simulated shot by shot with grouped Pauli trajectories.

A model is a symmetric depolarizing channel after every gate (IonQ's "Simulation
with Noise Models" guide): after a one-qubit gate, with probability 3·r1/4 one of
X, Y, Z chosen uniformly; after a two-qubit gate, with probability 15·r2/16 one of
the 15 non-identity Pauli pairs. In qiskit's terms these are
``depolarizing_error(r1, 1)`` and ``depolarizing_error(r2, 2)``.

Gates on k ≥ 3 qubits (multi-controlled gates, wide ``pauliexp``) are followed by
the two-qubit channel on each consecutive pair of their qubits (controls, then
targets): k − 1 two-qubit errors, the fewest two-qubit gates that could entangle
k qubits. ``stats.gate_counts`` counts them the same way.

Why trajectories are cheap here: each shot's error pattern is drawn first (per
error site, a binomial number of shots, then which shots), shots are grouped by
pattern, and each distinct pattern is simulated once — the (usually many) shots
without any error share the single ideal run. Every shot is still an independent
trajectory, so counts sum to the shots and a seed fixes the histogram exactly.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from .circuit import ONE_QUBIT, Circuit, Gate

_PAULIS = ("x", "y", "z")


@dataclass(frozen=True)
class NoiseModel:
    name: str
    r1: float  # one-qubit depolarizing parameter
    r2: float  # two-qubit depolarizing parameter
    max_qubits: int  # IonQ's cap for noisy simulation with this model


#: IonQ's published parameters (ionq-noise-notes.md). ``harmony`` is not published as
#: such: it is derived from the system's published average fidelities (99.5 % one-qubit,
#: 97.5 % two-qubit; Wright et al., arXiv:1903.08181) through 1 − F = r·(d − 1)/d.
#: ``forte-enterprise-1`` has no published model; it uses forte-1's parameters.
MODELS: dict[str, NoiseModel] = {
    m.name: m
    for m in (
        NoiseModel("aria-1", 0.0005, 0.0133, 25),
        NoiseModel("aria-2", 0.000657333, 0.01856, 25),
        NoiseModel("forte-1", 0.000266667, 0.004949333, 29),
        NoiseModel("forte-enterprise-1", 0.000266667, 0.004949333, 29),
        NoiseModel("harmony", 0.005 * 2, 0.025 * 4 / 3, 11),
    )
}


def error_sites(circuit: Circuit) -> list[tuple[int, tuple[int, ...]]]:
    """(gate index, qubits) of every channel application, in circuit order."""
    sites: list[tuple[int, tuple[int, ...]]] = []
    for index, gate in enumerate(circuit.gates):
        qubits = gate.controls + gate.targets
        if gate.name in ONE_QUBIT and not gate.controls:
            sites += [(index, (t,)) for t in gate.targets]  # broadcast: one channel per target
        else:
            sites += [(index, (a, b)) for a, b in zip(qubits, qubits[1:])]
    return sites


def _with_errors(circuit: Circuit, errors: list[tuple[int, tuple[tuple[int, str], ...]]]) -> Circuit:
    """The circuit with each error's Paulis inserted right after its gate."""
    after: dict[int, list[Gate]] = defaultdict(list)
    for index, paulis in errors:
        after[index] += [Gate(p, (q,)) for q, p in paulis]
    gates: list[Gate] = []
    for index, gate in enumerate(circuit.gates):
        gates.append(gate)
        gates += after.get(index, [])
    return Circuit(circuit.qubits, tuple(gates))


def _paulis(rng: np.random.Generator, qubits: tuple[int, ...]) -> tuple[tuple[int, str], ...]:
    if len(qubits) == 1:
        return ((qubits[0], _PAULIS[rng.integers(3)]),)
    pair = int(rng.integers(1, 16))  # 1..15: a non-identity Pauli pair, base 4 (0 = I)
    first, second = divmod(pair, 4)
    return tuple((q, _PAULIS[p - 1]) for q, p in ((qubits[0], first), (qubits[1], second)) if p)


def trajectories(circuit: Circuit, model: NoiseModel, shots: int,
                 rng: np.random.Generator) -> dict[tuple, int]:
    """How many shots follow each error pattern (the empty pattern is the ideal run)."""
    sites = error_sites(circuit)
    patterns: dict[int, list[tuple[int, tuple[tuple[int, str], ...]]]] = defaultdict(list)
    for site, (index, qubits) in enumerate(sites):
        p = 3 * model.r1 / 4 if len(qubits) == 1 else 15 * model.r2 / 16
        hits = rng.binomial(shots, p)
        if hits:
            for shot in rng.choice(shots, size=hits, replace=False):
                patterns[int(shot)].append((index, _paulis(rng, qubits)))
    grouped: dict[tuple, int] = defaultdict(int)
    for errors in patterns.values():
        grouped[tuple(errors)] += 1
    grouped[()] = shots - len(patterns)
    return dict(grouped)


def with_errors(circuit: Circuit, pattern: tuple) -> Circuit:
    return _with_errors(circuit, list(pattern)) if pattern else circuit


def readout_errors(counts: dict[str, int], qubits: int, error: float, rng: np.random.Generator) -> dict[str, int]:
    """Flip each measured bit of each shot independently with probability ``error``.

    Flips are drawn sparsely (how many, then where), so the cost follows the number
    of flips rather than shots × qubits.
    """
    if error <= 0 or not counts:
        return dict(counts)
    outcomes = np.repeat(np.array([int(k) for k in counts], dtype=np.int64), list(counts.values()))
    total = outcomes.size * qubits
    flips = rng.choice(total, size=rng.binomial(total, error), replace=False)
    np.bitwise_xor.at(outcomes, flips // qubits, np.left_shift(1, flips % qubits).astype(np.int64))
    values, tallies = np.unique(outcomes, return_counts=True)
    return {str(v): int(c) for v, c in zip(values.tolist(), tallies.tolist())}
