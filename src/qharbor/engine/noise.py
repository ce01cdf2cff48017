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

Two further shortcuts make most of those simulations unnecessary or shorter
(:func:`plan`):

* **Pauli propagation.** An error Pauli P after gate i equals, up to a global phase,
  P' = U P U† placed after the next gate U whenever U is a Clifford gate (h, s, v,
  cnot, cz, swap, Paulis) or commutes with P (a Z-only Pauli through rz, zz, t or
  any diagonal gate, X through rx and xx, Y through ry and yy, any Pauli through
  a gate on other qubits). Each error is pushed forward this way until a gate
  blocks it. One that reaches the end of the circuit is a *classical bit flip* of
  the outcome: its X/Y part flips measured bits, its Z part changes no
  probability. So a shot whose errors all reach the end is an ideal sample XOR a
  flip mask, and needs no simulation of its own (a GHZ circuit, all Clifford,
  never simulates anything but the ideal run).
* **Shared prefixes.** The remaining patterns are sorted by the position of their
  first (blocked) error; the ideal circuit runs once, and each pattern starts from
  a copy of the ideal state at that position, so it only simulates the suffix.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from .circuit import ONE_QUBIT, Circuit, Gate

_PAULIS = ("x", "y", "z")
#: The non-identity Paulis of a one- or two-qubit error site, as (position in the site,
#: gate name) lists; a pair's 15 in base 4 (0 = I), its first qubit the high digit.
SITE_PAULIS = {
    1: [[(0, p)] for p in _PAULIS],
    2: [[(i, _PAULIS[v - 1]) for i, v in enumerate(divmod(pair, 4)) if v] for pair in range(1, 16)],
}


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


def sites(gate: Gate) -> list[tuple[int, ...]]:
    """The qubits of each channel application after ``gate``: one per target of a
    broadcast one-qubit gate, else one per neighbouring pair of its qubits."""
    if gate.name in ONE_QUBIT and not gate.controls:
        return [(t,) for t in gate.targets]
    qubits = gate.controls + gate.targets
    return list(itertools.pairwise(qubits))


def error_probability(model: NoiseModel, qubits: tuple[int, ...]) -> float:
    """The chance that a site's depolarizing channel applies a non-identity Pauli."""
    return 3 * model.r1 / 4 if len(qubits) == 1 else 15 * model.r2 / 16


def error_sites(circuit: Circuit, exempt: frozenset[int] = frozenset()) -> list[tuple[int, tuple[int, ...]]]:
    """(gate index, qubits) of every channel application, in circuit order; gates whose
    index is in ``exempt`` (emulated systematic errors, ``debias.py``) get none."""
    return [(index, qubits) for index, gate in enumerate(circuit.gates) if index not in exempt
            for qubits in sites(gate)]


def _paulis(rng: np.random.Generator, qubits: tuple[int, ...]) -> tuple[tuple[int, str], ...]:
    kinds = SITE_PAULIS[len(qubits)]
    return tuple((qubits[i], p) for i, p in kinds[rng.integers(len(kinds))])


def shot_errors(circuit: Circuit, model: NoiseModel, shots: int, rng: np.random.Generator,
                exempt: frozenset[int] = frozenset()) -> dict[int, list[tuple[int, tuple[tuple[int, str], ...]]]]:
    """The errors of every shot that has any: shot -> [(gate index, ((qubit, pauli), ...)), ...]
    in circuit order. Per error site, a binomial number of shots, then which shots."""
    sites = error_sites(circuit, exempt)
    patterns: dict[int, list[tuple[int, tuple[tuple[int, str], ...]]]] = defaultdict(list)
    for site, (index, qubits) in enumerate(sites):
        hits = rng.binomial(shots, error_probability(model, qubits))
        if hits:
            for shot in rng.choice(shots, size=hits, replace=False):
                patterns[int(shot)].append((index, _paulis(rng, qubits)))
    return patterns


# --- Pauli propagation -----------------------------------------------------------------
#: Diagonal gates: they commute with any Pauli that has no X/Y part on their qubits.
_DIAGONAL = frozenset({"z", "s", "si", "t", "ti", "rz", "phase", "zz"})
#: The uncontrolled ones of them that are Clifford: X and Y pass them too (as Y, X), below.
_CLIFFORD_DIAGONAL = frozenset({"z", "s", "si"})
#: A Pauli is (x mask, z mask) over the register: bit q of x (z) set = X (Z) part on qubit q.
Pauli = tuple[int, int]


def _swap_bits(m: int, a: int, b: int) -> int:
    if ((m >> a) ^ (m >> b)) & 1:
        m ^= (1 << a) | (1 << b)
    return m


def conjugate(gate: Gate, x: int, z: int) -> Pauli | None:
    """U P U† for the Pauli P = (x, z) and the gate U, up to phase; ``None`` when that is
    not a Pauli (or not worth deriving): the error must then be simulated before ``gate``."""
    qubits = gate.controls + gate.targets
    support = x | z
    mask = 0
    for q in qubits:
        mask |= 1 << q
    if not support & mask:
        return x, z
    name = gate.name
    if len(gate.controls) == 1 and len(gate.targets) == 1 and name in ("x", "z"):
        c, t = 1 << gate.controls[0], 1 << gate.targets[0]
        if name == "x":  # cnot: X_c -> X_c X_t, Z_t -> Z_c Z_t
            if x & c:
                x ^= t
            if z & t:
                z ^= c
        else:  # cz: X_c -> X_c Z_t, X_t -> Z_c X_t
            if x & c:
                z ^= t
            if x & t:
                z ^= c
        return x, z
    if name in _DIAGONAL and (gate.controls or name not in _CLIFFORD_DIAGONAL):
        return (x, z) if not x & mask else None
    if not gate.controls:
        if name in ONE_QUBIT:
            for t in gate.targets:  # broadcast: each target independently
                b = 1 << t
                if name in ("x", "y", "z"):
                    continue
                if name == "h":
                    x, z = (x & ~b) | (z & b), (z & ~b) | (x & b)
                elif name in ("s", "si"):
                    if x & b:
                        z ^= b
                elif name in ("v", "vi"):
                    if z & b:
                        x ^= b
                elif name == "rx":
                    if z & b:
                        return None
                elif name == "ry":
                    if bool(x & b) != bool(z & b):
                        return None
                elif name == "gpi":  # a reflection in the XY plane: Z -> -Z
                    if x & b:
                        return None
                elif (x | z) & b:
                    return None
            return x, z
        if len(gate.targets) != 2:
            return None
        a, b = gate.targets
        if name == "swap":
            return _swap_bits(x, a, b), _swap_bits(z, a, b)
        if name == "xx":
            return (x, z) if not ((z >> a) ^ (z >> b)) & 1 else None
        if name == "yy":
            ya, yb = ((x ^ z) >> a) & 1, ((x ^ z) >> b) & 1
            return (x, z) if ya == yb else None
    return None


def _masks(paulis: tuple[tuple[int, str], ...]) -> Pauli:
    x = z = 0
    for q, p in paulis:
        if p in ("x", "y"):
            x |= 1 << q
        if p in ("z", "y"):
            z |= 1 << q
    return x, z


#: A blocked error: the Pauli (x, z) to insert right before gate ``position``.
Stuck = tuple[int, int, int]


def plan(circuit: Circuit, model: NoiseModel, shots: int, rng: np.random.Generator,
         exempt: frozenset[int] = frozenset()) -> dict[tuple[Stuck, ...], np.ndarray]:
    """Every shot's errors, propagated: blocked errors (to simulate) -> the flip masks of
    the shots that share them (one int64 per shot: the X part of the errors that reached
    the end). The key ``()`` is the ideal run."""
    gates = circuit.gates
    memo: dict[tuple[int, int, int], tuple[int | None, int, int]] = {}

    def push(index: int, x: int, z: int) -> tuple[int | None, int, int]:
        key = (index, x, z)
        if key not in memo:
            for j in range(index + 1, len(gates)):
                moved = conjugate(gates[j], x, z)
                if moved is None:
                    memo[key] = (j, x, z)
                    break
                x, z = moved
            else:
                memo[key] = (None, x, z)
        return memo[key]

    groups: dict[tuple[Stuck, ...], list[int]] = defaultdict(list)
    errors = shot_errors(circuit, model, shots, rng, exempt)
    for pattern in errors.values():
        flip = 0
        stuck: dict[int, list[int]] = {}
        for index, paulis in pattern:
            position, x, z = push(index, *_masks(paulis))
            if position is None:
                flip ^= x
            else:
                sx, sz = stuck.get(position, (0, 0))
                stuck[position] = [sx ^ x, sz ^ z]
        key = tuple((p, sx, sz) for p, (sx, sz) in sorted(stuck.items()) if sx or sz)
        groups[key].append(flip)
    ideal = shots - len(errors)
    if ideal:
        groups[()] += [0] * ideal
    return {k: np.array(v, dtype=np.int64) for k, v in groups.items()}


def pauli_gates(n: int, x: int, z: int) -> list[Gate]:
    """The one-qubit Pauli gates of (x, z) on an ``n``-qubit register."""
    out = []
    for q in range(n):
        bx, bz = (x >> q) & 1, (z >> q) & 1
        if bx or bz:
            out.append(Gate("y" if bx and bz else "x" if bx else "z", (q,)))
    return out
