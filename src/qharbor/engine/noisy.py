"""Noisy circuits, shot by shot: one trajectory per shot, grouped by error pattern
(``noise.plan`` draws the patterns and propagates each error as far as it goes)."""

from __future__ import annotations

import functools

import numpy as np

from . import measure, noise, stabilizer, statevector
from .circuit import Circuit, Gate
from .limits import Limits

#: Qubits whose X errors are applied as a gate rather than during the copy (``_branch``).
_LOW = (1 << 6) - 1
#: Fused circuit tails kept per run (each its blocks' prepared tables: KiB to a few hundred KiB).
_TAILS = 256


def _copy_with_pauli(dst: np.ndarray, src: np.ndarray, x: int, z: int) -> None:
    """``dst`` = X^x Z^z ``src`` (a Pauli error, up to its global phase) in one strided copy:
    the state seen as an array with one axis of 2 per qubit the error touches (and one axis
    per stretch of qubits between), each X qubit's axis reversed; then each Z qubit's half
    negated (where two Z qubits are both 1, twice: unchanged). Only for X on qubits 6 and up:
    below, the copy's contiguous runs are so short that numpy takes 10-20x a plain copy."""
    n = src.shape[0].bit_length() - 1
    shape: list[int] = []
    axis: dict[int, int] = {}
    above = n
    for q in sorted((q for q in range(n) if ((x | z) >> q) & 1), reverse=True):
        shape.append(1 << (above - q - 1))
        axis[q] = len(shape)
        shape.append(2)
        above = q
    shape.append(1 << above)
    view = dst.reshape(shape)
    flip = [slice(None)] * len(shape)
    for q, k in axis.items():
        if (x >> q) & 1:
            flip[k] = slice(None, None, -1)
    np.copyto(view, src.reshape(shape)[tuple(flip)])
    for q, k in axis.items():
        if (z >> q) & 1:
            half = view[(slice(None),) * k + (1,)]
            np.negative(half, out=half)


def _branch(wre: np.ndarray, wim: np.ndarray, re: np.ndarray, im: np.ndarray, x: int, z: int) -> None:
    """The work state = the shared state with the Pauli error (x, z) applied."""
    if x & _LOW:
        np.copyto(wre, re)
        np.copyto(wim, im)
        n = re.shape[0].bit_length() - 1
        statevector.evolve(wre, wim, noise.pauli_gates(n, x, z))
    else:
        _copy_with_pauli(wre, re, x, z)
        _copy_with_pauli(wim, im, x, z)


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


def _run(re: np.ndarray, im: np.ndarray, program: statevector.Program | None, gates: tuple[Gate, ...],
         start: int, stop: int, deadline: float | None) -> None:
    """Gates ``start`` to ``stop`` of the circuit on the state."""
    if program is not None:
        statevector.run_program(re, im, [program.between(start, stop)], deadline)
    else:
        statevector.evolve(re, im, gates[start:stop], deadline)


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
    # A small register runs stretches of the circuit encoded once (statevector.Program), the
    # errors' Paulis between. A wide one fuses the circuit from each pattern's last error to
    # the end once per position (patterns share them: most have one error), and takes its
    # first error while copying the shared prefix's state.
    program = statevector.Program(gates) if re.shape[0] <= 1 << statevector.SMALL_QUBITS else None
    tick = statevector.checker(deadline)
    tail = functools.lru_cache(maxsize=_TAILS)(
        lambda start: statevector.plan(gates[start:], circuit.qubits, re.dtype, tick))
    for key in sorted((k for k in groups if k), key=lambda k: k[0][0]):
        first = key[0][0]
        _run(re, im, program, gates, at, first, deadline)
        at = first
        if program is not None:
            np.copyto(wre, re)
            np.copyto(wim, im)
            parts, pos = [], first
            for position, x, z in key:
                parts += [program.between(pos, position), statevector.encode(noise.pauli_gates(circuit.qubits, x, z))]
                pos = position
            parts.append(program.between(pos, len(gates)))
            statevector.run_program(wre, wim, parts, deadline)
        else:
            _branch(wre, wim, re, im, key[0][1], key[0][2])
            pos = first
            for position, x, z in key[1:]:
                statevector.evolve(wre, wim, [*gates[pos:position], *noise.pauli_gates(circuit.qubits, x, z)], deadline)
                pos = position
            statevector.apply(wre, wim, tail(pos), tick)
        outcomes.append(_draw(wre, wim, groups[key], rng, cdf))
    del wre, wim
    _run(re, im, program, gates, at, len(gates), deadline)
    if () in groups:
        outcomes.append(_draw(re, im, groups[()], rng, cdf))
    return _tally(np.concatenate(outcomes)) if outcomes else {}
