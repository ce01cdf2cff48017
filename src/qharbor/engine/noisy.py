"""Noisy circuits, shot by shot: one trajectory per shot, grouped by error pattern
(``noise.plan`` draws the patterns and propagates each error as far as it goes)."""

from __future__ import annotations

import numpy as np

from . import measure, noise, stabilizer, statevector
from .circuit import Circuit, Gate
from .limits import Limits


def _draw(re: np.ndarray, im: np.ndarray, flips: np.ndarray, rng: np.random.Generator,
          cdf: np.ndarray) -> np.ndarray:
    """One outcome per entry of ``flips`` from the state's distribution, XOR its flip mask
    (``cdf``: a float64 buffer of the state's size, reused)."""
    measure.cumulative(re, im, cdf)
    outcomes = np.searchsorted(cdf, rng.random(flips.size) * cdf[-1], side="right")
    np.minimum(outcomes, cdf.size - 1, out=outcomes)
    return outcomes.astype(np.int64) ^ flips


def _tally(outcomes: np.ndarray) -> dict[str, int]:
    values, tallies = np.unique(outcomes, return_counts=True)
    return {str(k): int(v) for k, v in zip(values.tolist(), tallies.tolist())}


def noisy_counts(circuit: Circuit, model: noise.NoiseModel, shots: int, seed: int, stream: int = 0,
                 limits: Limits = Limits(), exempt: frozenset[int] = frozenset()) -> dict[str, int]:
    """Shot counts under ``model``.

    Errors are propagated to where a gate blocks them, or to the end where they are bit
    flips (``noise.plan``); the ideal circuit runs once, and each distinct blocked pattern
    continues from a copy of the ideal state at its first error. A Clifford circuit (all
    of whose errors become bit flips) needs no state vector at all (``stabilizer.py``).
    ``seed`` and ``stream`` (e.g. the circuit's position in its job) fix the result. Gates
    whose index is in ``exempt`` get no error channel (emulated systematic errors,
    ``debias.py``).
    """
    rng = np.random.default_rng([seed, stream, 0x6E6F697365])
    deadline = limits.deadline()
    groups = noise.plan(circuit, model, shots, rng, exempt)
    if not groups:
        return {}
    if set(groups) <= {()} and stabilizer.is_clifford(circuit):
        x0, basis = stabilizer.clifford_sampler(circuit)
        return _tally(stabilizer.draw_clifford(x0, basis, groups[()], rng))
    copies = 1 if set(groups) <= {()} else 2  # the ideal state, and one pattern's copy
    dtype = statevector.PRECISIONS[limits.precision_for(circuit.qubits, copies, " with noise")]
    re = np.zeros(1 << circuit.qubits, dtype=dtype)
    im = np.zeros(1 << circuit.qubits, dtype=dtype)
    re[0] = 1.0
    gates, at = circuit.gates, 0
    outcomes: list[np.ndarray] = []
    # Buffers for every pattern: fresh ones each time cost a page fault per 4 KiB page,
    # at 20 qubits more than the pattern's simulation.
    cdf = np.empty(re.shape[0], dtype=np.float64)
    wre, wim = (np.empty_like(re), np.empty_like(im)) if copies == 2 else (re, im)
    for key in sorted((k for k in groups if k), key=lambda k: k[0][0]):
        first = key[0][0]
        statevector.evolve(re, im, gates[at:first], deadline)
        at = first
        np.copyto(wre, re)
        np.copyto(wim, im)
        rest: list[Gate] = []
        pos = first
        for position, x, z in key:
            rest += gates[pos:position]
            rest += noise.pauli_gates(circuit.qubits, x, z)
            pos = position
        rest += gates[pos:]
        statevector.evolve(wre, wim, rest, deadline)
        outcomes.append(_draw(wre, wim, groups[key], rng, cdf))
    del wre, wim
    statevector.evolve(re, im, gates[at:], deadline)
    if () in groups:
        outcomes.append(_draw(re, im, groups[()], rng, cdf))
    return _tally(np.concatenate(outcomes)) if outcomes else {}
