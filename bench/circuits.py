"""Benchmark circuits in qharbor's canonical form, shared by the bench scripts."""

from __future__ import annotations

import math

import numpy as np

from qharbor.engine import Circuit, Gate


def ghz(n: int) -> Circuit:
    return Circuit(n, (Gate("h", (0,)),) + tuple(Gate("x", (q + 1,), (q,)) for q in range(n - 1)))


def qft(n: int) -> Circuit:
    """QFT without the final swaps, on a random product input so no amplitude is trivial."""
    rng = np.random.default_rng(n)
    gates = [Gate("ry", (q,), (), (float(rng.uniform(0, math.pi)),)) for q in range(n)]
    for j in reversed(range(n)):
        gates.append(Gate("h", (j,)))
        for k in reversed(range(j)):
            gates.append(Gate("phase", (j,), (k,), (math.pi / 2 ** (j - k),)))
    return Circuit(n, tuple(gates))


def random_layers(n: int, layers: int = 20, seed: int = 1) -> Circuit:
    """Each layer: rx, ry or rz (random angle) on every qubit, then cnots on a random matching."""
    rng = np.random.default_rng(seed)
    gates = []
    for _ in range(layers):
        for q in range(n):
            gates.append(Gate(("rx", "ry", "rz")[rng.integers(3)], (q,), (), (float(rng.uniform(0, 2 * math.pi)),)))
        perm = rng.permutation(n)
        gates += [Gate("x", (int(perm[i + 1]),), (int(perm[i]),)) for i in range(0, n - 1, 2)]
    return Circuit(n, tuple(gates))
