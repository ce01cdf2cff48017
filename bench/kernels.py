"""What a fused two-qubit block costs on each kernel, one core, the state in cache.

    .venv/bin/python bench/kernels.py [--qubits 18] [--precision single] [--repeat 7]

For each target pair: a random 4x4 unitary applied 50 times in a row by the kernel the
engine picks for it (``statevector._prepare``): the pair kernel when both targets are on
qubit 4 or above, a lane kernel when one or both lie inside its sixteen-amplitude chunk.
The pairs are taken round-robin, twice, ``--repeat`` timings each, so that drift in the
machine's speed falls on all; the best, in ns per amplitude. Every kernel's result is
checked against a dense product (max |Δ| <= 1e-4 single, 1e-10 double, else exit 1). One
numba thread: what one tile thread does (``engine/tiles.py``). Not a test: the
measurement behind README "Engine speed" (where random-20 loses).
"""

from __future__ import annotations

import argparse
import sys
import time

import numba
import numpy as np
from scipy.stats import unitary_group

from qharbor.engine import kernels, statevector
from qharbor.engine.fusion import Op

#: (lo, hi) target pairs: above the chunk (pair kernel), then with one or two inside it.
PAIRS = [(4, 5), (4, 12), (5, 12), (6, 12), (8, 12), (12, 15), (0, 12), (1, 12), (2, 12), (3, 12), (0, 1), (2, 3)]


def dense(state: np.ndarray, n: int, targets: tuple[int, int], m: np.ndarray) -> np.ndarray:
    """``m`` (big-endian over ``targets``) applied to ``state`` as an n-axis tensor."""
    psi = state.reshape((2,) * n)
    axes = [n - 1 - t for t in targets]
    out = np.tensordot(m.reshape((2,) * 4), psi, axes=([2, 3], axes))
    return np.moveaxis(out, [0, 1], axes).reshape(-1)


def best(f, repeat: int, calls: int = 50) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(calls):
            f()
        times.append((time.perf_counter() - start) / calls)
    return min(times)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--qubits", type=int, default=18)
    ap.add_argument("--precision", choices=("single", "double"), default="single")
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    numba.set_num_threads(1)
    n = args.qubits
    dtype = statevector.PRECISIONS[args.precision]
    rng = np.random.default_rng(1)
    state = rng.standard_normal(1 << n) + 1j * rng.standard_normal(1 << n)
    state /= np.linalg.norm(state)
    re, im = state.real.astype(dtype), state.imag.astype(dtype)
    bound = 1e-4 if args.precision == "single" else 1e-10
    cases = []
    bad = 0
    for lo, hi in PAIRS:
        m = unitary_group.rvs(4, random_state=rng)
        kernel, tables = statevector._prepare(Op((hi, lo), m), n, dtype)
        r, i = state.real.astype(dtype), state.imag.astype(dtype)
        kernel(r, i, *tables)
        if np.abs((r + 1j * i) - dense(state, n, (hi, lo), m)).max() > bound:
            print(f"# DISAGREES at {(lo, hi)}", file=sys.stderr)
            bad += 1
        name = "pair" if kernel is kernels.pair_parallel else "lane"
        cases.append(((lo, hi), name, lambda k=kernel, t=tables: k(re, im, *t), []))
    for _ in range(2):
        for *_, f, times in cases:
            f()
            times.append(best(f, args.repeat))
    print(f"# {n} qubits, {args.precision}, one numba thread; best of {2 * args.repeat}, ns per amplitude")
    print("| (lo, hi) | kernel | ns / amplitude |")
    print("|---|---|---|")
    for pair, name, _, times in cases:
        print(f"| {pair} | {name} | {min(times) / (1 << n) * 1e9:.3f} |")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
