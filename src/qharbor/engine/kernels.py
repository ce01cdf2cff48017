"""Compiled in-place kernels: apply a small (controlled) unitary to a statevector.

The state is held split into real and imaginary arrays (structure of arrays), so
the arithmetic is plain float multiply-adds that LLVM vectorises (AVX2 / AVX-512)
without complex-number shuffles.

* **Pair kernel** (``pair_parallel``): a fused two-qubit block on qubits 4 and above,
  as a plain loop over four contiguous runs that LLVM vectorises at the host's width.
* **Lane kernels** (``LANE_KERNELS``): the other one- and two-qubit blocks. The state
  is walked in chunks of sixteen amplitudes (qubits 0-3 vary within a chunk, a full
  AVX-512 register in single precision); a target above the chunk picks which chunks
  mix, targets inside it permute lanes, and one kernel is compiled per shape so the
  permutation is a constant shuffle.
* **General kernel** (``apply_parallel``/``apply_serial``): wider or controlled
  blocks, through a small buffer per contiguous run.
* **Diagonal kernel** (``diag_parallel``): one elementwise multiply by a table.
* **Interpreter** (``run_encoded``): whole small circuits in one serial call.
* **Tile runner** (``run_tiles``): a program of the kernels above, run tile by tile in
  a cache-resident buffer (``engine/tiles.py`` plans the tiles).

Kernels are compiled lazily and cached on disk (``cache=True``), so worker start-up
stays fast after the first.
"""

from __future__ import annotations

import functools
import types

import numba
import numba.core.config
import numpy as np
from numba import prange

from . import gates
from .fusion import _SWAPPED, DIAG_LANE_BITS, Diagonal

# numba leaves LLVM's SLP vectoriser off by default; the lane kernels need it to turn
# their constant lane permutations into vector shuffles (5-10x on targets 0-3). It is
# read at each compilation, so setting it here covers every kernel of this module.
numba.core.config.SLP_VECTORIZE = 1

#: Longest contiguous run handled per inner loop (fits L1 with 16 rows of buffers).
_CHUNK = 256
#: Minimum amplitudes per thread task, so tiny runs are grouped.
_TASK = 1024


def _apply_body(re, im, pos, offs, cmask, mre, mim):  # pragma: no cover - compiled
    """Apply ``m`` (rows/cols indexed by ``offs``) where every bit of ``cmask`` is set.

    ``pos`` are the sorted bit positions of targets and controls; the free index is
    spread around them, and the ``2**pos[0]`` lowest free indices form contiguous runs.
    """
    dim = offs.shape[0]
    total = re.shape[0] >> pos.shape[0]
    run = 1 << pos[0]
    ch = min(run, _CHUNK)
    group = max(1, min(_TASK // ch, total // ch))
    ntask = total // (ch * group)
    for t in prange(ntask):
        br = np.empty((dim, ch), dtype=re.dtype)
        bi = np.empty((dim, ch), dtype=re.dtype)
        for g in range(group):
            base = (t * group + g) * ch
            for p in pos:
                base = ((base >> p) << (p + 1)) | (base & ((1 << p) - 1))
            base |= cmask
            for r in range(dim):
                for j in range(ch):
                    br[r, j] = 0.0
                    bi[r, j] = 0.0
                for c in range(dim):
                    ar = mre[r, c]
                    ai = mim[r, c]
                    if ar == 0.0 and ai == 0.0:
                        continue
                    src = base + offs[c]
                    for j in range(ch):
                        xr = re[src + j]
                        xi = im[src + j]
                        br[r, j] += ar * xr - ai * xi
                        bi[r, j] += ar * xi + ai * xr
            for r in range(dim):
                dst = base + offs[r]
                for j in range(ch):
                    re[dst + j] = br[r, j]
                    im[dst + j] = bi[r, j]


_jit = numba.njit(fastmath=True, cache=True, nogil=True)
_inline = numba.njit(fastmath=True, cache=True, nogil=True, inline="always")


#: Amplitudes per chunk in the lane kernels: qubits 0-3 vary within a chunk. A chunk is
#: held as two eight-lane halves (tuples): LLVM fully unrolls an eight-lane loop but not a
#: sixteen-lane one, and the two unrolled halves of a store are adjacent, so the SLP
#: vectoriser still emits sixteen-wide (AVX-512) single-precision arithmetic.
LANES = 16
#: Qubits inside a chunk. A two-qubit block on none of them runs on the pair kernel: from
#: runs of 16 amplitudes LLVM's vector loop covers whole runs, and the lane kernels' four
#: chunks (real and imaginary) would take every AVX2 register.
_LANE_BITS = LANES.bit_length() - 1
_HALF = np.uint64(8)
_L = tuple(np.uint64(i) for i in range(8))
_NONE = np.uint64(0)


@_inline
def _chunk(a, b):  # pragma: no cover - compiled
    """The eight amplitudes at ``b`` as a tuple: read whole before any is written back."""
    return (a[b], a[b + _L[1]], a[b + _L[2]], a[b + _L[3]],
            a[b + _L[4]], a[b + _L[5]], a[b + _L[6]], a[b + _L[7]])


@_inline
def _base(c, hpos):  # pragma: no cover - compiled
    """Index of the first amplitude of the ``c``-th chunk group (zeros at ``hpos``)."""
    f = np.int64(c)
    for p in hpos:
        f = ((f >> p) << (p + 1)) | (f & ((1 << p) - 1))
    return np.uint64(f << 4)


@_inline
def _re(cr, ci, r, j, xr, xi, k):  # pragma: no cover - compiled
    return cr[r, j] * xr[k] - ci[r, j] * xi[k]


@_inline
def _im(cr, ci, r, j, xr, xi, k):  # pragma: no cover - compiled
    return cr[r, j] * xi[k] + ci[r, j] * xr[k]


@_inline
def _col(lanes, h, j):  # pragma: no cover - compiled
    """Table column of lane ``h + j``; tables of blocks with no target inside the chunk
    are the same in every lane, and one broadcast column spares a load per multiply."""
    return h + j if lanes else _NONE


@_inline
def _half(dst, o, f, cr, ci, r, h, lanes, terms,
          ar, ai, br, bi, sb, dr, di, sd, er, ei, se):  # pragma: no cover - compiled
    """One half (lanes ``h`` to ``h + 7``) of one part (``f``: ``_re`` or ``_im``) of a chunk."""
    for j in range(_HALF):
        c = _col(lanes, h, j)
        v = f(cr, ci, r, c, ar, ai, j) + f(cr, ci, r + 1, c, br, bi, j ^ sb)
        if terms == 4:
            v += f(cr, ci, r + 2, c, dr, di, j ^ sd) + f(cr, ci, r + 3, c, er, ei, j ^ se)
        dst[o + h + j] = v


@_inline
def _out(re, im, o, cr, ci, r, lanes, terms,
         alr, ali, aur, aui, blr, bli, bur, bui, sb,
         dlr, dli, dur, dui, sd, elr, eli, eur, eui, se):  # pragma: no cover - compiled
    """Chunk ``o`` from ``terms`` (2 or 4) source chunks: lane ``j`` of each half is
    ``c[r] a[j] + c[r+1] b[j^sb] (+ c[r+2] d[j^sd] + c[r+3] e[j^se])``, each source given
    as its (lower, upper) halves as the output half sees them. The stores go real
    lower, real upper, imaginary lower, imaginary upper, so the SLP vectoriser joins
    each pair of halves into one sixteen-lane vector."""
    _half(re, o, _re, cr, ci, r, _NONE, lanes, terms, alr, ali, blr, bli, sb, dlr, dli, sd, elr, eli, se)
    _half(re, o, _re, cr, ci, r, _HALF, lanes, terms, aur, aui, bur, bui, sb, dur, dui, sd, eur, eui, se)
    _half(im, o, _im, cr, ci, r, _NONE, lanes, terms, alr, ali, blr, bli, sb, dlr, dli, sd, elr, eli, se)
    _half(im, o, _im, cr, ci, r, _HALF, lanes, terms, aur, aui, bur, bui, sb, dur, dui, sd, eur, eui, se)


def _lanes(low: tuple[int, ...], high: int):
    """The lane kernel for a one- or two-qubit block with targets on the chunk bits
    ``low`` (lane masks, at most two) and on ``high`` (0 or 1) qubits above them (two
    above are the pair kernel's).

    Output chunk ``h`` lane ``j`` is ``sum(c[row, j] * x[hc][j ^ s])`` over the source
    chunks ``hc`` and the subsets ``s`` of ``low``, ``row = (h * nh + hc) * ns + s``
    (tables from ``statevector.lane_tables``). The masks are compile-time constants
    (closure cells): ``s & 7`` permutes lanes inside a half, which after unrolling is a
    constant vector shuffle; ``s & 8`` swaps the halves, which is a choice of tuple.
    Targets on qubits 0-3 then cost what others do.
    """
    m0 = low[0] if low else 0
    m1 = low[1] if len(low) > 1 else 0
    ns = 1 << len(low)  # terms per source chunk: the subsets of the chunk bits
    lanes = bool(low)  # whether the table differs between lanes
    # each subset's lane permutation inside a half, and whether it reads the other half
    p0, p1, p01 = np.uint64(m0 & 7), np.uint64(m1 & 7), np.uint64((m0 ^ m1) & 7)
    f0, f1, f01 = m0 >= 8, m1 >= 8, (m0 ^ m1) >= 8

    if high == 0:
        def kernel(re, im, hpos, o1, o2, cr, ci):  # pragma: no cover - compiled
            for c in prange(re.shape[0] >> 4):
                b = _base(c, hpos)
                lr = _chunk(re, b)
                li = _chunk(im, b)
                ur = _chunk(re, b + _HALF)
                ui = _chunk(im, b + _HALF)
                _out(re, im, b, cr, ci, 0, lanes, ns, lr, li, ur, ui,
                     ur if f0 else lr, ui if f0 else li, lr if f0 else ur, li if f0 else ui, p0,
                     ur if f1 else lr, ui if f1 else li, lr if f1 else ur, li if f1 else ui, p1,
                     ur if f01 else lr, ui if f01 else li, lr if f01 else ur, li if f01 else ui, p01)
    else:  # one target above the chunk; ns 1: no chunk bit (two chunks, two terms), 2: one
        def kernel(re, im, hpos, o1, o2, cr, ci):  # pragma: no cover - compiled
            for c in prange(re.shape[0] >> 5):
                b = _base(c, hpos)
                d = b + o1
                xlr = _chunk(re, b)
                xli = _chunk(im, b)
                xur = _chunk(re, b + _HALF)
                xui = _chunk(im, b + _HALF)
                ylr = _chunk(re, d)
                yli = _chunk(im, d)
                yur = _chunk(re, d + _HALF)
                yui = _chunk(im, d + _HALF)
                for h in range(2):
                    o = b if h == 0 else d
                    r = h * 2 * ns
                    if ns == 1:
                        _out(re, im, o, cr, ci, r, lanes, 2, xlr, xli, xur, xui, ylr, yli, yur, yui, _NONE,
                             xlr, xli, xur, xui, _NONE, xlr, xli, xur, xui, _NONE)
                    else:
                        _out(re, im, o, cr, ci, r, lanes, 4, xlr, xli, xur, xui,
                             xur if f0 else xlr, xui if f0 else xli, xlr if f0 else xur, xli if f0 else xui, p0,
                             ylr, yli, yur, yui, _NONE,
                             yur if f0 else ylr, yui if f0 else yli, ylr if f0 else yur, yli if f0 else yui, p0)
    return kernel


def _diag_body(re, im, hpos, tr, ti):  # pragma: no cover - compiled
    """Multiply amplitude ``i`` by ``t[h, i % W]``, ``h`` being the bits ``hpos`` of ``i``.

    ``W`` (the table's width, a power of two) consecutive amplitudes share one table row,
    so the inner loop is a unit-stride complex multiply by a contiguous row.
    """
    W = tr.shape[1]
    nh = hpos.shape[0]
    for b in prange(re.shape[0] // W):
        base = b * W
        h = 0
        for r in range(nh):
            h |= ((base >> hpos[r]) & 1) << r
        u = np.uint64(base)
        for j in range(np.uint64(W)):
            xr = re[u + j]
            xi = im[u + j]
            cr = tr[h, j]
            ci = ti[h, j]
            re[u + j] = cr * xr - ci * xi
            im[u + j] = cr * xi + ci * xr


@_inline
def _hoist(mat):  # pragma: no cover - compiled
    """A 4x4 matrix's 32 floats (``mat``: 16 real parts row by row, then 16 imaginary) as
    scalars, so that a loop over amplitudes keeps them out of memory."""
    return (mat[0], mat[1], mat[2], mat[3], mat[4], mat[5], mat[6], mat[7],
            mat[8], mat[9], mat[10], mat[11], mat[12], mat[13], mat[14], mat[15],
            mat[16], mat[17], mat[18], mat[19], mat[20], mat[21], mat[22], mat[23],
            mat[24], mat[25], mat[26], mat[27], mat[28], mat[29], mat[30], mat[31])


@_inline
def _quad(re, im, m, i0, i1, i2, i3):  # pragma: no cover - compiled
    """Amplitudes ``i0..i3`` (rows 0-3 of the hoisted matrix ``m``) times ``m``."""
    x0r, x0i, x1r, x1i = re[i0], im[i0], re[i1], im[i1]
    x2r, x2i, x3r, x3i = re[i2], im[i2], re[i3], im[i3]
    re[i0], im[i0] = _row(m, 0, x0r, x0i, x1r, x1i, x2r, x2i, x3r, x3i)
    re[i1], im[i1] = _row(m, 1, x0r, x0i, x1r, x1i, x2r, x2i, x3r, x3i)
    re[i2], im[i2] = _row(m, 2, x0r, x0i, x1r, x1i, x2r, x2i, x3r, x3i)
    re[i3], im[i3] = _row(m, 3, x0r, x0i, x1r, x1i, x2r, x2i, x3r, x3i)


@_inline
def _row(m, r, x0r, x0i, x1r, x1i, x2r, x2i, x3r, x3i):  # pragma: no cover - compiled
    """Row ``r`` of a 4x4 matrix (``m``: its 16 real parts, then its 16 imaginary ones)
    times the column ``x``."""
    a, b, c, d = m[4 * r], m[4 * r + 1], m[4 * r + 2], m[4 * r + 3]
    e, f, g, h = m[16 + 4 * r], m[17 + 4 * r], m[18 + 4 * r], m[19 + 4 * r]
    return (a * x0r - e * x0i + b * x1r - f * x1i + c * x2r - g * x2i + d * x3r - h * x3i,
            a * x0i + e * x0r + b * x1i + f * x1r + c * x2i + g * x2r + d * x3i + h * x3r)


def _pair_body(re, im, lo, hi, mat):  # pragma: no cover - compiled
    """A 4x4 matrix (row ``2 bit(hi) + bit(lo)``; ``mat``: its 16 real parts row by row,
    then its 16 imaginary ones) on bits ``lo < hi``: any two, though the parallel kernel
    takes only blocks above the chunk (its runs then long enough; ``_two`` runs it serially
    on small states, for any pair).

    The four amplitudes of a group lie in four contiguous runs of ``2**lo``; the inner loop
    walks them side by side with the matrix held in scalars, a plain loop that LLVM
    vectorises at the host's own width. On a two-core AVX2 host (Zen 3) it ran as fast as
    the lane kernel with ``lo`` 4 and up to 1.6x faster from ``lo`` 6 (longer runs); the
    lane kernel's four sixteen-amplitude chunks, real and imaginary, take every AVX2
    register."""
    m = _hoist(mat)
    one = np.uint64(1)
    ul, uh = np.uint64(lo), np.uint64(hi)
    bl, bh = one << ul, one << uh
    for r in prange(re.shape[0] >> (lo + 2)):
        k = np.uint64(r) << ul  # the run's first index with bits lo and hi removed: put them back
        k = ((k >> ul) << (ul + one)) | (k & (bl - one))
        k = ((k >> uh) << (uh + one)) | (k & (bh - one))
        for off in range(bl):
            i0 = k + off
            _quad(re, im, m, i0, i0 + bl, i0 + bh, i0 + bh + bl)


def variant(fn, suffix):
    """A copy of ``fn`` under another name: numba's disk cache is keyed by the function's
    name and signature only, so the parallel and serial compilations of one body must
    not share a name (they would overwrite each other's cache entries)."""
    copy = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__ + suffix, fn.__defaults__, fn.__closure__)
    copy.__qualname__ = fn.__qualname__ + suffix
    return copy


_par = numba.njit(parallel=True, fastmath=True, cache=True, nogil=True)
apply_parallel = _par(variant(_apply_body, "_parallel"))
apply_serial = _jit(_apply_body)
diag_parallel = _par(variant(_diag_body, "_parallel"))
pair_parallel = _par(variant(_pair_body, "_parallel"))
pair_serial = _jit(_pair_body)

#: Every one- and two-qubit block shape, as (chunk-bit masks, number of higher qubits);
#: see :func:`_lanes`. A shape's index here is its ``kind`` in a tile program.
LANE_SHAPES: list[tuple[tuple[int, ...], int]] = [
    *(((m,), 0) for m in (1, 2, 4, 8)),
    *(((a, b), 0) for a, b in [(1, 2), (1, 4), (1, 8), (2, 4), (2, 8), (4, 8)]),
    *(((m,), 1) for m in (1, 2, 4, 8)), ((), 1)]
#: The parallel lane kernel of each shape, for a pass over the whole state. Each has a
#: name of its own: numba's disk cache keeps one index file per function name, and
#: processes compiling different shapes at once (``statevector.compile_kernels``) into a
#: shared index could each number their entry alike and swap each other's code.
LANE_KERNELS = {shape: _par(variant(_lanes(*shape), "_" + "_".join(map(str, (*shape[0], "h", shape[1])))))
                for shape in LANE_SHAPES}
(_k0, _k1, _k2, _k3, _k4, _k5, _k6, _k7, _k8, _k9, _k10, _k11, _k12, _k13,
 _k14) = LANE_KERNELS.values()


#: Op kinds of a tile program beyond the lane shapes (whose kind is their index).
KIND_DIAG = len(LANE_SHAPES)
KIND_GENERAL = KIND_DIAG + 1
KIND_PAIR = KIND_DIAG + 2


@_jit
def _lane(kind, re, im, hpos, o1, o2, cr, ci):  # pragma: no cover - compiled
    """The lane kernel of shape ``LANE_SHAPES[kind]`` (numba cannot index a tuple of
    functions at run time, so the choice is spelled out)."""
    if kind == 0:
        _k0(re, im, hpos, o1, o2, cr, ci)
    elif kind == 1:
        _k1(re, im, hpos, o1, o2, cr, ci)
    elif kind == 2:
        _k2(re, im, hpos, o1, o2, cr, ci)
    elif kind == 3:
        _k3(re, im, hpos, o1, o2, cr, ci)
    elif kind == 4:
        _k4(re, im, hpos, o1, o2, cr, ci)
    elif kind == 5:
        _k5(re, im, hpos, o1, o2, cr, ci)
    elif kind == 6:
        _k6(re, im, hpos, o1, o2, cr, ci)
    elif kind == 7:
        _k7(re, im, hpos, o1, o2, cr, ci)
    elif kind == 8:
        _k8(re, im, hpos, o1, o2, cr, ci)
    elif kind == 9:
        _k9(re, im, hpos, o1, o2, cr, ci)
    elif kind == 10:
        _k10(re, im, hpos, o1, o2, cr, ci)
    elif kind == 11:
        _k11(re, im, hpos, o1, o2, cr, ci)
    elif kind == 12:
        _k12(re, im, hpos, o1, o2, cr, ci)
    elif kind == 13:
        _k13(re, im, hpos, o1, o2, cr, ci)
    else:
        _k14(re, im, hpos, o1, o2, cr, ci)


def _diag_tile_body(re, im, base, runs, k, hpos, tr, ti):  # pragma: no cover - compiled
    """:func:`_diag_body` on a tile: the table row of each ``W``-amplitude block comes from
    the bits ``hpos`` of its *global* index (``base + runs[r]`` + offset), so a diagonal
    needs none of its qubits inside the tile."""
    W = tr.shape[1]
    for r in prange(runs.shape[0]):
        g0 = base + runs[r]
        for blk in range((1 << k) // W):
            g = g0 + blk * W
            h = 0
            for b in range(hpos.shape[0]):
                h |= ((g >> hpos[b]) & 1) << b
            u = np.uint64((r << k) + blk * W)
            for j in range(np.uint64(W)):
                xr = re[u + j]
                xi = im[u + j]
                re[u + j] = tr[h, j] * xr - ti[h, j] * xi
                im[u + j] = tr[h, j] * xi + ti[h, j] * xr


_diag_tile = _par(_diag_tile_body)


def _copy_tile_body(br, bi, re, im, base, runs, k, back):  # pragma: no cover - compiled
    """Copy a tile out of the state into its buffer, or ``back``: run ``r`` of the
    buffer is the ``2**k`` amplitudes from ``base + runs[r]``. Unsigned indices: with
    signed ones numba checks each for wrap-around and the loop runs scalar, 6x slower."""
    run = np.uint64(1) << np.uint64(k)
    for r in range(runs.shape[0]):
        g = np.uint64(base + runs[r])
        u = np.uint64(r) * run
        if back:
            for j in range(run):
                re[g + j] = br[u + j]
                im[g + j] = bi[u + j]
        else:
            for j in range(run):
                br[u + j] = re[g + j]
                bi[u + j] = im[g + j]


_copy_tile = _jit(_copy_tile_body)


@_jit
def run_tiles(re, im, outer, runs, k, kinds, ints, ioff, flts, foff, first, step):  # pragma: no cover
    """Run a program of ops tile by tile: tiles ``first``, ``first + step``, ... each
    copied (the ``2**k``-long runs at ``runs``, offset by the tile's bits on the ``outer``
    qubits) into a buffer that stays in this core's cache while every op of the program
    is applied to it, then copied back. One pass over memory for the whole program
    instead of one per op: at 24+ qubits a pass costs more than a two-qubit block's
    arithmetic.

    Each calling thread takes its own share of the tiles (``engine/tiles.py`` runs one
    per core); the kernels it calls are the parallel ones, run on one thread: numba
    vectorises its parallel loop bodies (whose arrays it knows not to alias) where it
    leaves the same loop in a serial function scalar, 10x slower.

    Op ``o`` is ``kinds[o]`` with integer arguments from ``ints[ioff[o]:]`` and tables
    (in the state's precision) from ``flts[foff[o]:]``, in the tile's local bit positions."""
    size = runs.shape[0] << k
    br = np.empty(size, dtype=re.dtype)
    bi = np.empty(size, dtype=re.dtype)
    for t in range(first, re.shape[0] // size, step):
        base = 0
        for b in range(outer.shape[0]):
            base |= ((t >> b) & 1) << outer[b]
        _copy_tile(br, bi, re, im, base, runs, k, False)
        for o in range(kinds.shape[0]):
            kind = kinds[o]
            i = ioff[o]
            f = foff[o]
            if kind < KIND_DIAG:
                rows = ints[i + 5] * LANES
                _lane(kind, br, bi, ints[i + 1:i + 1 + ints[i]], np.uint64(ints[i + 3]),
                      np.uint64(ints[i + 4]), flts[f:f + rows].reshape((-1, LANES)),
                      flts[f + rows:f + 2 * rows].reshape((-1, LANES)))
            elif kind == KIND_PAIR:
                pair_parallel(br, bi, ints[i], ints[i + 1], flts[f:f + 32])
            elif kind == KIND_DIAG:
                nh = ints[i]
                cells = ints[i + 1 + nh]
                width = ints[i + 2 + nh]
                _diag_tile(br, bi, base, runs, k, ints[i + 1:i + 1 + nh],
                           flts[f:f + cells].reshape((-1, width)),
                           flts[f + cells:f + 2 * cells].reshape((-1, width)))
            else:
                npos = ints[i]
                dim = ints[i + 1 + npos]
                apply_parallel(br, bi, ints[i + 1:i + 1 + npos], ints[i + 2 + npos:i + 2 + npos + dim],
                               ints[i + 2 + npos + dim], flts[f:f + dim * dim].reshape((dim, dim)),
                               flts[f + dim * dim:f + 2 * dim * dim].reshape((dim, dim)))
        _copy_tile(br, bi, re, im, base, runs, k, True)


@numba.njit(cache=True, nogil=True)
def layout(targets, controls):  # pragma: no cover - compiled
    """Sorted special positions, row offsets (big-endian over ``targets``) and control mask."""
    k = targets.shape[0]
    pos = np.sort(np.concatenate((targets, controls)))
    offs = np.zeros(1 << k, dtype=np.int64)
    for r in range(1 << k):
        o = 0
        for m in range(k):
            if (r >> (k - 1 - m)) & 1:
                o |= 1 << targets[m]
        offs[r] = o
    cmask = 0
    for c in controls:
        cmask |= 1 << c
    return pos, offs, cmask


@numba.njit(cache=True, nogil=True, inline="always")
def _spread(k, p):  # pragma: no cover - compiled
    """``k`` with a zero bit inserted at position ``p``."""
    return ((k >> p) << (p + 1)) | (k & ((1 << p) - 1))


# The small-state kernels visit their amplitude groups as runs of contiguous indices (unsigned,
# the matrix in the state's precision), which LLVM vectorises: 2-4x faster than one computed
# index per group, except where the run is a single group (target 0).

@numba.njit(cache=True, nogil=True, inline="always")
def _pair(re, im, i, j, ar, ai, br, bi, cr, ci, dr, di):  # pragma: no cover - compiled
    """Amplitudes i and j times the 2x2 matrix [[a, b], [c, d]]."""
    xr, xi, yr, yi = re[i], im[i], re[j], im[j]
    re[i] = ar * xr - ai * xi + br * yr - bi * yi
    im[i] = ar * xi + ai * xr + br * yi + bi * yr
    re[j] = cr * xr - ci * xi + dr * yr - di * yi
    im[j] = cr * xi + ci * xr + dr * yi + di * yr


@numba.njit(cache=True, nogil=True)
def _one(re, im, t, cmask, m):  # pragma: no cover - compiled
    """A 2x2 complex ``m`` on target ``t`` where all ``cmask`` bits are set (small states)."""
    z = re[0] * 0  # the state's precision
    ar, ai, br, bi = z + m[0, 0].real, z + m[0, 0].imag, z + m[0, 1].real, z + m[0, 1].imag
    cr, ci, dr, di = z + m[1, 0].real, z + m[1, 0].imag, z + m[1, 1].real, z + m[1, 1].imag
    n = np.uint64(re.shape[0])
    bit = np.uint64(1) << np.uint64(t)
    cm = np.uint64(cmask)
    if cm & (cm - np.uint64(1)):  # several controls (rare): every pair, checked one by one
        _one_checked(re, im, bit, cm, ar, ai, br, bi, cr, ci, dr, di)
        return
    # Runs of ``lo`` pairs (i, i | bit) with the target bit clear and the control bit (if any)
    # set; lo, hi: the lower and higher of those two bits.
    lo, hi = (bit, n) if cm == 0 else ((bit, cm) if cm > bit else (cm, bit))
    for a in range(np.uint64(0), n, hi + hi):
        for b in range(a, a + hi, lo + lo):
            s = b | cm
            for off in range(lo):
                i = s + off
                j = i + bit  # not i | bit: LLVM then sees the two runs are contiguous
                _pair(re, im, i, j, ar, ai, br, bi, cr, ci, dr, di)


@numba.njit(cache=True, nogil=True)
def _one_checked(re, im, bit, cm, ar, ai, br, bi, cr, ci, dr, di):  # pragma: no cover - compiled
    for i in range(np.uint64(re.shape[0])):
        if (i & bit) or (i & cm) != cm:
            continue
        _pair(re, im, i, i | bit, ar, ai, br, bi, cr, ci, dr, di)


@numba.njit(cache=True, nogil=True)
def _two(re, im, a, b, m):  # pragma: no cover - compiled
    """A 4x4 complex ``m`` on targets ``(a, b)`` (row = 2 bit(a) + bit(b)), uncontrolled, small
    states: the pair kernel compiled serially (its loop takes any pair of targets), the matrix
    reordered as :func:`pair_tables` does and in the state's precision."""
    lo, hi = min(a, b), max(a, b)
    mat = np.empty(32, dtype=re.dtype)
    for r in range(4):  # rows and columns ordered by (bit hi, bit lo)
        rr = r if a > b else ((r & 1) << 1) | (r >> 1)
        for c in range(4):
            cc = c if a > b else ((c & 1) << 1) | (c >> 1)
            mat[4 * r + c] = m[rr, cc].real
            mat[16 + 4 * r + c] = m[rr, cc].imag
    pair_serial(re, im, lo, hi, mat)


@numba.njit(cache=True, nogil=True)
def _general(re, im, targets, controls, mre, mim):  # pragma: no cover - compiled
    """Any matrix on any targets and controls (given as the program's floats)."""
    pos, offs, cm = layout(targets.astype(np.int64), controls.astype(np.int64))
    apply_serial(re, im, pos, offs, cm, mre, mim)


@numba.njit(cache=True, nogil=True)
def _fold(g, pend, held, qa, qb, out):  # pragma: no cover - compiled
    """``out`` = ``g`` times the pending products of ``qa`` (high factor) and ``qb`` (identity
    where none is held); both are consumed (see :func:`run_encoded`)."""
    for r in range(4):
        for c in range(4):
            acc = 0j
            for k in range(4):
                pa = pend[qa, k >> 1, c >> 1] if held[qa] else (1.0 if k >> 1 == c >> 1 else 0.0)
                pb = pend[qb, k & 1, c & 1] if held[qb] else (1.0 if k & 1 == c & 1 else 0.0)
                acc += g[r, k] * pa * pb
            out[r, c] = acc
    held[qa] = False
    held[qb] = False


@numba.njit(cache=True, nogil=True)
def _flush(re, im, pend, held, q):  # pragma: no cover - compiled
    """Apply qubit ``q``'s pending one-qubit product, if any (see :func:`run_encoded`)."""
    if held[q]:
        _one(re, im, q, 0, pend[q])
        held[q] = False


@numba.njit(cache=True, nogil=True)
def run_encoded(re, im, buf):  # pragma: no cover - compiled
    """Interpret a flat gate program (see ``statevector.encode``) on a small state, serially.

    Each record is ``code, n_targets, n_controls, targets..., controls..., data...``
    where data are the gate's parameters, or for ``CUSTOM`` the matrix as re/im pairs.
    One- and two-target gates run allocation-free scalar loops (small states fit L1).

    Uncontrolled one-qubit gates are not applied at once: each qubit keeps the product of
    its pending ones, applied as one pass when a wider or controlled gate touches the qubit,
    or at the end. (They commute with every gate on other qubits.) A layer of rx, ry, rz on
    every qubit is then one pass per qubit, not three; the noisy path's inserted Pauli
    errors join their neighbours' product too. A two-qubit gate, or a once-controlled
    one-qubit gate whose qubits hold products, takes them in: one 4x4 pass (:func:`_two`)
    instead of up to three.
    """
    n = 0
    while (1 << n) < re.shape[0]:
        n += 1
    pend = np.empty((max(n, 1), 2, 2), dtype=np.complex128)
    held = np.zeros(max(n, 1), dtype=np.bool_)
    i = 0
    m2 = np.empty((2, 2), dtype=np.complex128)
    m4 = np.empty((4, 4), dtype=np.complex128)
    c4 = np.empty((4, 4), dtype=np.complex128)
    f4 = np.empty((4, 4), dtype=np.complex128)
    while i < buf.shape[0]:
        code = int(buf[i]); nt = int(buf[i + 1]); nc = int(buf[i + 2])
        i += 3
        t0 = i
        cmask = 0
        for c in range(nc):
            cmask |= 1 << int(buf[i + nt + c])
        i += nt + nc
        if code == gates.CUSTOM:
            for k in range(nt + nc):  # the gate's qubits first take their pending products
                _flush(re, im, pend, held, int(buf[t0 + k]))
            dim = 1 << nt
            flat = buf[i:i + 2 * dim * dim]
            i += 2 * dim * dim
            mre = np.ascontiguousarray(flat[0::2]).reshape((dim, dim)).astype(re.dtype)
            mim = np.ascontiguousarray(flat[1::2]).reshape((dim, dim)).astype(re.dtype)
            _general(re, im, buf[t0:t0 + nt], buf[t0 + nt:t0 + nt + nc], mre, mim)
            continue
        ar = gates.ARITY_ARRAY[code]
        a = buf[i] if ar > 0 else 0.0
        b = buf[i + 1] if ar > 1 else 0.0
        c = buf[i + 2] if ar > 2 else 0.0
        i += ar
        if code >= gates.FIRST_TWO_QUBIT:
            gates.fill(code, a, b, c, m4)
            if nc == 0:  # with the pending products of its qubits, one pass
                qa, qb = int(buf[t0]), int(buf[t0 + 1])
                _fold(m4, pend, held, qa, qb, f4)
                _two(re, im, qa, qb, f4)
                continue
            for k in range(nt + nc):  # a controlled two-qubit gate (rare): the general kernel
                _flush(re, im, pend, held, int(buf[t0 + k]))
            _general(re, im, buf[t0:t0 + 2], buf[t0 + 2:t0 + 2 + nc], m4.real.astype(re.dtype),
                     m4.imag.astype(re.dtype))
            continue
        gates.fill(code, a, b, c, m2)
        if nc > 0:
            t, ctl = int(buf[t0]), int(buf[t0 + 1])
            if nt == 1 and nc == 1 and (held[t] or held[ctl]):
                # a controlled gate (cnot, cz...) with pending products: one 4x4 pass, not three
                c4[:, :] = 0
                c4[0, 0] = 1
                c4[1, 1] = 1
                c4[2:, 2:] = m2
                _fold(c4, pend, held, ctl, t, f4)
                _two(re, im, ctl, t, f4)
                continue
            for k in range(nt + nc):
                _flush(re, im, pend, held, int(buf[t0 + k]))
            for k in range(nt):
                _one(re, im, int(buf[t0 + k]), cmask, m2)
            continue
        for k in range(nt):  # one-qubit gates broadcast over their targets: pending, m2 after
            q = int(buf[t0 + k])
            if held[q]:
                p = pend[q]
                x00 = m2[0, 0] * p[0, 0] + m2[0, 1] * p[1, 0]
                x01 = m2[0, 0] * p[0, 1] + m2[0, 1] * p[1, 1]
                x10 = m2[1, 0] * p[0, 0] + m2[1, 1] * p[1, 0]
                x11 = m2[1, 0] * p[0, 1] + m2[1, 1] * p[1, 1]
                p[0, 0] = x00; p[0, 1] = x01; p[1, 0] = x10; p[1, 1] = x11
            else:
                pend[q, :, :] = m2
                held[q] = True
    for q in range(n):
        _flush(re, im, pend, held, q)


# --- the tables the kernels take (built in Python, per op) ---

def diagonal_table(op: Diagonal, n: int, dtype: type) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``hpos`` and the (rows, lanes) tables of ``diag_parallel`` for ``op``."""
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


_LANE = np.arange(LANES)
_NO_OFFSET = np.uint64(0)


@functools.lru_cache(maxsize=4096)
def _lane_layout(targets: tuple[int, ...]) -> tuple:
    """What a lane kernel needs of a block's ``targets`` alone: the kernel, its chunk
    offsets, and the (row, column) of the block's matrix behind each table entry."""
    low = sorted(t for t in targets if t < _LANE_BITS)
    high = sorted(t for t in targets if t >= _LANE_BITS)
    masks = tuple(1 << t for t in low)
    subsets = [0]
    for b in masks:
        subsets += [s | b for s in subsets]
    nh, k = 1 << len(high), len(targets)

    def row(hbits: np.ndarray, lane: np.ndarray) -> np.ndarray:
        r = np.zeros(np.broadcast_shapes(hbits.shape, lane.shape), dtype=np.int64)
        for i, t in enumerate(targets):
            bit = (lane >> t) & 1 if t < _LANE_BITS else (hbits >> high.index(t)) & 1
            r |= bit << (k - 1 - i)
        return r

    h = np.arange(nh).reshape(-1, 1, 1, 1)
    hc = np.arange(nh).reshape(1, -1, 1, 1)
    s = np.array(subsets).reshape(1, 1, -1, 1)
    rows, cols = (a.reshape(-1, LANES) for a in np.broadcast_arrays(row(h, _LANE), row(hc, _LANE ^ s)))
    offsets = [np.uint64(1 << t) for t in high] + [_NO_OFFSET, _NO_OFFSET]
    hpos = np.array([t - _LANE_BITS for t in high], dtype=np.int64)
    return LANE_KERNELS[masks, len(high)], hpos, offsets[0], offsets[1], rows, cols


def pair_shaped(targets: tuple[int, ...], controls: tuple[int, ...]) -> bool:
    """Whether a block runs on the pair kernel (:func:`pair_tables`): uncontrolled, two
    targets, both above the lane kernels' chunk."""
    return not controls and len(targets) == 2 and min(targets) >= _LANE_BITS


#: A 4x4 matrix's entries (flattened) with its two qubits swapped (``fusion._SWAPPED``'s row
#: order on rows and columns).
_SWAPPED_FLAT = (4 * _SWAPPED[:, None] + _SWAPPED[None, :]).ravel()


def pair_tables(targets: tuple[int, ...], m: np.ndarray, dtype: type) -> tuple[int, int, np.ndarray]:
    """The pair kernel's arguments after the state for ``m`` on ``targets``:
    ``(lo, hi, mat)``, the matrix's rows ordered by (bit hi, bit lo)."""
    flat = m.ravel() if targets[0] > targets[1] else m.ravel()[_SWAPPED_FLAT]
    mat = np.empty(32, dtype=dtype)
    mat[:16] = flat.real
    mat[16:] = flat.imag
    return min(targets), max(targets), mat


def lane_shaped(targets: tuple[int, ...], controls: tuple[int, ...]) -> bool:
    """Whether a block runs on a lane kernel (:func:`lane_tables`): uncontrolled, one or two
    targets, not both above the chunk (:func:`pair_shaped`)."""
    return not controls and len(targets) <= 2 and not pair_shaped(targets, controls)


def lane_tables(targets: tuple[int, ...], m: np.ndarray, dtype: type) -> tuple:
    """The lane kernel for an uncontrolled block of one or two ``targets`` and its
    arguments: ``(kernel, hpos, o1, o2, cr, ci)`` (see :func:`_lanes`)."""
    kernel, hpos, o1, o2, rows, cols = _lane_layout(targets)
    table = m[rows, cols]
    cr, ci = np.ascontiguousarray(table.real, dtype), np.ascontiguousarray(table.imag, dtype)
    return kernel, hpos, o1, o2, cr, ci
