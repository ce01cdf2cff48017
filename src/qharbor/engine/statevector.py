"""Dense statevector runs on the CPU: a compiled interpreter for small registers,
fused blocks and parallel kernels for wide ones.

The state is two arrays (real, imaginary parts) indexed by basis state, bit q of
the index being qubit q (IonQ's convention: qubit 0 is the least-significant bit).
"""

from __future__ import annotations

import time
from array import array
from collections.abc import Callable, Iterator

import numpy as np

from . import gates as gate_matrices
from . import kernels
from .circuit import Circuit, Gate
from .errors import SimulationTimeout
from .fusion import DIAG_LANE_BITS, Diagonal, Op, fuse, gate_ops, group_diagonals

#: Registers up to this width run unfused in one serial compiled call per segment:
#: their passes are so short that thread start-up and Python would dominate.
SMALL_QUBITS = 12
#: Gates per interpreter call on the small path (the time limit is checked between).
_SEGMENT = 2048
#: Largest fused block, in qubits.
FUSE_QUBITS = 2

PRECISIONS = {"single": np.float32, "double": np.float64}


def _checker(deadline: float | None) -> Callable[[], None]:
    def tick() -> None:
        if deadline is not None and time.monotonic() > deadline:
            raise SimulationTimeout("the simulation ran past this job's time limit")

    return tick


def encode(gates: list[Gate] | tuple[Gate, ...]) -> np.ndarray:
    """The flat program ``kernels.run_encoded`` interprets (one record per gate)."""
    buf: list[float] = []
    add = buf.extend
    codes, custom = gate_matrices.CODES, gate_matrices.CUSTOM
    for g in gates:
        code = codes.get(g.name)
        t, c = g.targets, g.controls
        if code is None:  # pauliexp: a precomputed matrix
            m = gate_matrices.matrix(g)
            add((custom, len(t), len(c)) + t + c)
            add(np.stack((m.real, m.imag), axis=-1).ravel().tolist())
        else:
            add((code, len(t), len(c)) + t + c + g.params)
    return np.frombuffer(array("d", buf), dtype=np.float64)


def _ops(circuit: Circuit) -> Iterator[Op]:
    for gate in circuit.gates:
        yield from gate_ops(gate)


def _diagonal_table(op: Diagonal, n: int, dtype: type) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``hpos`` and the (rows, lanes) tables of ``kernels.diag_parallel`` for ``op``."""
    w = min(DIAG_LANE_BITS, n)
    lanes = np.arange(1 << w)
    lo = np.zeros(lanes.shape[0], dtype=np.int64)
    hpos = []
    for b, q in enumerate(op.qubits):
        if q < w:
            lo |= ((lanes >> q) & 1) << b
        else:
            hpos.append((q, b))
    rows = np.arange(1 << len(hpos))
    hi = np.zeros(rows.shape[0], dtype=np.int64)
    for r, (_, b) in enumerate(hpos):
        hi |= ((rows >> r) & 1) << b
    table = op.values[hi[:, None] | lo[None, :]]
    return (np.array([q for q, _ in hpos], dtype=np.int64),
            np.ascontiguousarray(table.real, dtype=dtype), np.ascontiguousarray(table.imag, dtype=dtype))


def _apply(re: np.ndarray, im: np.ndarray, op: Op | Diagonal) -> None:
    if isinstance(op, Diagonal):
        kernels.diag_parallel(re, im, *_diagonal_table(op, re.shape[0].bit_length() - 1, re.dtype))
        return
    pos, offs, cmask = kernels.layout(np.array(op.targets, dtype=np.int64),
                                      np.array(op.controls, dtype=np.int64))
    m = op.matrix
    if len(op.targets) <= 2:
        flat = np.ascontiguousarray(m, dtype=np.complex64 if re.dtype == np.float32 else np.complex128)
        kernels.small_parallel(re, im, pos, offs, cmask, flat.view(re.dtype).ravel())
    else:
        mre = np.ascontiguousarray(m.real, dtype=re.dtype)
        mim = np.ascontiguousarray(m.imag, dtype=re.dtype)
        kernels.apply_parallel(re, im, pos, offs, cmask, mre, mim)


def run(circuit: Circuit, deadline: float | None = None, precision: str = "double") -> tuple[np.ndarray, np.ndarray]:
    """Final amplitudes of ``circuit`` as (real, imaginary) vectors indexed by basis state.

    ``deadline`` is a ``time.monotonic()`` instant after which the run stops with
    :class:`SimulationTimeout`; it is checked between segments and fused blocks.
    """
    n = circuit.qubits
    dtype = PRECISIONS[precision]
    re = np.zeros(1 << n, dtype=dtype)
    im = np.zeros(1 << n, dtype=dtype)
    re[0] = 1.0
    tick = _checker(deadline)
    if n <= SMALL_QUBITS:
        for start in range(0, len(circuit.gates), _SEGMENT):
            tick()
            kernels.run_encoded(re, im, encode(circuit.gates[start:start + _SEGMENT]))
        return re, im
    for op in fuse(group_diagonals(_ops(circuit), FUSE_QUBITS), FUSE_QUBITS, tick):
        tick()
        _apply(re, im, op)
    return re, im

