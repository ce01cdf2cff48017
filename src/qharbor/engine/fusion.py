"""Gate fusion: merge runs of gates into few small dense unitaries.

A dense simulator's cost is dominated by passes over the state, not by the
arithmetic of a 2-4 qubit matrix, so gates are multiplied together (on the CPU,
in tiny matrices) until a block would exceed ``max_size`` qubits. Open blocks are
kept per qubit; blocks on disjoint qubits commute, so a block is only closed
(emitted) when a gate needs its qubits together with too many others. This is the
idea behind qsim's fuser, reimplemented here in a simple greedy form.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from . import gates as gate_matrices
from .circuit import ONE_QUBIT, Gate


@dataclass(slots=True)
class Op:
    """A unitary on ``targets`` (big-endian), applied where all ``controls`` are |1>."""

    targets: tuple[int, ...]
    matrix: np.ndarray
    controls: tuple[int, ...] = ()


@dataclass(slots=True)
class Diagonal:
    """A diagonal unitary: amplitude ``i`` is multiplied by ``values[j]``, where bit ``b``
    of ``j`` is bit ``qubits[b]`` of ``i`` (``qubits`` sorted)."""

    qubits: tuple[int, ...]
    values: np.ndarray


#: Qubits at or above this position a diagonal run may touch (at most ``DIAG_HIGH``
#: of them): lower ones vary within a 64-amplitude lane of the diagonal kernel's table.
DIAG_LANE_BITS = 6
DIAG_HIGH = 8


def _diagonal(op: Op) -> np.ndarray | None:
    m = op.matrix
    if m.shape[0] == 2:  # the common case, without two counting passes
        return np.diagonal(m) if m[0, 1] == 0 and m[1, 0] == 0 else None
    d = np.diagonal(m)
    return d if np.count_nonzero(m) == np.count_nonzero(d) else None


def _combine(run: list[tuple[Op, np.ndarray]], qubits: set[int]) -> Diagonal:
    """One diagonal for a run: the table is held as a tensor with one axis per qubit, and
    each op multiplies in its own few-qubit factor by broadcasting (one pass per op)."""
    order = tuple(sorted(qubits))
    m = len(order)
    axis = {q: m - 1 - b for b, q in enumerate(order)}  # C order: the last axis is bit 0
    table = np.ones((2,) * m, dtype=np.complex128)
    for op, d in run:
        qs = op.controls + op.targets  # big-endian, as ``d`` is over the targets
        factor = np.ones(1 << len(qs), dtype=np.complex128)
        factor[-d.shape[0]:] = d  # the rows where every control is |1>
        perm = sorted(range(len(qs)), key=lambda i: axis[qs[i]])
        shape = [1] * m
        for i in perm:
            shape[axis[qs[i]]] = 2
        table *= factor.reshape((2,) * len(qs)).transpose(perm).reshape(shape)
    return Diagonal(order, table.reshape(-1))


def group_diagonals(ops: Iterable[Op], max_size: int) -> Iterator[Op | Diagonal]:
    """Merge runs of consecutive diagonal ops (rz, phase, z, zz, controlled phases...)
    into one :class:`Diagonal` each, which costs one elementwise pass however many
    qubits it spans. Runs that dense fusion would absorb anyway (at most ``max_size``
    qubits, or fewer than two multi-qubit gates) are passed through unchanged."""
    run: list[tuple[Op, np.ndarray]] = []
    qubits: set[int] = set()

    def flush() -> Iterator[Op | Diagonal]:
        multi = sum(1 for op, _ in run if len(op.targets) + len(op.controls) > 1)
        if multi >= 2 and len(qubits) > max_size:
            yield _combine(run, qubits)
        else:
            yield from (op for op, _ in run)
        run.clear()
        qubits.clear()

    for op in ops:
        d = _diagonal(op)
        if d is None:
            if run:
                yield from flush()
            yield op
            continue
        touched = set(op.targets) | set(op.controls)
        if sum(q >= DIAG_LANE_BITS for q in qubits | touched) > DIAG_HIGH:
            yield from flush()
        run.append((op, d))
        qubits |= touched
    yield from flush()


def gate_ops(gate: Gate) -> Iterator[Op]:
    """The ops of one gate: broadcast one-qubit gates become one op per target."""
    m = gate_matrices.matrix(gate)
    if gate.name in ONE_QUBIT and len(gate.targets) > 1:
        for t in gate.targets:
            yield Op((t,), m, gate.controls)
    else:
        yield Op(gate.targets, m, gate.controls)


def absorb_controls(op: Op) -> Op:
    """The same op as one uncontrolled matrix on ``controls + targets``."""
    if not op.controls:
        return op
    return Op(op.controls + op.targets, _controlled(op.matrix.tobytes(), op.matrix.shape[0], len(op.controls)))


@functools.lru_cache(maxsize=256)
def _controlled(matrix: bytes, dim: int, k: int) -> np.ndarray:
    """``matrix`` (``dim`` square) under ``k`` controls, as one matrix; cached (read-only):
    a circuit's controlled gates are mostly a few fixed ones (cnot, cz)."""
    full = np.eye(dim << k, dtype=np.complex128)
    full[-dim:, -dim:] = np.frombuffer(matrix, dtype=np.complex128).reshape(dim, dim)
    full.setflags(write=False)
    return full


def _kron2(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``kron(a, b)`` of two 2x2 matrices, without ``np.kron``'s generality (8x faster)."""
    return (a[:, None, :, None] * b[None, :, None, :]).reshape(4, 4)


#: Row order of a two-qubit matrix with its two qubits swapped.
_SWAPPED = np.array([0, 2, 1, 3])


def embed(m: np.ndarray, qubits: tuple[int, ...], into: tuple[int, ...]) -> np.ndarray:
    """``m`` (on ``qubits``) as a matrix on the superset ``into``, identity elsewhere."""
    if qubits == into:
        return m
    n, k = len(into), len(qubits)
    if n == 2:  # the common cases of two-qubit fusion, without kron's generality
        if k == 2:
            return m[_SWAPPED][:, _SWAPPED]
        out = np.zeros((4, 4), dtype=np.complex128)
        if qubits[0] == into[0]:  # kron(m, I)
            out[0::2, 0::2] = m
            out[1::2, 1::2] = m
        else:  # kron(I, m)
            out[:2, :2] = m
            out[2:, 2:] = m
        return out
    order = qubits + tuple(q for q in into if q not in qubits)
    full = np.kron(m, np.eye(1 << (n - k))) if n > k else m
    perm = [order.index(q) for q in into]
    tensor = full.reshape((2,) * (2 * n)).transpose(perm + [n + p for p in perm])
    return tensor.reshape(1 << n, 1 << n)


def pack(closing: list[Op], max_size: int) -> list[Op]:
    """Blocks closed together act on disjoint qubits, so they commute: merge them
    greedily (first fit, largest first) into as few blocks of ``max_size`` as possible."""
    if len(closing) < 2:
        return closing
    packed: list[Op] = []
    for block in sorted(closing, key=lambda b: -len(b.targets)):
        for i, p in enumerate(packed):
            if len(p.targets) + len(block.targets) <= max_size:
                union = p.targets + block.targets
                packed[i] = Op(union, embed(p.matrix, p.targets, union) @ embed(block.matrix, block.targets, union))
                break
        else:
            packed.append(block)
    return packed


def fuse(ops: Iterable[Op | Diagonal], max_size: int, tick: Callable[[], None] | None = None) -> Iterator[Op | Diagonal]:
    """Yield fused ops equivalent, in order, to ``ops``; ``tick`` is called now and then.

    One-qubit gates wait as a 2x2 product per qubit and join the next block that takes
    their qubit: a 2x2 product is far cheaper than growing an open block's matrix."""
    blocks: dict[int, Op] = {}  # qubit -> open block holding it
    pending: dict[int, np.ndarray] = {}  # qubit -> one-qubit gates since its open block

    def close(qubits: Iterable[int]) -> Iterator[Op]:
        closing: list[Op] = []
        for q in qubits:
            block = blocks.get(q)
            if block is not None:
                for b in block.targets:
                    del blocks[b]
                closing.append(block)
        yield from pack(closing, max_size)

    def settle(qubits: Iterable[int]) -> None:
        """Fold the waiting one-qubit gates on ``qubits`` into their open blocks."""
        for q in qubits:
            m = pending.pop(q, None)
            if m is None:
                continue
            b = blocks.get(q)
            merged = Op((q,), m) if b is None else Op(b.targets, embed(m, (q,), b.targets) @ b.matrix)
            for t in merged.targets:
                blocks[t] = merged

    for i, op in enumerate(ops):
        if tick is not None and i % 64 == 63:
            tick()
        if isinstance(op, Diagonal) or len(op.targets) + len(op.controls) > max_size:
            qubits = op.qubits if isinstance(op, Diagonal) else op.targets + op.controls
            settle(qubits)
            yield from close(qubits)
            yield op
            continue
        if len(op.targets) == 1 and not op.controls:
            q = op.targets[0]
            m = pending.get(q)
            pending[q] = op.matrix if m is None else op.matrix @ m
            continue
        op = absorb_controls(op)
        m = op.matrix
        waiting = [pending.pop(q, None) for q in op.targets]
        if len(waiting) == 2 and waiting[0] is not None and waiting[1] is not None:
            m = m @ _kron2(waiting[0], waiting[1])  # both at once: one product, not two
        else:
            for q, p in zip(op.targets, waiting, strict=True):
                if p is not None:
                    m = m @ embed(p, (q,), op.targets)
        touching: list[Op] = []
        for q in op.targets:
            b = blocks.get(q)
            if b is not None and all(b is not t for t in touching):
                touching.append(b)
        union = tuple(dict.fromkeys([q for b in touching for q in b.targets] + list(op.targets)))
        if len(union) > max_size:
            yield from close(op.targets)
            merged = Op(op.targets, m)
        else:
            m = embed(m, op.targets, union)
            for b in touching:  # disjoint blocks commute: their product order is free
                m = m @ embed(b.matrix, b.targets, union)
            merged = Op(union, m)
        for q in merged.targets:
            blocks[q] = merged
    settle(list(pending))
    yield from pack(list({id(b): b for b in blocks.values()}.values()), max_size)
