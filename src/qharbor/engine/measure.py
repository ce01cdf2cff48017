"""Measuring a final state: the exact outcome map while it is small, seeded shots beyond.

A job asks for ``shots`` outcomes, but a dense n-qubit state has 2^n of them: a
million at 20 qubits, 67 million at 26. Turning all of them into a result document
costs far more than the simulation (at 20 qubits ~0.6 s to build a map the engine
computed in 20 ms) and grows without bound. So :func:`measure` keeps the exact map
only while it has at most ``max_exact`` non-zero outcomes; beyond that it draws the
``shots`` outcomes the job asked for, once, from a seeded generator — so the stored
result is at most ``shots`` entries whatever the width.

Both walk the probability vector in fixed blocks of :data:`BLOCK` entries, in
parallel: one pass sums each block and counts its non-zero entries; the exact map is
then gathered block by block, or each sorted uniform draw is located by a binary
search over the block sums and a scan inside its block. No array of the state's size
is allocated (the worker's peak memory stays the state itself), and because the blocks
are fixed by size, not by thread count, the same seed gives the same shots everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
from numba import prange

from .kernels import variant

#: Entries per block (a block's sum and scan stay in L1/L2 cache).
BLOCK = 1 << 12
#: Probabilities at or below this are rounding noise and count as zero.
ZERO = 1e-12


@dataclass(frozen=True)
class Outcomes:
    """Measured outcomes in ascending basis-state order: exact probabilities, or the
    counts of ``shots`` seeded draws when ``sampled``."""

    indices: np.ndarray  # int64
    values: np.ndarray  # float64 probabilities, or int64 counts when sampled
    sampled: bool

    def as_map(self, shots: int) -> dict[str, float]:
        """IonQ's probability map (decimal keys): exact, or ``count/shots``."""
        values = self.values / shots if self.sampled else self.values
        return dict(zip(map(str, self.indices.tolist()), values.tolist()))


def _block_stats(p, block, zero):  # pragma: no cover - compiled
    """Per block: the float64 sum of ``p`` and how many entries exceed ``zero``."""
    nblocks = (p.shape[0] + block - 1) // block
    sums = np.zeros(nblocks, dtype=np.float64)
    nonzero = np.zeros(nblocks, dtype=np.int64)
    for b in prange(nblocks):
        s = 0.0
        c = 0
        for i in range(b * block, min((b + 1) * block, p.shape[0])):
            v = np.float64(p[i])
            s += v
            c += v > zero
        sums[b] = s
        nonzero[b] = c
    return sums, nonzero


def _gather(p, block, zero, offsets, indices, values):  # pragma: no cover - compiled
    """Every entry above ``zero``, block b's written from ``offsets[b]`` on."""
    for b in prange(offsets.shape[0] - 1):
        k = offsets[b]
        if k == offsets[b + 1]:
            continue
        for i in range(b * block, min((b + 1) * block, p.shape[0])):
            if p[i] > zero:
                indices[k] = i
                values[k] = p[i]
                k += 1


def _locate(p, block, first, targets, starts, out):  # pragma: no cover - compiled
    """For each run of draws in one block (``starts`` delimit runs of the sorted
    ``targets``, each relative to its block's start; ``first[r]`` is run r's block):
    the index where the block's running sum first exceeds each target."""
    for r in prange(starts.shape[0] - 1):
        b = first[r]
        end = min((b + 1) * block, p.shape[0])
        i = b * block
        last = -1  # the last entry seen with weight, for a target rounding put past the end
        acc = 0.0
        for k in range(starts[r], starts[r + 1]):
            t = targets[k]
            while i < end:
                v = np.float64(p[i])
                if v > 0.0:
                    last = i
                if acc + v > t and v > 0.0:
                    break
                acc += v
                i += 1
            if i < end:
                out[k] = i
            else:
                out[k] = last
                i = end


#: Each kernel compiled twice: threads for wide states, one thread below :data:`_PARALLEL_FROM`
#: entries (a parallel region's start-up would cost more than the work).
_KERNELS = {
    parallel: tuple(numba.njit(parallel=parallel, cache=True, nogil=True)(variant(fn, "_par" if parallel else ""))
                    for fn in (_block_stats, _gather, _locate))
    for parallel in (False, True)
}
_PARALLEL_FROM = 1 << 16


def measure(probs: np.ndarray, shots: int, rng: np.random.Generator, max_exact: int) -> Outcomes:
    """The exact outcome map of ``probs`` (a probability per basis state) if it has at most
    ``max_exact`` non-zero entries, else ``shots`` draws from it (their counts)."""
    block_stats, gather, locate = _KERNELS[probs.shape[0] >= _PARALLEL_FROM]
    sums, nonzero = block_stats(probs, BLOCK, ZERO)
    count = int(nonzero.sum())
    if count <= max_exact:
        offsets = np.zeros(nonzero.shape[0] + 1, dtype=np.int64)
        np.cumsum(nonzero, out=offsets[1:])
        indices = np.empty(count, dtype=np.int64)
        values = np.empty(count, dtype=np.float64)
        gather(probs, BLOCK, ZERO, offsets, indices, values)
        return Outcomes(indices, values, sampled=False)
    ends = np.cumsum(sums)
    drawn = np.sort(rng.random(shots)) * ends[-1]
    # A draw rounded onto the very end belongs to the last block with weight.
    blocks = np.minimum(np.searchsorted(ends, drawn, side="right"), np.flatnonzero(sums)[-1])
    starts = np.flatnonzero(np.diff(blocks, prepend=-1))
    first = blocks[starts]
    targets = drawn - (ends[blocks] - sums[blocks])  # relative to each block's start
    located = np.empty(shots, dtype=np.int64)
    locate(probs, BLOCK, first, targets, np.append(starts, shots), located)
    indices, counts = np.unique(located, return_counts=True)
    return Outcomes(indices.astype(np.int64), counts.astype(np.int64), sampled=True)


def uniform(x0: int, basis: np.ndarray, shots: int, rng: np.random.Generator, max_exact: int) -> Outcomes:
    """Outcomes of a distribution uniform over ``x0 ⊕ span(basis)`` (a stabilizer state's, from
    its tableau): exact while it has at most ``max_exact`` outcomes, else ``shots`` draws."""
    if 1 << len(basis) <= max_exact:
        indices = np.array([x0], dtype=np.int64)
        for vector in basis.tolist():
            indices = np.concatenate([indices, indices ^ vector])
        indices.sort()
        return Outcomes(indices, np.full(indices.size, 1.0 / indices.size), sampled=False)
    drawn = np.full(shots, x0, dtype=np.int64)
    for vector in basis.tolist():
        drawn ^= rng.integers(0, 2, size=shots, dtype=np.int64) * vector
    indices, counts = np.unique(drawn, return_counts=True)
    return Outcomes(indices, counts.astype(np.int64), sampled=True)


@numba.njit(parallel=True, cache=True, nogil=True)
def _marginal(p, qubits, parts):  # pragma: no cover - compiled
    """``parts`` rows of partial sums of ``p`` over the values of ``qubits`` (bit j of a
    column = ``qubits[j]`` of the basis state), one row per contiguous share of ``p``."""
    n, m = p.shape[0], qubits.shape[0]
    out = np.zeros((parts, 1 << m), dtype=np.float64)
    share = (n + parts - 1) // parts
    for t in prange(parts):
        row = out[t]
        for i in range(t * share, min((t + 1) * share, n)):
            j = 0
            for b in range(m):
                j |= ((i >> qubits[b]) & 1) << b
            row[j] += p[i]
    return out


@numba.njit(cache=True, nogil=True)
def cumulative(re, im, out):  # pragma: no cover - compiled
    """``out[i]`` = the float64 sum of ``|amplitude j|^2`` for j <= i, added in order: the
    same numbers as ``np.cumsum(np.square(re, dtype=float64) + np.square(im, dtype=float64))``
    (no fast-math, so no reordering), without that expression's three temporary arrays
    of the state's size, whose fresh pages cost more than the sum."""
    acc = 0.0
    for i in range(re.shape[0]):
        r = np.float64(re[i])
        m = np.float64(im[i])
        acc += r * r + m * m
        out[i] = acc


#: A marginal is taken over at most this many qubits (a table of 2^16 entries).
MARGINAL_QUBITS = 16


def marginal(probs: np.ndarray, qubits: list[int]) -> np.ndarray:
    """The distribution of ``qubits``' values (bit j of an index = ``qubits[j]``), for
    programs that measure a few qubits of a wide register."""
    assert len(qubits) <= MARGINAL_QUBITS
    parts = min(numba.get_num_threads() * 4, max(1, probs.shape[0] >> 16))
    return _marginal(probs, np.array(qubits, dtype=np.int64), parts).sum(axis=0)


def warm_up(dtype: type) -> None:
    """Load (or compile) the kernels for probability vectors of ``dtype``."""
    for size in (2 * BLOCK, _PARALLEL_FROM):
        probs = np.full(size, 1 / size, dtype=dtype)
        measure(probs, 4, np.random.default_rng(0), 1)
        measure(probs, 4, np.random.default_rng(0), size)
    marginal(probs, [0, 3])
