"""Unitary matrices of the canonical gates.

Matrices use the big-endian convention of their own target list: for a gate on
``targets=(a, b)`` the row index is ``2*bit(a) + bit(b)``.
"""

from __future__ import annotations

import math
from functools import reduce

import numpy as np

from .circuit import Gate

_I = np.eye(2, dtype=complex)
_X = np.array([[0, 1], [1, 0]], dtype=complex)
_Y = np.array([[0, -1j], [1j, 0]], dtype=complex)
_Z = np.array([[1, 0], [0, -1]], dtype=complex)
_PAULI = {"I": _I, "X": _X, "Y": _Y, "Z": _Z}
_SQRT_X = 0.5 * np.array([[1 + 1j, 1 - 1j], [1 - 1j, 1 + 1j]], dtype=complex)

_FIXED = {
    "x": _X,
    "y": _Y,
    "z": _Z,
    "h": np.array([[1, 1], [1, -1]], dtype=complex) / math.sqrt(2),
    "s": np.diag([1, 1j]).astype(complex),
    "si": np.diag([1, -1j]).astype(complex),
    "t": np.diag([1, np.exp(1j * math.pi / 4)]),
    "ti": np.diag([1, np.exp(-1j * math.pi / 4)]),
    "v": _SQRT_X,
    "vi": _SQRT_X.conj().T,
    "swap": np.array([[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1]], dtype=complex),
}


def _rotation(pauli: np.ndarray, theta: float) -> np.ndarray:
    """exp(-i theta P / 2) for an involutory P (P @ P = I)."""
    dim = pauli.shape[0]
    return math.cos(theta / 2) * np.eye(dim) - 1j * math.sin(theta / 2) * pauli


def _sigma(phi_turns: float) -> np.ndarray:
    angle = 2 * math.pi * phi_turns
    return math.cos(angle) * _X + math.sin(angle) * _Y


def pauli_string(term: str) -> np.ndarray:
    """Kronecker product of a Pauli string; character 0 is the most significant factor."""
    return reduce(np.kron, (_PAULI[c] for c in term))


def matrix(gate: Gate) -> np.ndarray:
    """The target-only unitary of ``gate`` (controls are applied by the simulator)."""
    name, p = gate.name, gate.params
    if name in _FIXED:
        return _FIXED[name]
    if name == "rx":
        return _rotation(_X, p[0])
    if name == "ry":
        return _rotation(_Y, p[0])
    if name == "rz":
        return _rotation(_Z, p[0])
    if name == "phase":
        return np.diag([1, np.exp(1j * p[0])])
    if name == "xx":
        return _rotation(np.kron(_X, _X), p[0])
    if name == "yy":
        return _rotation(np.kron(_Y, _Y), p[0])
    if name == "zz":
        return _rotation(np.kron(_Z, _Z), p[0])
    if name == "gpi":
        a = 2 * math.pi * p[0]
        return np.array([[0, np.exp(-1j * a)], [np.exp(1j * a), 0]])
    if name == "gpi2":
        return (_I - 1j * _sigma(p[0])) / math.sqrt(2)
    if name == "ms":
        # exp(-i pi theta sigma0 (x) sigma1); the product of two involutions is one.
        return _rotation(np.kron(_sigma(p[0]), _sigma(p[1])), 2 * math.pi * p[2])
    if name == "pauliexp":
        # U = exp(-i time sum_j c_j P_j); the Hermitian generator is diagonalised exactly.
        # IonQ's term character k acts on targets[n-1-k], i.e. the string is written
        # most-significant-first over the *reversed* target list.
        n = len(gate.targets)
        generator = np.zeros((2**n, 2**n), dtype=complex)
        for term, coefficient in zip(gate.terms, gate.coefficients):
            generator += coefficient * pauli_string(term[::-1])
        values, vectors = np.linalg.eigh(generator)
        return (vectors * np.exp(-1j * p[0] * values)) @ vectors.conj().T
    raise ValueError(f"unknown gate {name!r}")
