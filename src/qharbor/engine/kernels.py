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


apply_parallel = numba.njit(parallel=True, fastmath=True, cache=True, nogil=True)(_apply_body)
apply_serial = numba.njit(fastmath=True, cache=True, nogil=True)(_apply_body)


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


@numba.njit(cache=True, nogil=True)
def run_encoded(re, im, buf):  # pragma: no cover - compiled
    """Interpret a flat gate program (see ``statevector.encode``) on a small state, serially.

    Each record is ``code, n_targets, n_controls, targets..., controls..., data...``
    where data are the gate's parameters, or for ``CUSTOM`` the matrix as re/im pairs.
    """
    i = 0
    m2 = np.empty((2, 2), dtype=np.complex128)
    m4 = np.empty((4, 4), dtype=np.complex128)
    while i < buf.shape[0]:
        code = int(buf[i]); nt = int(buf[i + 1]); nc = int(buf[i + 2])
        i += 3
        targets = buf[i:i + nt].astype(np.int64)
        controls = buf[i + nt:i + nt + nc].astype(np.int64)
        i += nt + nc
        if code == gates.CUSTOM:
            dim = 1 << nt
            flat = buf[i:i + 2 * dim * dim]
            i += 2 * dim * dim
            mre = np.ascontiguousarray(flat[0::2]).reshape((dim, dim)).astype(re.dtype)
            mim = np.ascontiguousarray(flat[1::2]).reshape((dim, dim)).astype(re.dtype)
            pos, offs, cmask = layout(targets, controls)
            apply_serial(re, im, pos, offs, cmask, mre, mim)
            continue
        a = buf[i] if gates.ARITY_ARRAY[code] > 0 else 0.0
        b = buf[i + 1] if gates.ARITY_ARRAY[code] > 1 else 0.0
        c = buf[i + 2] if gates.ARITY_ARRAY[code] > 2 else 0.0
        i += gates.ARITY_ARRAY[code]
        if code >= gates.FIRST_TWO_QUBIT:
            gates.fill(code, a, b, c, m4)
            mre = np.ascontiguousarray(m4.real).astype(re.dtype)
            mim = np.ascontiguousarray(m4.imag).astype(re.dtype)
            pos, offs, cmask = layout(targets, controls)
            apply_serial(re, im, pos, offs, cmask, mre, mim)
        else:
            gates.fill(code, a, b, c, m2)
            mre = np.ascontiguousarray(m2.real).astype(re.dtype)
            mim = np.ascontiguousarray(m2.imag).astype(re.dtype)
            for t in targets:  # one-qubit gates broadcast over their targets
                pos, offs, cmask = layout(np.array([t]), controls)
                apply_serial(re, im, pos, offs, cmask, mre, mim)
