"""Cache tiles: run many fused ops per pass over a wide state.

Past a few million amplitudes the state lives in main memory, and one pass of a fused
two-qubit block costs more in memory traffic than in arithmetic (at 24 qubits in single
precision 8 ms a pass against 3.5 ms of arithmetic on the development machine, and
up to 20 ms for targets whose partner amplitudes lie 1-16 KiB apart). So the ops are
grouped: a group's qubits (at most ``tile_qubits`` of them, the lowest ``RUN_QUBITS``
always included) span a *tile* of ``2**tile_qubits`` amplitudes, one for each value of
the other (outer) qubits; each thread copies a tile into a buffer that stays in its
core's cache, applies every op of the group there, and copies it back
(``kernels.run_tiles``). Diagonal ops join any group: a tile knows its outer bits.

Ops are taken in order; one that needs a qubit the group has no room for waits, and so
does every later op that shares a qubit with a waiting one (they would otherwise
overtake it), while ops on other qubits keep joining: blocks on disjoint qubits commute.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numba
import numpy as np

from . import kernels, threads
from .fusion import DIAG_LANE_BITS, Diagonal, Op

#: The lowest qubits, always in a tile: they vary within one contiguous run of the
#: copy (``2**RUN_QUBITS`` amplitudes, and a diagonal's table width).
RUN_QUBITS = DIAG_LANE_BITS
#: Tile width in qubits per precision (2 and 4 MiB a thread: in the L3 cache; the wider
#: the tile, the more ops share a pass). 18 was fastest of 16-19 in both precisions on the
#: development machine (2 cores, 32 MiB L3); ``bench/tiles.py`` measures it.
TILE_QUBITS = {np.dtype(np.float32): 18, np.dtype(np.float64): 18}
#: Registers from this width run tiled (narrower states stay in the L3 cache).
MIN_QUBITS = 20
#: Ops scanned past the first waiting one before a group is closed.
LOOKAHEAD = 256
#: Ops per group at most: 64, fewer from 27 qubits so that a group (between two checks
#: of the time limit) stays near 2**32 amplitude updates, about a second on 2 cores.
MAX_OPS = 64
_WORK = 1 << 32


@dataclass(slots=True)
class Tile:
    """A group of ops run tile by tile on ``qubits`` (sorted; the lowest ``RUN_QUBITS``
    first)."""

    qubits: tuple[int, ...]
    ops: list[Op | Diagonal]


def _qubits(op: Op | Diagonal) -> tuple[int, ...]:
    return op.qubits if isinstance(op, Diagonal) else op.targets + op.controls


def usable(n: int) -> bool:
    """Whether a register of ``n`` qubits runs tiled here: wide enough, and either one
    numba thread or a pool of them (``threads.py``) for the tiles."""
    return n >= MIN_QUBITS and (numba.get_num_threads() == 1 or threads.usable())


def plan(ops: list[Op | Diagonal], n: int, tile_qubits: int) -> Iterator[Op | Diagonal | Tile]:
    """``ops`` regrouped: a :class:`Tile` for each group of two or more ops, a lone op as
    itself (a tile would copy the state for nothing). Equivalent in effect, in order."""
    max_ops = max(2, min(MAX_OPS, _WORK >> n))
    pending = list(ops)
    while pending:
        inside = set(range(RUN_QUBITS))
        taken: list[Op | Diagonal] = []
        waiting: list[Op | Diagonal] = []
        blocked: set[int] = set()
        for i, op in enumerate(pending):
            qs = _qubits(op)
            need = () if isinstance(op, Diagonal) else [q for q in qs if q not in inside]
            if (len(taken) < max_ops and not blocked.intersection(qs)
                    and len(inside) + len(need) <= tile_qubits):
                inside.update(need)
                taken.append(op)
                continue
            waiting.append(op)
            blocked.update(qs)
            if len(blocked) >= n or len(waiting) > LOOKAHEAD or len(taken) >= max_ops:
                waiting.extend(pending[i + 1:])
                break
        if len(taken) == 1:
            yield taken[0]
        else:  # as wide as allowed: a narrower tile only adds calls per op
            spare = (q for q in range(n) if q not in inside)
            inside.update(next(spare) for _ in range(min(tile_qubits, n) - len(inside)))
            yield Tile(tuple(sorted(inside)), taken)
        pending = waiting


_KINDS = {kernel: kind for kind, kernel in enumerate(kernels.LANE_KERNELS.values())}


def _lane_args(local: tuple[int, ...], m: np.ndarray, dtype: np.dtype) -> tuple[int, list[int], np.ndarray]:
    kernel, hpos, o1, o2, cr, ci = kernels.lane_tables(local, m, dtype)
    kind = _KINDS[kernel]
    h = [int(x) for x in hpos] + [0, 0]
    table = np.concatenate((cr.ravel(), ci.ravel()))
    return kind, [len(hpos), h[0], h[1], int(o1), int(o2), cr.shape[0]], table


def prepare(tile: Tile, n: int, dtype: np.dtype) -> tuple:
    """What :func:`run_prepared` takes after the state, for ``tile`` on ``n`` qubits: the flat
    program ``kernels.run_tiles`` interprets (built once, so a plan run many times, like the
    noisy path's circuit tails, builds it once)."""
    local = {q: i for i, q in enumerate(tile.qubits)}
    size = len(tile.qubits)
    outer = np.array([q for q in range(n) if q not in local], dtype=np.int64)
    # Runs as long as the tile's lowest qubits allow: each is one contiguous copy.
    k = next(i for i, q in enumerate((*tile.qubits, n)) if q != i)
    high = np.array(tile.qubits[k:], dtype=np.int64)
    r = np.arange(1 << (size - k), dtype=np.int64)
    runs = np.zeros_like(r)
    for b, q in enumerate(high):
        runs |= ((r >> b) & 1) << q
    kinds, ints, flts, ioff = [], [], [], []
    for op in tile.ops:
        ioff.append(len(ints))
        if isinstance(op, Diagonal):
            hpos, tr, ti = kernels.diagonal_table(op, n, dtype)
            kinds.append(kernels.KIND_DIAG)
            ints += [len(hpos), *hpos.tolist(), tr.size, tr.shape[1]]
            flts.append(np.concatenate((tr.ravel(), ti.ravel())))
            continue
        targets = tuple(local[q] for q in op.targets)  # the op in the tile's bit positions
        controls = tuple(local[q] for q in op.controls)
        if kernels.pair_shaped(targets, controls):
            lo, hi, mat = kernels.pair_tables(targets, op.matrix, dtype)
            kinds.append(kernels.KIND_PAIR)
            ints += [lo, hi]
            flts.append(mat)
        elif kernels.lane_shaped(targets, controls):  # a tile is always wide enough for one
            kind, args, table = _lane_args(targets, op.matrix, dtype)
            kinds.append(kind)
            ints += args
            flts.append(table)
        else:
            pos, offs, cmask = kernels.layout(np.array(targets, dtype=np.int64), np.array(controls, dtype=np.int64))
            kinds.append(kernels.KIND_GENERAL)
            ints += [len(pos), *pos.tolist(), len(offs), *offs.tolist(), int(cmask)]
            flts.append(np.concatenate((op.matrix.real.ravel(), op.matrix.imag.ravel())))
    return (outer, runs, k, np.array(kinds, dtype=np.int64), np.array(ints, dtype=np.int64),
            np.array(ioff, dtype=np.int64), np.concatenate(flts).astype(dtype), np.cumsum([0, *map(len, flts)]))


def run_prepared(re: np.ndarray, im: np.ndarray, *program: object) -> None:
    """Run a :func:`prepare`d tile program on the state, its tiles shared among the threads."""
    args = (re, im, *program)
    workers = min(numba.get_num_threads(), 1 << len(program[0]))  # type: ignore[arg-type]
    if workers == 1:
        kernels.run_tiles(*args, 0, 1)
        return
    for future in [threads.pool().submit(kernels.run_tiles, *args, w, workers) for w in range(workers)]:
        future.result()


def run(re: np.ndarray, im: np.ndarray, tile: Tile) -> None:
    """Apply ``tile.ops`` to the state (``re``, ``im``) tile by tile (``kernels.run_tiles``)."""
    run_prepared(re, im, *prepare(tile, re.shape[0].bit_length() - 1, re.dtype))
