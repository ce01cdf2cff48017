"""Dynamic circuits: mid-circuit measurement, reset and classical feed-forward.

A :class:`Program` is a list of canonical :class:`Gate` records interleaved with
:class:`Measure`, :class:`Reset` and :class:`IfElse` operations over a classical
record of ``clbits`` bits (bit ``b`` of the record is ``1 << b``). :func:`outcomes`
returns the distribution of final classical records.

How it runs:

1. *Deferral.* A measurement whose qubit is never acted on again, whose bit no
   later condition reads and no later kept measurement overwrites, commutes to
   the end of the program. Those are pulled out (scanning backwards) and read off
   the final state instead of being simulated.
2. *Static programs* (nothing dynamic left) run once through :func:`engine.simulate`
   and the exact distribution of records is computed from the basis-state
   probabilities: ``exact`` is then True.
3. *Dynamic programs* run by **shot branching**: one statevector carries all
   ``shots``; at each measurement or reset the shots are split binomially between
   the two outcomes and each outcome with shots left continues as its own branch
   (depth first, so at most one pending state per open split is held). A branch
   never has fewer than one shot, so the work is bounded by ``shots`` trajectories
   but is usually far less (deterministic outcomes do not split). At the end each
   branch samples its deferred measurements from its final state. The result is a
   sampled histogram (``exact`` False). Everything is drawn from the caller's
   seeded generator in a fixed order, so a seed reproduces the result.

4. *Under a noise model* (``noise``) every gate is followed by the model's
   depolarizing channel on the same sites as circuit trajectories
   (:func:`engine.noise.sites`): at each site a binomial number of the
   branch's shots take an error, split evenly over the non-identity Paulis, and
   each Pauli's shots continue as their own branch (run before the error-free
   rest, so few states are held at once). Gates inside ``if``/``else`` bodies get
   the channel when they run; static programs then also take this path.

The statevector here is self-contained (it only asks :func:`engine.gates.matrix`
for a gate's target unitary), so changes to the main simulator's kernels do not
affect it.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Union

import numpy as np

from . import gates as gate_matrices
from . import measure
from .circuit import Circuit, Gate
from .errors import SimulationTimeout, TooComplex
from .ideal import simulate
from .limits import Limits
from .noise import SITE_PAULIS, NoiseModel, error_probability, sites


@dataclass(frozen=True, slots=True)
class Measure:
    """Measure ``qubit`` in the Z basis into record bit ``bit`` (``None``: discard the outcome)."""

    qubit: int
    bit: int | None


@dataclass(frozen=True, slots=True)
class Reset:
    """Return ``qubit`` to |0> (a measurement whose outcome is discarded, then X on 1)."""

    qubit: int


@dataclass(frozen=True, slots=True)
class Condition:
    """``value(bits) <op> value``, where ``bits[0]`` is the least-significant bit read."""

    bits: tuple[int, ...]
    op: str  # one of == != < <= > >=
    value: int

    def holds(self, record: int) -> bool:
        v = 0
        for i, b in enumerate(self.bits):
            v |= ((record >> b) & 1) << i
        return _COMPARE[self.op](v, self.value)


_COMPARE = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


@dataclass(frozen=True, slots=True)
class IfElse:
    condition: Condition
    then: tuple[Op, ...]
    orelse: tuple[Op, ...] = ()


Op = Union[Gate, Measure, Reset, IfElse]


@dataclass(frozen=True, slots=True)
class Program:
    qubits: int
    clbits: int
    ops: tuple[Op, ...]


def _qubits_of(op: Op) -> set[int]:
    if isinstance(op, Gate):
        return set(op.targets) | set(op.controls)
    if isinstance(op, (Measure, Reset)):
        return {op.qubit}
    found: set[int] = set()
    for inner in op.then + op.orelse:
        found |= _qubits_of(inner)
    return found


def _written_bits(op: Op) -> set[int]:
    if isinstance(op, Measure):
        return set() if op.bit is None else {op.bit}
    if isinstance(op, IfElse):
        found: set[int] = set()
        for inner in op.then + op.orelse:
            found |= _written_bits(inner)
        return found
    return set()


def _read_bits(op: Op) -> set[int]:
    if not isinstance(op, IfElse):
        return set()
    found = set(op.condition.bits)
    for inner in op.then + op.orelse:
        found |= _read_bits(inner)
    return found


def split_deferred(ops: tuple[Op, ...]) -> tuple[list[Op], list[Measure]]:
    """``(kept, deferred)``: the measurements that commute to the end, in program order."""
    touched: set[int] = set()
    read: set[int] = set()
    written: set[int] = set()
    kept: list[Op] = []
    deferred: list[Measure] = []
    for op in reversed(ops):
        if (isinstance(op, Measure) and op.qubit not in touched
                and (op.bit is None or (op.bit not in read and op.bit not in written))):
            deferred.append(op)
            continue
        kept.append(op)
        touched |= _qubits_of(op)
        read |= _read_bits(op)
        written |= _written_bits(op)
    kept.reverse()
    deferred.reverse()
    return kept, [m for m in deferred if m.bit is not None]


def static_part(program: Program) -> tuple[Circuit, list[Measure]] | None:
    """A program with nothing dynamic left once its final measurements are deferred, as one
    circuit plus the measurements that read its final state; None for a dynamic program."""
    kept, deferred = split_deferred(program.ops)
    if not all(isinstance(op, Gate) for op in kept):
        return None
    return Circuit(program.qubits, tuple(op for op in kept if isinstance(op, Gate))), deferred


def records(indices: np.ndarray, deferred: list[Measure], clbits: int, base: int = 0) -> np.ndarray:
    """The classical record of each basis-state index after the deferred measurements."""
    if clbits <= 62:
        rec = np.full(indices.shape, base, dtype=np.int64)
        idx = indices.astype(np.int64)
    else:  # Python integers: records wider than a machine word
        rec = np.full(indices.shape, base, dtype=object)
        idx = indices.astype(object)
    for m in deferred:
        assert m.bit is not None
        bit = (idx >> m.qubit) & 1
        rec = (rec & ~(1 << m.bit)) | (bit << m.bit)
    return rec


def outcomes(
    program: Program,
    shots: int,
    rng: np.random.Generator,
    limits: Limits = Limits(),
    noise: NoiseModel | None = None,
) -> tuple[dict[int, float], bool]:
    """The distribution of final classical records: ``({record: weight}, exact)``.

    ``exact`` True: weights are exact probabilities. False: they are ``count/shots``
    of a seeded sample of ``shots`` runs: always so under ``noise`` or with mid-circuit
    measurement, and for static programs whose exact distribution has more than
    ``limits.max_exact`` outcomes (``measure.py``).
    """
    static = static_part(program) if noise is None else None
    if static is not None:
        circuit, deferred = static
        probs = simulate(circuit, limits)
        measured = sorted({m.qubit for m in deferred})
        if len(measured) < circuit.qubits and len(measured) <= measure.MARGINAL_QUBITS:
            probs = measure.marginal(probs, measured)  # only the measured qubits matter
            deferred = [Measure(measured.index(m.qubit), m.bit) for m in deferred]
        found = measure.measure(probs, shots, rng, limits.max_exact)
        keys, inverse = np.unique(records(found.indices, deferred, program.clbits), return_inverse=True)
        weights = np.bincount(inverse.reshape(-1), weights=found.values)
        if found.sampled:
            weights /= shots
        return {int(k): float(w) for k, w in zip(keys.tolist(), weights.tolist())}, not found.sampled
    kept, deferred = split_deferred(program.ops)
    histogram = _branch(program.qubits, program.clbits, kept, deferred, shots, rng, limits, noise)
    return {k: c / shots for k, c in sorted(histogram.items())}, False


# --- shot branching -------------------------------------------------------------------------

_JUMP_UNLESS = "jump-unless"
_JUMP = "jump"
_CHANNEL = "channel"


def _linear(ops: list[Op] | tuple[Op, ...], code: list[tuple], noisy: bool) -> None:
    """Flatten nested if/else into straight-line code with conditional jumps; ``noisy``:
    each gate is followed by one channel entry per error site."""
    for op in ops:
        if isinstance(op, IfElse):
            at = len(code)
            code.append((_JUMP_UNLESS, op.condition, None))
            _linear(op.then, code, noisy)
            if op.orelse:
                skip = len(code)
                code.append((_JUMP, None, None))
                code[at] = (_JUMP_UNLESS, op.condition, len(code))
                _linear(op.orelse, code, noisy)
                code[skip] = (_JUMP, None, len(code))
            else:
                code[at] = (_JUMP_UNLESS, op.condition, len(code))
        else:
            code.append((op,))
            if noisy and isinstance(op, Gate):
                code += [(_CHANNEL, qubits, None) for qubits in sites(op)]


def _apply(state: np.ndarray, n: int, gate: Gate) -> None:
    """Apply a gate in place; ``state`` has shape (2,)*n, axis ``a`` is qubit n-1-a."""
    if len(gate.targets) > 1 and gate.name not in _MULTI:  # a one-qubit gate broadcast
        for t in gate.targets:
            _apply(state, n, Gate(gate.name, (t,), gate.controls, gate.params))
        return
    unitary = gate_matrices.matrix(gate)
    k = len(gate.targets)
    index: list[int | slice] = [slice(None)] * n
    for c in gate.controls:
        index[n - 1 - c] = 1
    view = state[tuple(index)]
    removed = sorted(n - 1 - c for c in gate.controls)
    axes = []
    for t in gate.targets:
        axis = n - 1 - t
        axes.append(axis - sum(1 for r in removed if r < axis))
    tensor = np.asarray(unitary, dtype=complex).reshape((2,) * (2 * k))
    moved = np.tensordot(tensor, view, axes=(list(range(k, 2 * k)), axes))
    view[...] = np.moveaxis(moved, list(range(k)), axes)


_MULTI = frozenset({"swap", "xx", "yy", "zz", "ms", "pauliexp"})


def _slice(n: int, qubit: int, value: int) -> tuple:
    index: list[int | slice] = [slice(None)] * n
    index[n - 1 - qubit] = value
    return tuple(index)


def _project(state: np.ndarray, n: int, qubit: int, outcome: int, probability: float) -> None:
    state[_slice(n, qubit, 1 - outcome)] = 0
    state *= 1 / math.sqrt(probability)


def _errors(qubits: tuple[int, ...], count: int, model: NoiseModel,
            rng: np.random.Generator) -> list[tuple[list[Gate], int]]:
    """The depolarizing errors at one site among ``count`` shots: (Pauli gates, shots)
    per distinct Pauli, as ``noise.shot_errors`` draws them for circuits."""
    hits = int(rng.binomial(count, error_probability(model, qubits)))
    if not hits:
        return []
    kinds = SITE_PAULIS[len(qubits)]
    split = rng.multinomial(hits, [1 / len(kinds)] * len(kinds)).tolist()
    return [([Gate(p, (qubits[i],)) for i, p in kind], k) for kind, k in zip(kinds, split) if k]


def _branch(
    n: int, clbits: int, ops: list[Op], deferred: list[Measure], shots: int,
    rng: np.random.Generator, limits: Limits, noise: NoiseModel | None = None,
) -> dict[int, int]:
    deadline = limits.deadline()
    state_bytes = 16 << n
    budget = limits.memory(2 * state_bytes) // 2
    if 2 * state_bytes > budget:
        raise TooComplex(f"simulating {n} qubits with mid-circuit measurement needs more memory than this worker has")
    code: list[tuple] = []
    _linear(ops, code, noise is not None)
    histogram: dict[int, int] = {}
    state = np.zeros((2,) * n, dtype=np.complex128)
    state[(0,) * n] = 1.0
    stack: list[tuple[int, np.ndarray, int, int]] = [(0, state, 0, shots)]
    steps = 0
    while stack:
        pc, state, record, count = stack.pop()
        while pc < len(code):
            steps += 1
            if deadline is not None and steps % 64 == 0 and time.monotonic() > deadline:
                raise SimulationTimeout("the simulation ran past this job's time limit")
            item = code[pc]
            if item[0] == _JUMP:
                pc = item[2]
                continue
            if item[0] == _JUMP_UNLESS:
                pc = pc + 1 if item[1].holds(record) else item[2]
                continue
            if item[0] == _CHANNEL:  # the erring shots branch off and run first; the rest waits
                pc += 1
                errors = _errors(item[1], count, noise, rng)
                if not errors:
                    continue
                if (len(stack) + len(errors) + 1) * state_bytes > budget:
                    raise TooComplex("too many simultaneous error branches for this worker's memory")
                rest = count - sum(k for _, k in errors)
                if rest:
                    stack.append((pc, state, record, rest))
                for paulis, k in errors:
                    erred = state.copy()
                    for pauli in paulis:
                        _apply(erred, n, pauli)
                    stack.append((pc, erred, record, k))
                count = 0  # all of this branch's shots are on the stack now
                break
            op = item[0]
            pc += 1
            if isinstance(op, Gate):
                _apply(state, n, op)
                continue
            # Measure or Reset: split the shots between the outcomes.
            one = float(np.sum(np.abs(state[_slice(n, op.qubit, 1)]) ** 2))
            one = min(max(one, 0.0), 1.0)
            ones = int(rng.binomial(count, one)) if 0.0 < one < 1.0 else (count if one >= 0.5 else 0)
            outcome_record = {}
            for outcome in (0, 1):
                r = record
                if isinstance(op, Measure) and op.bit is not None:
                    r = (record & ~(1 << op.bit)) | (outcome << op.bit)
                outcome_record[outcome] = r
            if 0 < ones < count:
                if (len(stack) + 2) * state_bytes > budget:
                    raise TooComplex("too many simultaneous measurement branches for this worker's memory")
                other = state.copy()
                _project(other, n, op.qubit, 1, one)
                if isinstance(op, Reset):
                    _apply(other, n, Gate("x", (op.qubit,)))
                stack.append((pc, other, outcome_record[1], ones))
                _project(state, n, op.qubit, 0, 1.0 - one)
                count -= ones
                record = outcome_record[0]
            else:
                outcome = 1 if ones == count else 0
                _project(state, n, op.qubit, outcome, one if outcome else 1.0 - one)
                if outcome and isinstance(op, Reset):
                    _apply(state, n, Gate("x", (op.qubit,)))
                record = outcome_record[outcome]
        if not count:  # split by an error channel
            continue
        # A leaf: sample the deferred measurements from the final state.
        if deferred:
            probs = (state.real**2 + state.imag**2).reshape(-1)
            drawn = rng.multinomial(count, probs / probs.sum())
            hit = np.flatnonzero(drawn)
            for rec, c in zip(records(hit, deferred, clbits, record).tolist(), drawn[hit].tolist()):
                histogram[int(rec)] = histogram.get(int(rec), 0) + int(c)
        else:
            histogram[record] = histogram.get(record, 0) + count
    return histogram
