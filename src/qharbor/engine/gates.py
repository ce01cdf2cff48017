"""Unitary matrices of the canonical gates, in one numba-compilable function.

The same :func:`fill` builds matrices for the fusion pass (called from Python) and
inside the compiled small-circuit interpreter, so the gate semantics live in one
place. Matrices use the big-endian convention of their own target list: for a gate
on ``targets=(a, b)`` the row index is ``2*bit(a) + bit(b)``.
"""

from __future__ import annotations

import functools
import math

import numba
import numpy as np

from .circuit import Gate

#: Numeric codes of the named gates (``CUSTOM`` carries a precomputed matrix).
CODES: dict[str, int] = {
    name: i
    for i, name in enumerate(
        ["x", "y", "z", "h", "s", "si", "t", "ti", "v", "vi", "rx", "ry", "rz", "phase",
         "gpi", "gpi2", "swap", "xx", "yy", "zz", "ms"]
    )
}
CUSTOM = 99
#: Parameters each code carries.
ARITY = {c: (3 if n == "ms" else 1 if n in {"rx", "ry", "rz", "phase", "gpi", "gpi2", "xx", "yy", "zz"} else 0)
         for n, c in CODES.items()}
#: ``ARITY`` as an array indexed by code, for compiled code.
ARITY_ARRAY = np.array([ARITY[c] for c in range(len(CODES))], dtype=np.int64)
#: Codes from here on are two-qubit gates.
FIRST_TWO_QUBIT = CODES["swap"]
_TWO_PI = 2.0 * math.pi
_R2 = 1.0 / math.sqrt(2.0)


@numba.njit(cache=True, nogil=True)
def fill(code: int, a: float, b: float, c: float, out: np.ndarray) -> None:  # pragma: no cover - compiled
    """Write the unitary of gate ``code`` with parameters ``a, b, c`` into ``out`` (2x2 or 4x4)."""
    out[:] = 0
    if code == 0:  # x
        out[0, 1] = 1; out[1, 0] = 1
    elif code == 1:  # y
        out[0, 1] = -1j; out[1, 0] = 1j
    elif code == 2:  # z
        out[0, 0] = 1; out[1, 1] = -1
    elif code == 3:  # h
        out[0, 0] = _R2; out[0, 1] = _R2; out[1, 0] = _R2; out[1, 1] = -_R2
    elif code == 4 or code == 5:  # s, si
        out[0, 0] = 1; out[1, 1] = 1j if code == 4 else -1j
    elif code == 6 or code == 7:  # t, ti
        out[0, 0] = 1; out[1, 1] = np.exp((1j if code == 6 else -1j) * math.pi / 4)
    elif code == 8 or code == 9:  # v = sqrt(X), vi
        p, m = 0.5 + 0.5j, 0.5 - 0.5j
        if code == 9:
            p, m = m, p
        out[0, 0] = p; out[0, 1] = m; out[1, 0] = m; out[1, 1] = p
    elif code == 10:  # rx = exp(-i a X / 2)
        co, si = math.cos(a / 2), math.sin(a / 2)
        out[0, 0] = co; out[1, 1] = co; out[0, 1] = -1j * si; out[1, 0] = -1j * si
    elif code == 11:  # ry
        co, si = math.cos(a / 2), math.sin(a / 2)
        out[0, 0] = co; out[1, 1] = co; out[0, 1] = -si; out[1, 0] = si
    elif code == 12:  # rz
        out[0, 0] = np.exp(-0.5j * a); out[1, 1] = np.exp(0.5j * a)
    elif code == 13:  # phase
        out[0, 0] = 1; out[1, 1] = np.exp(1j * a)
    elif code == 14:  # gpi(phi turns)
        out[0, 1] = np.exp(-1j * _TWO_PI * a); out[1, 0] = np.exp(1j * _TWO_PI * a)
    elif code == 15:  # gpi2 = (I - i sigma_phi) / sqrt 2
        out[0, 0] = _R2; out[1, 1] = _R2
        out[0, 1] = -1j * _R2 * np.exp(-1j * _TWO_PI * a)
        out[1, 0] = -1j * _R2 * np.exp(1j * _TWO_PI * a)
    elif code == 16:  # swap
        out[0, 0] = 1; out[1, 2] = 1; out[2, 1] = 1; out[3, 3] = 1
    elif code == 17 or code == 18:  # xx, yy = exp(-i a P⊗P / 2)
        co, si = math.cos(a / 2), math.sin(a / 2)
        sign = 1.0 if code == 17 else -1.0  # Y⊗Y has -1 on the anti-diagonal corners
        for i in range(4):
            out[i, i] = co
        out[0, 3] = -1j * si * sign; out[3, 0] = -1j * si * sign
        out[1, 2] = -1j * si; out[2, 1] = -1j * si
    elif code == 19:  # zz
        e, f = np.exp(-0.5j * a), np.exp(0.5j * a)
        out[0, 0] = e; out[1, 1] = f; out[2, 2] = f; out[3, 3] = e
    elif code == 20:  # ms(phi0, phi1, theta turns) = exp(-i pi theta sigma0 ⊗ sigma1)
        co, si = math.cos(math.pi * c), math.sin(math.pi * c)
        plus, minus = np.exp(-1j * _TWO_PI * (a + b)), np.exp(-1j * _TWO_PI * (a - b))
        for i in range(4):
            out[i, i] = co
        # sigma0 ⊗ sigma1 maps |11>->e^{i(a+b)}|00>, |10>->e^{i(a-b)}|01> ... (angles in turns)
        out[0, 3] = -1j * si * plus; out[3, 0] = -1j * si * np.conj(plus)
        out[1, 2] = -1j * si * minus; out[2, 1] = -1j * si * np.conj(minus)


_PAULI = {
    "I": np.eye(2, dtype=complex),
    "X": np.array([[0, 1], [1, 0]], dtype=complex),
    "Y": np.array([[0, -1j], [1j, 0]], dtype=complex),
    "Z": np.array([[1, 0], [0, -1]], dtype=complex),
}


def pauli_string(term: str) -> np.ndarray:
    """Kronecker product of a Pauli string; character 0 is the most significant factor."""
    return functools.reduce(np.kron, (_PAULI[c] for c in term))


def pauliexp_matrix(gate: Gate) -> np.ndarray:
    """U = exp(-i time sum_j c_j P_j), the Hermitian generator diagonalised exactly.

    IonQ's term character k acts on targets[n-1-k], i.e. the string is written
    most-significant-first over the *reversed* target list.
    """
    n = len(gate.targets)
    generator = np.zeros((2**n, 2**n), dtype=complex)
    for term, coefficient in zip(gate.terms, gate.coefficients):
        generator += coefficient * pauli_string(term[::-1])
    values, vectors = np.linalg.eigh(generator)
    return (vectors * np.exp(-1j * gate.params[0] * values)) @ vectors.conj().T


def matrix(gate: Gate) -> np.ndarray:
    """The target-only unitary of ``gate`` (controls are applied by the simulator)."""
    if gate.name == "pauliexp":
        return pauliexp_matrix(gate)
    code = CODES.get(gate.name)
    if code is None:
        raise ValueError(f"unknown gate {gate.name!r}")
    if not ARITY[code]:
        return _fixed(code)
    p = tuple(gate.params) + (0.0, 0.0, 0.0)
    out = np.zeros((4, 4) if code >= FIRST_TWO_QUBIT else (2, 2), dtype=np.complex128)
    fill(code, float(p[0]), float(p[1]), float(p[2]), out)
    return out


@functools.cache
def _fixed(code: int) -> np.ndarray:
    """A parameterless gate's matrix, built once and shared, so read-only: the fusion pass
    asks for one per gate (a cnot, an h), and a compiled call costs more than the gate."""
    out = np.zeros((4, 4) if code >= FIRST_TWO_QUBIT else (2, 2), dtype=np.complex128)
    fill(code, 0.0, 0.0, 0.0, out)
    out.setflags(write=False)
    return out
