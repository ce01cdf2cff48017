"""Clifford circuits measured without a state vector: an Aaronson–Gottesman stabilizer
tableau gives their outcome distribution — uniform over an affine subspace of bit
strings — exactly, at any width, in a few operations on n-bit columns per gate.

Used for wide ideal Clifford circuits (``ideal.py``) and for noisy ones whose every error
propagates to the end as a bit flip (``noisy.py``).
"""

from __future__ import annotations

import numpy as np

from .circuit import Circuit, Gate

_CLIFFORD_1Q = frozenset({"x", "y", "z", "h", "s", "si", "v", "vi"})


def is_clifford(circuit: Circuit) -> bool:
    """Whether every gate is one the stabilizer tableau below applies (then every error
    Pauli also propagates to the end, and no pattern needs a state vector)."""
    for g in circuit.gates:
        if g.controls:
            if not (len(g.controls) == 1 and len(g.targets) == 1 and g.name in ("x", "z")):
                return False
        elif g.name not in _CLIFFORD_1Q and g.name != "swap":
            return False
    return True


class _Tableau:
    """Aaronson–Gottesman stabilizer tableau (stabilizer rows only) of an n-qubit state."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.x = np.zeros((n, n), dtype=bool)
        self.z = np.eye(n, dtype=bool)  # |0...0>: stabilized by Z_i
        self.r = np.zeros(n, dtype=bool)

    def h(self, a: int) -> None:
        self.r ^= self.x[:, a] & self.z[:, a]
        self.x[:, a], self.z[:, a] = self.z[:, a].copy(), self.x[:, a].copy()

    def s(self, a: int) -> None:
        self.r ^= self.x[:, a] & self.z[:, a]
        self.z[:, a] ^= self.x[:, a]

    def cnot(self, c: int, t: int) -> None:
        self.r ^= self.x[:, c] & self.z[:, t] & ~(self.x[:, t] ^ self.z[:, c])
        self.x[:, t] ^= self.x[:, c]
        self.z[:, c] ^= self.z[:, t]

    def apply(self, g: Gate) -> None:
        if g.controls:
            c, t = g.controls[0], g.targets[0]
            if g.name == "z":
                self.h(t), self.cnot(c, t), self.h(t)
            else:
                self.cnot(c, t)
            return
        if g.name == "swap":
            a, b = g.targets
            self.cnot(a, b), self.cnot(b, a), self.cnot(a, b)
            return
        for a in g.targets:
            if g.name == "x":
                self.r ^= self.z[:, a]
            elif g.name == "y":
                self.r ^= self.x[:, a] ^ self.z[:, a]
            elif g.name == "z":
                self.r ^= self.x[:, a]
            elif g.name == "h":
                self.h(a)
            elif g.name in ("s", "si"):
                for _ in range(1 if g.name == "s" else 3):
                    self.s(a)
            else:  # v = H S H, vi = H S† H
                self.h(a)
                for _ in range(1 if g.name == "v" else 3):
                    self.s(a)
                self.h(a)

    def _rowsum(self, h: int, i: int) -> None:
        """Row h ← row i · row h, with the phase (Aaronson–Gottesman's g function)."""
        x1, z1, x2, z2 = (self.x[i].astype(np.int64), self.z[i].astype(np.int64),
                          self.x[h].astype(np.int64), self.z[h].astype(np.int64))
        g = np.where(x1 & z1, z2 - x2, np.where(x1 == 1, z2 * (2 * x2 - 1), x1 * 0 + z1 * x2 * (1 - 2 * z2)))
        total = 2 * int(self.r[h]) + 2 * int(self.r[i]) + int(g.sum())
        self.r[h] = (total % 4) == 2
        self.x[h] ^= self.x[i]
        self.z[h] ^= self.z[i]

    def support(self) -> tuple[int, np.ndarray]:
        """The Z-basis outcomes: (one outcome x0, the k basis vectors of its shifts as a
        (k, n) bool array); the outcomes are x0 ⊕ span, uniformly."""
        n, k = self.n, 0
        for q in range(n):  # echelon form of the X parts
            rows = np.flatnonzero(self.x[k:, q]) + k
            if not rows.size:
                continue
            p = int(rows[0])
            if p != k:
                for arr in (self.x, self.z, self.r):
                    arr[[k, p]] = arr[[p, k]]
            for row in np.flatnonzero(self.x[:, q]):
                if row != k:
                    self._rowsum(int(row), k)
            k += 1
        # rows k.. are ±Z^a: constraints a·x = r. Solve by elimination for one x0.
        a, b = self.z[k:].copy(), self.r[k:].copy()
        pivots, m = [], 0
        for q in range(n):
            rows = np.flatnonzero(a[m:, q]) + m
            if not rows.size:
                continue
            p = int(rows[0])
            a[[m, p]], b[[m, p]] = a[[p, m]], b[[p, m]]
            for row in np.flatnonzero(a[:, q]):
                if row != m:
                    a[row] ^= a[m]
                    b[row] ^= b[m]
            pivots.append(q)
            m += 1
        x0 = 0
        for row, q in enumerate(pivots):  # free variables 0: each pivot variable is its row's r
            if b[row]:
                x0 |= 1 << q
        return x0, self.x[:k].copy()


def clifford_sampler(circuit: Circuit) -> tuple[int, np.ndarray]:
    """(x0, basis as bit masks) of a Clifford circuit's ideal outcome distribution."""
    t = _Tableau(circuit.qubits)
    for g in circuit.gates:
        t.apply(g)
    x0, basis = t.support()
    weights = (1 << np.arange(circuit.qubits, dtype=np.int64))
    return x0, (basis.astype(np.int64) @ weights).astype(np.int64)


def draw_clifford(x0: int, basis: np.ndarray, flips: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One uniform outcome of x0 ⊕ span(basis) per entry of ``flips``, XOR its flip mask."""
    out = np.full(flips.size, x0, dtype=np.int64) ^ flips
    for vector in basis.tolist():
        out ^= rng.integers(0, 2, size=flips.size, dtype=np.int64) * vector
    return out
