"""Compiled in-place kernels: apply a small (controlled) unitary to a statevector.

The state is held split into real and imaginary arrays (structure of arrays):
with the amplitudes a gate mixes lying in contiguous runs, the innermost loops are
plain multiply-adds over unit-stride float arrays, which LLVM vectorises (AVX2 /
AVX-512) without any complex-number shuffles.

Every kernel is compiled twice from one body: ``parallel`` (threads over blocks of
the state, for wide registers) and ``serial`` (no thread start-up, for the small
circuits that dominate many-circuit jobs). Both are compiled lazily on first use
and cached on disk (``cache=True``), so worker start-up stays fast.
"""

from __future__ import annotations

import types

import numba
import numpy as np
from numba import prange

from . import gates

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
#: Free-index elements per thread task in the one- and two-qubit kernels.
_SPAN = 4096


@_inline
def _deposit(o, pos):  # pragma: no cover - compiled
    for p in pos:
        o = ((o >> p) << (p + 1)) | (o & ((1 << p) - 1))
    return o


@_inline
def _mix1(re, im, i, o1, m):  # pragma: no cover - compiled
    ar, ai, br, bi = re[i], im[i], re[i + o1], im[i + o1]
    re[i] = m[0] * ar - m[1] * ai + m[2] * br - m[3] * bi
    im[i] = m[0] * ai + m[1] * ar + m[2] * bi + m[3] * br
    re[i + o1] = m[4] * ar - m[5] * ai + m[6] * br - m[7] * bi
    im[i + o1] = m[4] * ai + m[5] * ar + m[6] * bi + m[7] * br


@_inline
def _row(m, c, xr0, xi0, xr1, xi1, xr2, xi2, xr3, xi3):  # pragma: no cover - compiled
    yr = (m[c] * xr0 - m[c + 1] * xi0 + m[c + 2] * xr1 - m[c + 3] * xi1
          + m[c + 4] * xr2 - m[c + 5] * xi2 + m[c + 6] * xr3 - m[c + 7] * xi3)
    yi = (m[c] * xi0 + m[c + 1] * xr0 + m[c + 2] * xi1 + m[c + 3] * xr1
          + m[c + 4] * xi2 + m[c + 5] * xr2 + m[c + 6] * xi3 + m[c + 7] * xr3)
    return yr, yi


@_inline
def _mix2(re, im, i, o1, o2, o3, m):  # pragma: no cover - compiled
    xr0, xi0, xr1, xi1 = re[i], im[i], re[i + o1], im[i + o1]
    xr2, xi2, xr3, xi3 = re[i + o2], im[i + o2], re[i + o3], im[i + o3]
    r0, j0 = _row(m, 0, xr0, xi0, xr1, xi1, xr2, xi2, xr3, xi3)
    r1, j1 = _row(m, 8, xr0, xi0, xr1, xi1, xr2, xi2, xr3, xi3)
    r2, j2 = _row(m, 16, xr0, xi0, xr1, xi1, xr2, xi2, xr3, xi3)
    r3, j3 = _row(m, 24, xr0, xi0, xr1, xi1, xr2, xi2, xr3, xi3)
    re[i], im[i], re[i + o1], im[i + o1] = r0, j0, r1, j1
    re[i + o2], im[i + o2], re[i + o3], im[i + o3] = r2, j2, r3, j3


def _small_body(re, im, pos, offs, cmask, m):  # pragma: no cover - compiled
    """One- or two-target kernel (``m``: the matrix as interleaved re/im, row-major).

    The free index splits into ``lo`` (below the lowest special bit: contiguous),
    ``mid`` (up to the next one: stride ``2*R``) and the rest; the longer of the two
    inner loops is made innermost so it vectorises even for targets on qubits 0-2.
    """
    two = offs.shape[0] == 4
    o1 = offs[1]
    o2 = offs[2] if two else 0
    o3 = offs[3] if two else 0
    total = re.shape[0] >> pos.shape[0]
    p0 = pos[0]
    R = 1 << p0
    M = (1 << (pos[1] - p0 - 1)) if pos.shape[0] > 1 else total // R
    # A task is at most one contiguous run when runs are vector-long: LLVM hoists its
    # runtime alias check out of the loops of a task, and over several runs the
    # interleaved read and write ranges overlap, which would send every run down the
    # scalar fallback (5x slower).
    span = min(total, _SPAN) if R < 8 else min(total, _SPAN, R)
    step = np.uint64(2 * R)
    u1, u2, u3 = np.uint64(o1), np.uint64(o2), np.uint64(o3)
    for t in prange(total // span):
        s = t * span
        nlo = min(R, span)
        nmid = min(M, span // nlo)
        nhi = span // (nlo * nmid)
        for h in range(nhi):
            # Unsigned indices: numba then skips its negative-index wraparound test,
            # which would otherwise keep LLVM from vectorising the inner loop.
            base = np.uint64(_deposit(s + h * nlo * nmid, pos) | cmask)
            if nlo >= 8 or nlo >= nmid:
                for mid in range(np.uint64(nmid)):
                    b = base + mid * step
                    for lo in range(np.uint64(nlo)):
                        if two:
                            _mix2(re, im, b + lo, u1, u2, u3, m)
                        else:
                            _mix1(re, im, b + lo, u1, m)
            else:
                for lo in range(np.uint64(nlo)):
                    b = base + lo
                    for mid in range(np.uint64(nmid)):
                        if two:
                            _mix2(re, im, b + mid * step, u1, u2, u3, m)
                        else:
                            _mix1(re, im, b + mid * step, u1, m)


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


def _variant(fn, suffix):
    """A copy of ``fn`` under another name: numba's disk cache is keyed by the function's
    name and signature only, so the parallel and serial compilations of one body must
    not share a name (they would overwrite each other's cache entries)."""
    copy = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__ + suffix, fn.__defaults__, fn.__closure__)
    copy.__qualname__ = fn.__qualname__ + suffix
    return copy


_par = numba.njit(parallel=True, fastmath=True, cache=True, nogil=True)
apply_parallel = _par(_variant(_apply_body, "_parallel"))
apply_serial = _jit(_apply_body)
small_parallel = _par(_variant(_small_body, "_parallel"))
small_serial = _jit(_small_body)
diag_parallel = _par(_variant(_diag_body, "_parallel"))


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


@numba.njit(cache=True, nogil=True)
def _one(re, im, t, cmask, m):  # pragma: no cover - compiled
    """A 2x2 complex ``m`` on target ``t`` where all ``cmask`` bits are set (small states)."""
    bit = 1 << t
    ar, ai, br, bi = m[0, 0].real, m[0, 0].imag, m[0, 1].real, m[0, 1].imag
    cr, ci, dr, di = m[1, 0].real, m[1, 0].imag, m[1, 1].real, m[1, 1].imag
    for k in range(re.shape[0] >> 1):
        i = _spread(k, t)
        if (i & cmask) != cmask:
            continue
        j = i | bit
        xr, xi, yr, yi = re[i], im[i], re[j], im[j]
        re[i] = ar * xr - ai * xi + br * yr - bi * yi
        im[i] = ar * xi + ai * xr + br * yi + bi * yr
        re[j] = cr * xr - ci * xi + dr * yr - di * yi
        im[j] = cr * xi + ci * xr + dr * yi + di * yr


@numba.njit(cache=True, nogil=True)
def _two(re, im, a, b, cmask, m):  # pragma: no cover - compiled
    """A 4x4 complex ``m`` on targets ``(a, b)`` (row = 2 bit(a) + bit(b)), small states."""
    lo, hi = min(a, b), max(a, b)
    o = (0, 1 << b, 1 << a, (1 << a) | (1 << b))
    xr = np.empty(4)
    xi = np.empty(4)
    for k in range(re.shape[0] >> 2):
        i = _spread(_spread(k, lo), hi)
        if (i & cmask) != cmask:
            continue
        for c in range(4):
            xr[c] = re[i + o[c]]
            xi[c] = im[i + o[c]]
        for r in range(4):
            yr = 0.0
            yi = 0.0
            for c in range(4):
                mr = m[r, c].real
                mi = m[r, c].imag
                yr += mr * xr[c] - mi * xi[c]
                yi += mr * xi[c] + mi * xr[c]
            re[i + o[r]] = yr
            im[i + o[r]] = yi


@numba.njit(cache=True, nogil=True)
def run_encoded(re, im, buf):  # pragma: no cover - compiled
    """Interpret a flat gate program (see ``statevector.encode``) on a small state, serially.

    Each record is ``code, n_targets, n_controls, targets..., controls..., data...``
    where data are the gate's parameters, or for ``CUSTOM`` the matrix as re/im pairs.
    One- and two-target gates run allocation-free scalar loops (small states fit L1).
    """
    i = 0
    m2 = np.empty((2, 2), dtype=np.complex128)
    m4 = np.empty((4, 4), dtype=np.complex128)
    while i < buf.shape[0]:
        code = int(buf[i]); nt = int(buf[i + 1]); nc = int(buf[i + 2])
        i += 3
        t0 = i
        cmask = 0
        for c in range(nc):
            cmask |= 1 << int(buf[i + nt + c])
        i += nt + nc
        if code == gates.CUSTOM:
            targets = buf[t0:t0 + nt].astype(np.int64)
            controls = buf[t0 + nt:t0 + nt + nc].astype(np.int64)
            dim = 1 << nt
            flat = buf[i:i + 2 * dim * dim]
            i += 2 * dim * dim
            mre = np.ascontiguousarray(flat[0::2]).reshape((dim, dim)).astype(re.dtype)
            mim = np.ascontiguousarray(flat[1::2]).reshape((dim, dim)).astype(re.dtype)
            pos, offs, cm = layout(targets, controls)
            apply_serial(re, im, pos, offs, cm, mre, mim)
            continue
        ar = gates.ARITY_ARRAY[code]
        a = buf[i] if ar > 0 else 0.0
        b = buf[i + 1] if ar > 1 else 0.0
        c = buf[i + 2] if ar > 2 else 0.0
        i += ar
        if code >= gates.FIRST_TWO_QUBIT:
            gates.fill(code, a, b, c, m4)
            _two(re, im, int(buf[t0]), int(buf[t0 + 1]), cmask, m4)
        else:
            gates.fill(code, a, b, c, m2)
            for q in range(nt):  # one-qubit gates broadcast over their targets
                _one(re, im, int(buf[t0 + q]), cmask, m2)


@numba.njit(cache=True, nogil=True)
def _interleave(m, dtype):  # pragma: no cover - compiled
    """A complex matrix as the flat re/im row-major array the small kernels take."""
    dim = m.shape[0]
    out = np.empty(2 * dim * dim, dtype=dtype)
    for r in range(dim):
        for c in range(dim):
            out[2 * (r * dim + c)] = m[r, c].real
            out[2 * (r * dim + c) + 1] = m[r, c].imag
    return out
