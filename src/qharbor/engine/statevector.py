"""Dense statevector runs on the CPU: a compiled interpreter for small registers,
fused blocks and parallel kernels for wide ones.

The state is two arrays (real, imaginary parts) indexed by basis state, bit q of
the index being qubit q (IonQ's convention: qubit 0 is the least-significant bit).
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import subprocess
import sys
import tempfile
import time
from array import array
from collections.abc import Callable
from typing import Any

import numpy as np

from . import gates as gate_matrices
from . import kernels, measure, tiles
from .circuit import Circuit, Gate
from .errors import SimulationTimeout
from .fusion import Diagonal, Op, fuse, gate_ops, group_diagonals

#: Registers up to this width run unfused in one serial compiled call per segment:
#: their passes are so short that thread start-up and Python would dominate.
SMALL_QUBITS = 12
#: Gates per interpreter call on the small path (the time limit is checked between).
_SEGMENT = 2048
#: Largest fused block, in qubits.
FUSE_QUBITS = 2

PRECISIONS = {"single": np.float32, "double": np.float64}


def checker(deadline: float | None) -> Callable[[], None]:
    def tick() -> None:
        if deadline is not None and time.monotonic() > deadline:
            raise SimulationTimeout("the simulation ran past this job's time limit")

    return tick


def encode(gates: list[Gate] | tuple[Gate, ...], starts: list[int] | None = None) -> np.ndarray:
    """The flat program ``kernels.run_encoded`` interprets (one record per gate); ``starts``,
    if given, gets each record's offset."""
    buf: list[float] = []
    add = buf.extend
    codes, custom = gate_matrices.CODES, gate_matrices.CUSTOM
    for g in gates:
        if starts is not None:
            starts.append(len(buf))
        code = codes.get(g.name)
        t, c = g.targets, g.controls
        if code is None:  # pauliexp: a precomputed matrix
            m = gate_matrices.matrix(g)
            add((custom, len(t), len(c)) + t + c)
            add(np.stack((m.real, m.imag), axis=-1).ravel().tolist())
        else:
            add((code, len(t), len(c)) + t + c + g.params)
    if starts is not None:
        starts.append(len(buf))
    return np.frombuffer(array("d", buf), dtype=np.float64)


class Program:
    """A small register's gate list encoded once, to run any stretch of it: the noisy path
    runs many suffixes of one circuit, each with a few Pauli errors between (``noisy.py``)."""

    def __init__(self, gates: list[Gate] | tuple[Gate, ...]) -> None:
        starts: list[int] = []
        self.buf = encode(gates, starts)
        self.starts = starts

    def between(self, start: int, stop: int) -> np.ndarray:
        """The records of gates ``start`` to ``stop`` (exclusive)."""
        return self.buf[self.starts[start]:self.starts[stop]]


def run_program(re: np.ndarray, im: np.ndarray, parts: list[np.ndarray], deadline: float | None = None) -> None:
    """Run encoded records (:func:`encode`, :meth:`Program.between`) in order on a small state."""
    checker(deadline)()
    kernels.run_encoded(re, im, parts[0] if len(parts) == 1 else np.concatenate(parts))


def _warm_up_steps(precision: str) -> list[Callable[[], None]]:
    """One call per wide-register kernel on a tiny state. The blocks are complex as in
    real runs: a real matrix's ``.imag`` is read-only, and numba compiles a separate
    specialisation for read-only arrays."""
    dtype = PRECISIONS[precision]
    re, im = np.zeros(64, dtype=dtype), np.zeros(64, dtype=dtype)
    ops: list[Op | Diagonal] = [
        Op(targets, np.eye(1 << len(targets), dtype=np.complex128))
        for targets in [(0,), (1,), (2,), (3,), (1, 0), (2, 0), (3, 0), (2, 1), (3, 1), (3, 2),
                        (4, 0), (4, 1), (4, 2), (4, 3), (4,), (5, 4), (5, 3, 0)]]
    ops.append(Diagonal((0, 5), np.ones(4, dtype=np.complex128)))
    steps: list[Callable[[], None]] = [functools.partial(_apply, re, im, op) for op in ops]
    steps.append(lambda: kernels.run_encoded(re, im, encode([Gate("h", (0,)), Gate("x", (1,), (0,))])))
    steps.append(lambda: measure.warm_up(dtype))
    return steps


def _warm_up_tiles(precision: str) -> None:
    """The tile runner, with a program of each op kind. It calls every lane kernel, so it
    runs after them (see :func:`compile_kernels`), when they are loaded, not compiled."""
    dtype = PRECISIONS[precision]
    ops = [Op((1, 0), np.eye(4, dtype=np.complex128)), Op((5, 4), np.eye(4, dtype=np.complex128)),
           Op((5, 3, 0), np.eye(8, dtype=np.complex128)),
           Diagonal((0, 7), np.ones(4, dtype=np.complex128))]
    tiles.run(np.zeros(256, dtype=dtype), np.zeros(256, dtype=dtype), tiles.Tile(tuple(range(7)), ops))


def warm_up(precision: str, share: tuple[int, int] = (0, 1)) -> None:
    """Load every wide-register kernel for ``precision`` so no job pays for it (``share``
    ``(i, n)``: only every n-th from the i-th, for :func:`compile_kernels`)."""
    steps = _warm_up_steps(precision)
    for step in steps[share[0]::share[1]]:
        step()
    if share == (0, 1):
        _warm_up_tiles(precision)


#: Most subprocesses a cold compilation starts (each holds numba and LLVM in memory).
_COMPILE_HELPERS = 3


def compile_kernels(precision: str) -> None:
    """:func:`warm_up`, the first compilation (a fresh install: ~35 s on one core) spread
    over every core: subprocesses compile shares of the kernels into numba's disk cache,
    then this process loads them. A file lock keeps workers that start together from
    compiling the same kernels at once; the later ones then only load."""
    with contextlib.ExitStack() as stack:
        try:  # another user's lock file, or a file system without locks: no coordination
            lock = stack.enter_context(open(os.path.join(tempfile.gettempdir(), "qharbor-kernels.lock"), "a"))
            fcntl.flock(lock, fcntl.LOCK_EX)
        except OSError:
            pass
        started = time.monotonic()
        steps = _warm_up_steps(precision)
        steps[0]()
        helpers = min((os.cpu_count() or 1) - 1, _COMPILE_HELPERS)
        if time.monotonic() - started > 0.5 and helpers:  # compiled, not loaded: a cold cache
            code = ("import sys; from qharbor.engine import statevector as s; "
                    "s.warm_up(sys.argv[1], (int(sys.argv[2]), int(sys.argv[3])))")
            procs = [subprocess.Popen([sys.executable, "-c", code, precision, str(i), str(helpers + 1)])
                     for i in range(1, helpers + 1)]
            for step in steps[::helpers + 1]:  # this process's share
                step()
            for proc in procs:
                proc.wait()  # a failed helper only costs time: this process compiles what is missing
        for step in steps:
            step()
        _warm_up_tiles(precision)


#: A fused block ready to run: its kernel and the tables it takes after the state.
Prepared = tuple[Callable[..., None], tuple[Any, ...]]


def _prepare(op: Op | Diagonal, n: int, dtype: type) -> Prepared:
    """The kernel for ``op`` on an ``n``-qubit state of ``dtype`` and its tables (built once,
    so a plan run many times, like the noisy path's circuit tails, builds them once)."""
    if isinstance(op, Diagonal):
        return kernels.diag_parallel, kernels.diagonal_table(op, n, dtype)
    if kernels.pair_shaped(op.targets, op.controls):
        return kernels.pair_parallel, kernels.pair_tables(op.targets, op.matrix, dtype)
    if kernels.lane_shaped(op.targets, op.controls) and 1 << n >= 4 * kernels.LANES:
        kernel, *args = kernels.lane_tables(op.targets, op.matrix, dtype)
        return kernel, tuple(args)
    pos, offs, cmask = kernels.layout(np.array(op.targets, dtype=np.int64), np.array(op.controls, dtype=np.int64))
    mre = np.ascontiguousarray(op.matrix.real, dtype=dtype)
    mim = np.ascontiguousarray(op.matrix.imag, dtype=dtype)
    return kernels.apply_parallel, (pos, offs, cmask, mre, mim)


def _apply(re: np.ndarray, im: np.ndarray, op: Op | Diagonal) -> None:
    kernel, tables = _prepare(op, re.shape[0].bit_length() - 1, re.dtype)
    kernel(re, im, *tables)


def evolve(re: np.ndarray, im: np.ndarray, gates: list[Gate] | tuple[Gate, ...],
           deadline: float | None = None) -> None:
    """Apply ``gates`` in place to the state (``re``, ``im``): small registers through the
    interpreter, wide ones fused. ``deadline`` (a ``time.monotonic()`` instant) is checked
    between segments and blocks; past it, :class:`SimulationTimeout`. The noisy path
    continues shared ideal prefixes with it (``noisy.py``)."""
    tick = checker(deadline)
    if re.shape[0] <= 1 << SMALL_QUBITS:
        for start in range(0, len(gates), _SEGMENT):
            tick()
            kernels.run_encoded(re, im, encode(gates[start:start + _SEGMENT]))
        return
    apply(re, im, plan(gates, re.shape[0].bit_length() - 1, re.dtype, tick), tick)


def plan(gates: list[Gate] | tuple[Gate, ...], n: int, dtype: type,
         tick: Callable[[], None] = lambda: None) -> list[Prepared]:
    """What :func:`evolve` runs for ``gates`` on a wide register of ``n`` qubits: fused blocks,
    grouped into cache tiles where those pay (``tiles.py``), each ready to run."""
    ops = list(fuse(group_diagonals((op for gate in gates for op in gate_ops(gate)), FUSE_QUBITS), FUSE_QUBITS, tick))
    steps = tiles.plan(ops, n, tiles.TILE_QUBITS[dtype]) if tiles.usable(n) else ops
    return [(tiles.run_prepared, tiles.prepare(step, n, dtype)) if isinstance(step, tiles.Tile)
            else _prepare(step, n, dtype) for step in steps]


def apply(re: np.ndarray, im: np.ndarray, steps: list[Prepared], tick: Callable[[], None] = lambda: None) -> None:
    """Run a :func:`plan` on the state."""
    for kernel, tables in steps:
        tick()
        kernel(re, im, *tables)


#: State vectors up to this many amplitudes are kept for reuse (see :func:`_zeros`).
_KEEP_UP_TO = 1 << 22
_kept: list[np.ndarray] = []


def _zeros(size: int, dtype: type) -> np.ndarray:
    """A zeroed vector, reusing a kept one that nobody else still holds.

    A fresh vector costs a page fault per 4 KiB page on its first pass: at 20 qubits ~7 ms,
    more than many a simulation. So vectors up to :data:`_KEEP_UP_TO` amplitudes are kept
    after a run and zeroed again for the next. One is reused only when its sole holders are
    this list and this function (its reference count says so), so an array a caller still
    holds, or a view of it, is never overwritten; wider vectors are allocated every time,
    so what stays resident is bounded (64 MiB at double precision)."""
    if size > _KEEP_UP_TO:
        return np.zeros(size, dtype=dtype)
    for vector in _kept:
        # Held only by the list, this loop's name and getrefcount's own argument.
        if vector.shape[0] == size and vector.dtype == dtype and sys.getrefcount(vector) == 3:
            vector.fill(0)
            return vector
    vector = np.zeros(size, dtype=dtype)
    if len(_kept) >= 4:  # one run's pair at each precision: drop the oldest beyond that
        _kept.pop(0)
    _kept.append(vector)
    return vector


def run(circuit: Circuit, deadline: float | None = None, precision: str = "double") -> tuple[np.ndarray, np.ndarray]:
    """Final amplitudes of ``circuit`` as (real, imaginary) vectors indexed by basis state.

    ``deadline`` is a ``time.monotonic()`` instant after which the run stops with
    :class:`SimulationTimeout`; it is checked between segments and fused blocks.
    """
    dtype = PRECISIONS[precision]
    re = _zeros(1 << circuit.qubits, dtype)
    im = _zeros(1 << circuit.qubits, dtype)
    re[0] = 1.0
    evolve(re, im, circuit.gates, deadline)
    return re, im
