"""Emulated QPU systematics, and IonQ's debiasing and sharpening against them.

Real trapped-ion machines have, besides stochastic noise, *systematic* errors tied to
physical qubits: each qubit's gates over-rotate a little, one pair couples worse than
the others, and readout is asymmetric (a bright |1> decays to dark more often than
|0> brightens). They repeat identically on every shot, so they bias results instead
of blurring them. IonQ's debiasing (arXiv:2301.07233) runs a job as several
symmetric variants — other qubit assignments (and gate decompositions) — with the
shots split between them, so those biases land on different logical qubits in each
variant and average out; sharpening aggregates the variants by plurality voting.

What is emulated on ``qpu.*`` (:func:`systematics`): systematic errors over the whole
machine, drawn from the distributions below by a generator seeded with the backend's name
and a *machine seed* (0 for the service's machines; ``bench/debias.py`` draws many
machines), so each machine's errors are fixed, and no qubit or pair is singled out:

* **Over-rotation**: ``rx(ε_p)`` after every gate on physical qubit ``p``; ε_p i.i.d.
  normal with mean 0, scaled so the machine's mean infidelity (ε²/6 per gate) is exactly
  ``COHERENT_1Q`` of its published one-qubit error. The one-qubit depolarizing parameter
  is reduced by the same share, so the total still matches the published figure.
* **Coupling error**: ``xx(δ_pq)`` after every two-qubit gate on physical pair (p, q), for
  every pair of the (all-to-all) machine; δ_pq i.i.d. normal with mean 0, scaled so the
  mean infidelity (δ²/5 per gate) is exactly ``COHERENT_2Q`` of the published two-qubit
  error, the two-qubit depolarizing parameter reduced by that share.
* **Asymmetric readout**: on physical qubit p a measured 1 reads 0 with probability
  1.5·e·u_p and a 0 reads 1 with 0.5·e·v_p, e the published SPAM error and u_p, v_p i.i.d.
  uniform on [0.5, 1.5], scaled to mean 1 over the machine (so the average stays e).

Without debiasing, logical qubit q runs on physical qubit q, in the plain frame.
With it, the job runs as ``VARIANTS`` variants, each on a random (seeded) assignment
of logical to physical qubits; each variant's outcomes are read back in logical
order. The gate-decomposition variants are emulated as *frames*: a variant may run
Z-conjugated on a subset S of its physical qubits, each gate g realised as
Z_S·g·Z_S (for native gates, the same gates with their phases shifted by half a
turn). Logically it is the same circuit, and Z commutes with the final Z-basis
measurement, so outcomes need no flip; but the physical systematics act in the
logical frame conjugated: over-rotation on a qubit of S becomes
Z·rx(ε)·Z = rx(−ε), and a pair's xx(δ) becomes xx(−δ) when exactly one of
its two qubits is in S (Z⊗Z leaves it). The depolarizing channel (Pauli, symmetric)
and readout are unchanged. Variants come in pairs on one assignment, with frames S
(seeded) and its complement, so every qubit's over-rotation has opposite signs in
the two and cancels between them at first order — which reassignment alone does not
do: it only moves each logical qubit's bias to other physical qubits.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import numpy as np

from .circuit import ONE_QUBIT, Circuit, Gate
from .limits import Limits
from .noise import NoiseModel, error_sites
from .noisy import noisy_counts

#: Variants a debiased circuit runs as (the shots are split evenly between them).
VARIANTS = 4
#: IonQ: debiasing needs at least this many shots.
MIN_SHOTS = 500
#: Share of the one-qubit error budget that is coherent over-rotation.
COHERENT_1Q = 0.5
#: Share of the two-qubit error budget that is coherent coupling error.
COHERENT_2Q = 0.5
#: Readout: P(1 reads 0) = 1.5·e, P(0 reads 1) = 0.5·e on average over the machine.
READOUT_ASYMMETRY = (0.5, 1.5)
#: The machine seed of the service's ``qpu.*`` backends.
MACHINE_SEED = 0


#: Gates only IonQ's native gateset has (its ``zz`` reads as QIS ``zz`` once translated).
NATIVE_ONLY = frozenset({"gpi", "gpi2", "ms"})


def enabled(setting: bool | None, shots: int, native: bool) -> bool:
    """IonQ's rule: never below ``MIN_SHOTS``; else as asked, by default on for QIS jobs
    and off for native-gate jobs."""
    if shots < MIN_SHOTS:
        return False
    return (not native) if setting is None else bool(setting)


def native(circuit: Circuit) -> bool:
    """Whether a circuit counts as a native-gate job for :func:`enabled`: it uses a gate only
    the native gateset has (a native circuit of ``zz`` gates alone counts as QIS)."""
    return any(g.name in NATIVE_ONLY for g in circuit.gates)


@dataclass(frozen=True)
class Systematics:
    over_rotation: tuple[float, ...]  # radians, per physical qubit
    coupling: np.ndarray  # xx angle (radians) per physical pair, symmetric, zero diagonal
    read_0_as_1: tuple[float, ...]  # per physical qubit
    read_1_as_0: tuple[float, ...]
    model: NoiseModel  # the stochastic part left once the coherent shares are taken out


def _scaled_normal(rng: np.random.Generator, size: int, mean_square: float) -> np.ndarray:
    """``size`` i.i.d. normal draws, scaled so their mean square is exactly ``mean_square``."""
    z = rng.standard_normal(size)
    return z * math.sqrt(mean_square / float(np.mean(z**2)))


def systematics(backend: str, qubits: int, model: NoiseModel, error_1q: float, error_2q: float,
                spam_error: float, machine_seed: int = MACHINE_SEED) -> Systematics:
    """The machine's fixed systematic errors, drawn per backend and ``machine_seed`` from the
    distributions in the module doc. ``error_1q``/``error_2q`` are 1 − the published average
    gate fidelities, ``spam_error`` the published readout error."""
    rng = np.random.default_rng([zlib.crc32(backend.encode()), machine_seed])
    eps = _scaled_normal(rng, qubits, 6 * COHERENT_1Q * error_1q)  # mean ε²/6 = COHERENT_1Q · error_1q
    upper = np.triu_indices(qubits, 1)
    coupling = np.zeros((qubits, qubits))
    coupling[upper] = _scaled_normal(rng, upper[0].size, 5 * COHERENT_2Q * error_2q)  # xx(δ): δ²/5
    coupling += coupling.T
    low, high = READOUT_ASYMMETRY
    u, v = rng.uniform(0.5, 1.5, qubits), rng.uniform(0.5, 1.5, qubits)
    stochastic = NoiseModel(model.name, model.r1 * (1 - COHERENT_1Q), model.r2 * (1 - COHERENT_2Q),
                            model.max_qubits)
    return Systematics(tuple(float(e) for e in eps), coupling,
                       tuple(float(x) for x in low * spam_error * v / v.mean()),
                       tuple(float(x) for x in high * spam_error * u / u.mean()), stochastic)


def placed(circuit: Circuit, s: Systematics, qubit_map: list[int],
           frame: frozenset[int] = frozenset()) -> tuple[Circuit, frozenset[int]]:
    """The circuit with the systematic errors of its placement (logical q on physical
    ``qubit_map[q]``, Z-conjugated on the physical qubits in ``frame``) inserted, and the
    indices of those inserted gates (which get no depolarizing channel of their own)."""
    sign = [-1 if p in frame else 1 for p in qubit_map]  # per logical qubit: its host's frame
    sites: dict[int, list[tuple[int, ...]]] = {}
    for index, qs in error_sites(circuit):
        sites.setdefault(index, []).append(qs)
    gates: list[Gate] = []
    exempt: set[int] = set()
    for index, gate in enumerate(circuit.gates):
        gates.append(gate)
        if gate.name not in ONE_QUBIT or gate.controls:
            for qs in sites.get(index, []):
                if len(qs) == 2:
                    delta = float(s.coupling[qubit_map[qs[0]], qubit_map[qs[1]]])
                    exempt.add(len(gates))
                    gates.append(Gate("xx", qs, (), (sign[qs[0]] * sign[qs[1]] * delta,)))
        for q in gate.controls + gate.targets:
            eps = s.over_rotation[qubit_map[q]]
            if eps:
                exempt.add(len(gates))
                gates.append(Gate("rx", (q,), (), (sign[q] * eps,)))
    return Circuit(circuit.qubits, tuple(gates)), frozenset(exempt)


def qubit_maps(qubits: int, machine_qubits: int, variants: int, rng: np.random.Generator) -> list[list[int]]:
    """``variants`` random assignments of the logical qubits to distinct physical ones."""
    return [rng.choice(machine_qubits, size=qubits, replace=False).tolist() for _ in range(variants)]


def layouts(qubits: int, machine_qubits: int, variants: int,
            rng: np.random.Generator) -> list[tuple[list[int], frozenset[int]]]:
    """``variants`` (qubit map, frame) pairs: consecutive variants share a random assignment
    and run in complementary frames (a seeded half, on average, of its physical qubits, and
    the rest), so their over-rotations cancel at first order; an odd last one runs alone."""
    out: list[tuple[list[int], frozenset[int]]] = []
    while len(out) < variants:
        qubit_map = rng.choice(machine_qubits, size=qubits, replace=False).tolist()
        flipped = rng.random(qubits) < 0.5
        frame = frozenset(p for p, f in zip(qubit_map, flipped.tolist()) if f)
        out.append((qubit_map, frame))
        if len(out) < variants:
            out.append((qubit_map, frozenset(qubit_map) - frame))
    return out


def split(shots: int, variants: int) -> list[int]:
    """Shots per variant: as even as possible, the remainder to the first ones."""
    base, extra = divmod(shots, variants)
    return [base + (i < extra) for i in range(variants)]


def readout(counts: dict[str, int], qubits: int, s: Systematics, qubit_map: list[int],
            rng: np.random.Generator) -> dict[str, int]:
    """Asymmetric readout error on every measured bit, at the rates of the physical qubit it
    was measured on."""
    if not counts:
        return dict(counts)
    outcomes = np.repeat(np.array([int(k) for k in counts], dtype=np.int64), list(counts.values()))
    for q in range(qubits):
        bit = (outcomes >> q) & 1
        p = qubit_map[q]
        flip = rng.random(outcomes.size) < np.where(bit == 1, s.read_1_as_0[p], s.read_0_as_1[p])
        outcomes ^= flip.astype(np.int64) << q
    values, tallies = np.unique(outcomes, return_counts=True)
    return {str(v): int(c) for v, c in zip(values.tolist(), tallies.tolist())}


def average(histograms: list[dict[str, int]]) -> dict[str, float]:
    """The variants' distributions averaged (each variant weighs as its share of shots,
    so equal splits average exactly and the result is still count / shots)."""
    total = sum(sum(h.values()) for h in histograms)
    pooled: dict[str, int] = {}
    for h in histograms:
        for k, c in h.items():
            pooled[k] = pooled.get(k, 0) + c
    return {k: pooled[k] / total for k in sorted(pooled, key=int)}


def sharpen(histograms: list[dict[str, int]]) -> dict[str, float]:
    """Plurality voting: each variant votes for its most probable outcome (ties: the
    smallest); the result is the share of votes."""
    votes: dict[str, int] = {}
    for h in histograms:
        if h:
            top = max(h.values())
            winner = min((k for k, c in h.items() if c == top), key=int)
            votes[winner] = votes.get(winner, 0) + 1
    cast = sum(votes.values())
    return {k: votes[k] / cast for k in sorted(votes, key=int)}


def run(circuit: Circuit, s: Systematics, machine_qubits: int, shots: int, seed: int, stream: int = 0,
        variants: int = 1, frames: bool = True, limits: Limits = Limits()) -> list[tuple[list[int], dict[str, int]]]:
    """Run ``circuit`` on the emulated machine: ``variants == 1`` in the default layout
    (logical q on physical q, plain frame), else as that many debiasing variants
    (:func:`layouts`; ``frames=False``: assignments only, no frames, as before frames
    were emulated). Each variant's (qubit map, histogram in logical bit order) after
    noise and readout; seeded. :func:`frames_of` gives each one's frame."""
    rng = np.random.default_rng([seed, stream, 0x646562])
    plan = _plan(circuit.qubits, machine_qubits, variants, frames, rng)
    out = []
    for v, ((qubit_map, frame), n) in enumerate(zip(plan, split(shots, len(plan)))):
        noisy, exempt = placed(circuit, s, qubit_map, frame)
        counts = noisy_counts(noisy, s.model, n, seed, stream * 64 + v, limits, exempt)
        out.append((qubit_map, readout(counts, circuit.qubits, s, qubit_map, rng)))
    return out


def frames_of(qubits: int, machine_qubits: int, seed: int, stream: int = 0, variants: int = 1,
              frames: bool = True) -> list[list[int]]:
    """Each variant's frame (its Z-conjugated physical qubits, sorted) when :func:`run` runs
    with the same arguments — to record beside the qubit maps."""
    rng = np.random.default_rng([seed, stream, 0x646562])
    return [sorted(f) for _, f in _plan(qubits, machine_qubits, variants, frames, rng)]


def _plan(qubits: int, machine_qubits: int, variants: int, frames: bool,
          rng: np.random.Generator) -> list[tuple[list[int], frozenset[int]]]:
    if variants == 1:
        return [(list(range(qubits)), frozenset())]
    if not frames:
        return [(m, frozenset()) for m in qubit_maps(qubits, machine_qubits, variants, rng)]
    return layouts(qubits, machine_qubits, variants, rng)
