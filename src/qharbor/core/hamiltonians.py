"""Hosted-hybrid ``quantum-function`` jobs with a ``hamiltonian-energy`` input: the energy of
an observable in the state an OpenQASM 3 ansatz prepares.

What the numbers mean (IonQ's spec, ionq-core's examples and the ``ionq`` SDK's
``QuadraticProgram``, which builds these inputs):

* **Pauli terms.** ``"Z0 Z1"``/``"X0 Y3"`` name each qubit; a string of letters only
  (``"IZ"``, ``"XXY"``) is a dense label in qiskit's order — the *rightmost* letter acts on
  qubit 0, as ``SparsePauliOp.to_list()`` writes them (the SDK sends exactly those) — and a
  label shorter than the register leaves the higher qubits alone. Letters ``I X Y Z`` only.
  An identity term adds its coefficient (qiskit's ``expectation_value`` does the same).
* **Constraints.** Binary variables are the measured bits, x_j = 1 when qubit j reads 1
  (the SDK's Ising map x_j -> (1 - Z_j)/2). ``linear_constraints`` are a.x <= b,
  ``quadratic_constraints`` x.P.x + r.x <= c; a basis state x that violates them costs
  ``penalty`` times the sum of its violations, max(0, lhs - rhs) each — the SDK's
  ``compute_violations`` — on top of its energy. The objective is the operator
  O = H + penalty * V, with V diagonal, so its value is <psi|O|psi>.
* **CVaR.** With ``cvar_alpha`` = a in (0, 1], the value is the mean energy of the lowest
  a fraction of the outcome distribution (Barkoutsos et al. 2020), on a diagonal objective
  only (Z and I terms): it is a statistic of computational-basis outcomes. a = 1 is the
  expectation.

How it is computed: on the ideal simulator exactly, from the final state vector (every
term one pass over the state, in cache-sized blocks, compiled); ``variance`` is then 0 —
it is the variance of ``value`` as an estimate (the spec: "across the shot ensemble";
ionq-core: "shot-noise estimate"), and an exact value has none. Under a noise model or on
an emulated QPU like hardware: terms are grouped so qubit-wise commuting ones share one
measurement basis (greedy, heaviest terms first; the penalty and CVaR need the
computational basis, so they join the all-Z group), each group is one circuit (the ansatz,
then H or S†·H on the qubits it measures in X or Y) run with the job's ``shots``, and
``variance`` is the variance of the resulting estimator: the sum over groups of each
group's per-shot sample variance / shots (for CVaR its asymptotic variance,
Var(max(v - E, 0)) / (a² shots) with v the a-quantile).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import numba
import numpy as np
from llvmlite import ir  # type: ignore[import-untyped]
from numba import types
from numba.extending import intrinsic

from ..engine import Circuit, Gate

JOB_TYPE = "quantum-function"
INPUT_TYPE = "hamiltonian-energy"

_SPARSE = re.compile(r"([A-Za-z])(\d+)")
_LETTERS = frozenset("IXYZ")


class PauliError(ValueError):
    """A Pauli string that cannot be read (the message says why)."""


@dataclass(frozen=True)
class Term:
    """``coefficient`` × the Pauli operator with X on ``x`` bits and Z on ``z`` bits (Y on both)."""

    x: int
    z: int
    coefficient: float

    @property
    def support(self) -> int:
        return self.x | self.z

    @property
    def diagonal(self) -> bool:
        return self.x == 0


def pauli(text: Any, qubits: int) -> tuple[int, int]:
    """The (x, z) masks of a Pauli string on a register of ``qubits``; raises PauliError."""
    if not isinstance(text, str):
        raise PauliError("must be a string such as 'Z0 Z1' or 'ZZ'")
    s = text.strip()
    if not s:
        raise PauliError("is empty (write the identity as 'I')")
    x = z = 0
    if _SPARSE.search(s):
        seen: set[int] = set()
        rest = _SPARSE.sub("", s).replace("*", "").strip()
        if rest:
            raise PauliError(f"{text!r}: cannot read {rest!r} (write terms as 'Z0 X1')")
        for letter, index in _SPARSE.findall(s):
            q = int(index)
            if letter not in _LETTERS:
                raise PauliError(f"{text!r}: {letter!r} is not a Pauli letter (I, X, Y, Z)")
            if q >= qubits:
                raise PauliError(f"{text!r}: qubit {q} is out of range (the ansatz has {qubits} qubits)")
            if q in seen:
                raise PauliError(f"{text!r}: qubit {q} appears twice")
            seen.add(q)
            x, z = _put(letter, q, x, z)
        return x, z
    for letter in s:
        if letter not in _LETTERS:
            raise PauliError(f"{text!r}: {letter!r} is not a Pauli letter (I, X, Y, Z)")
    if len(s) > qubits:
        raise PauliError(f"{text!r} acts on {len(s)} qubits; the ansatz has {qubits}")
    for q, letter in enumerate(reversed(s)):  # qiskit's order: the last letter is qubit 0
        x, z = _put(letter, q, x, z)
    return x, z


def _put(letter: str, q: int, x: int, z: int) -> tuple[int, int]:
    bit = 1 << q
    if letter in "XY":
        x |= bit
    if letter in "ZY":
        z |= bit
    return x, z


@dataclass(frozen=True)
class Observable:
    """What a hamiltonian-energy job evaluates (validated; ``service/quantum_functions.py``)."""

    qubits: int
    terms: tuple[Term, ...]
    linear: tuple[tuple[tuple[float, ...], float], ...] = ()  # (a, b): a.x <= b
    quadratic: tuple[tuple[tuple[tuple[float, ...], ...], tuple[float, ...], float], ...] = ()  # (P, r, c)
    penalty: float = 0.0
    cvar_alpha: float | None = None

    @property
    def penalized(self) -> bool:
        return self.penalty != 0.0 and bool(self.linear or self.quadratic)

    @property
    def diagonal(self) -> bool:
        return all(t.diagonal for t in self.terms)

    def to_json(self) -> dict[str, Any]:
        return {"qubits": self.qubits, "terms": [[t.x, t.z, t.coefficient] for t in self.terms],
                "linear": [[list(a), b] for a, b in self.linear],
                "quadratic": [[[list(row) for row in p], list(r), c] for p, r, c in self.quadratic],
                "penalty": self.penalty, "cvar_alpha": self.cvar_alpha}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Observable:
        return cls(d["qubits"], tuple(Term(int(x), int(z), float(c)) for x, z, c in d["terms"]),
                   tuple((tuple(a), float(b)) for a, b in d["linear"]),
                   tuple((tuple(tuple(row) for row in p), tuple(r), float(c)) for p, r, c in d["quadratic"]),
                   float(d["penalty"]), d["cvar_alpha"])


# ---- exact (state vector)

@intrinsic
def _popcount(typingctx: Any, x: Any) -> Any:
    """LLVM's ctpop: the machine's popcount instruction."""
    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.call(builder.module.declare_intrinsic("llvm.ctpop", [ir.IntType(64)]), args)

    return types.int64(types.int64), codegen


@numba.njit(cache=True, parallel=True, fastmath=True)
def _pauli_sums(re: np.ndarray, im: np.ndarray, xs: np.ndarray, zs: np.ndarray, imag: np.ndarray,
                out: np.ndarray) -> None:  # pragma: no cover - compiled
    """out[t] = the part of S_t = sum_j conj(psi[j ^ x]) (-1)^{|j & z|} psi[j] that i^{#Y} S_t
    keeps: the real part when #Y is even, else the imaginary one. j and j ^ x contribute
    conjugates (times (-1)^{#Y}), so only the half of j with x's lowest bit clear is visited."""
    size = re.shape[0]
    half = size // 2
    chunk = min(half, 4096) if half else 1
    chunks = max(half // chunk, 1)
    terms = xs.shape[0]
    partial = np.zeros((chunks, terms))
    for c in numba.prange(chunks):
        for t in range(terms):
            x = xs[t]
            z = zs[t]
            acc = 0.0
            if x == 0:
                for j in range(c * 2 * chunk, min((c + 1) * 2 * chunk, size)):
                    sign = 1.0 - 2.0 * (_popcount(j & z) & 1)  # type: ignore[call-arg]
                    acc += sign * (re[j] * re[j] + im[j] * im[j])
            else:
                low = (x & -x) - 1
                for i in range(c * chunk, (c + 1) * chunk):
                    j = ((i & ~low) << 1) | (i & low)
                    k = j ^ x
                    s = 1.0 - 2.0 * (_popcount(j & z) & 1)  # type: ignore[call-arg]
                    if imag[t]:
                        acc += s * (re[k] * im[j] - im[k] * re[j])
                    else:
                        acc += s * (re[k] * re[j] + im[k] * im[j])
                acc *= 2.0
            partial[c, t] = acc
    for c in range(chunks):
        for t in range(terms):
            out[t] += partial[c, t]


def term_values(re: np.ndarray, im: np.ndarray, terms: tuple[Term, ...]) -> np.ndarray:
    """<psi|P_t|psi> of every term (real: each P_t is Hermitian), from a state's real and
    imaginary parts. P = i^{#Y} X^x Z^z, so <P> = Re(i^{#Y} S) with S as in ``_pauli_sums``."""
    if not terms:
        return np.zeros(0)
    xs = np.array([t.x for t in terms], dtype=np.int64)
    zs = np.array([t.z for t in terms], dtype=np.int64)
    ny = np.array([(t.x & t.z).bit_count() for t in terms]) % 4
    sums = np.zeros(len(terms))
    # As the state is (single precision stays single: a float64 copy would double its memory).
    _pauli_sums(np.ascontiguousarray(re), np.ascontiguousarray(im), xs, zs, ny % 2 == 1, sums)
    # Re(i^ny (a + ib)): ny 0 -> a, 1 -> -b, 2 -> -a, 3 -> b
    return np.where((ny == 1) | (ny == 2), -sums, sums)


def diagonal_energies(obs: Observable, outcomes: np.ndarray) -> np.ndarray:
    """The diagonal objective (Z/I terms plus the penalty) at each basis state in ``outcomes``."""
    outcomes = outcomes.astype(np.int64)
    energy = np.zeros(outcomes.shape[0])
    for t in obs.terms:
        if t.diagonal:
            energy += t.coefficient * _signs(outcomes & t.z)
    if obs.penalized:
        energy += obs.penalty * violations(obs, outcomes)
    return energy


def _signs(v: np.ndarray) -> np.ndarray:
    return 1.0 - 2.0 * (np.bitwise_count(v) & 1)


def violations(obs: Observable, outcomes: np.ndarray) -> np.ndarray:
    """Sum over constraints of max(0, lhs - rhs) at each basis state (x_j = bit j)."""
    bits = [((outcomes >> j) & 1).astype(np.float64) for j in range(obs.qubits)]
    total = np.zeros(outcomes.shape[0])
    for a, b in obs.linear:
        lhs = sum((a[j] * bits[j] for j in range(obs.qubits) if a[j]), np.zeros(outcomes.shape[0]))
        total += np.maximum(lhs - b, 0.0)
    for p, r, c in obs.quadratic:
        lhs = np.zeros(outcomes.shape[0])
        for i in range(obs.qubits):
            row = sum((p[i][j] * bits[j] for j in range(obs.qubits) if p[i][j]), np.zeros(outcomes.shape[0]))
            lhs += bits[i] * (row + r[i])
        total += np.maximum(lhs - c, 0.0)
    return total


def cvar(energies: np.ndarray, weights: np.ndarray, alpha: float) -> float:
    """The mean of the lowest ``alpha`` share of a distribution of energies (the boundary
    outcome counts with the part of its weight that fills the share)."""
    order = np.argsort(energies, kind="stable")
    e, w = energies[order], weights[order] / weights.sum()
    before = np.concatenate(([0.0], np.cumsum(w)[:-1]))
    take = np.clip(np.minimum(w, alpha - before), 0.0, None)
    return float(np.dot(e, take) / alpha)


def exact(obs: Observable, re: np.ndarray, im: np.ndarray) -> float:
    """The objective's exact value in the state (re, im)."""
    if obs.cvar_alpha is not None and obs.cvar_alpha < 1.0:
        probs = re.astype(np.float64) ** 2 + im.astype(np.float64) ** 2
        support = np.flatnonzero(probs > 0)
        return cvar(diagonal_energies(obs, support), probs[support], obs.cvar_alpha)
    value = float(np.dot([t.coefficient for t in obs.terms], term_values(re, im, obs.terms)))
    if obs.penalized:
        probs = re.astype(np.float64) ** 2 + im.astype(np.float64) ** 2
        support = np.flatnonzero(probs > 0)
        value += obs.penalty * float(np.dot(violations(obs, support), probs[support]))
    return value


# ---- estimated from shots

@dataclass
class Group:
    """Terms measured together: ``basis`` maps a qubit to the letter it is measured in."""

    basis: dict[int, str] = field(default_factory=dict)
    terms: list[Term] = field(default_factory=list)
    diagonal_objective: bool = False  # carries the penalty / CVaR (all qubits in Z)

    def fits(self, t: Term) -> bool:
        return all(self.basis.get(q, letter) == letter for q, letter in _letters(t).items())

    def add(self, t: Term) -> None:
        self.basis.update(_letters(t))
        self.terms.append(t)


def _letters(t: Term) -> dict[int, str]:
    out = {}
    for q in range(t.support.bit_length()):
        xb, zb = (t.x >> q) & 1, (t.z >> q) & 1
        if xb or zb:
            out[q] = "Y" if xb and zb else ("X" if xb else "Z")
    return out


def groups(obs: Observable) -> list[Group]:
    """Qubit-wise commuting groups (greedy, heaviest terms first); identity terms need no
    measurement. The penalty and CVaR are read in the computational basis, so when either
    applies the first group measures every qubit in Z and takes every diagonal term."""
    found: list[Group] = []
    if obs.penalized or obs.cvar_alpha is not None:
        found.append(Group({q: "Z" for q in range(obs.qubits)}, [], True))
    measured = [t for t in obs.terms if t.support]
    for t in sorted(measured, key=lambda t: (-abs(t.coefficient), t.x, t.z)):
        for g in found:
            if g.fits(t):
                g.add(t)
                break
        else:
            g = Group()
            g.add(t)
            found.append(g)
    return found


def rotations(g: Group) -> tuple[Gate, ...]:
    """Gates after the ansatz that turn the group's bases into Z: H for X, S† then H for Y."""
    gates: list[Gate] = []
    for q, letter in sorted(g.basis.items()):
        if letter == "Y":
            gates.append(Gate("si", (q,)))
        if letter in "XY":
            gates.append(Gate("h", (q,)))
    return tuple(gates)


def group_circuit(ansatz: Circuit, g: Group) -> Circuit:
    return Circuit(ansatz.qubits, ansatz.gates + rotations(g))


def constant(obs: Observable) -> float:
    return sum(t.coefficient for t in obs.terms if not t.support)


def estimate(obs: Observable, found: list[Group], histograms: list[dict[str, int]]) -> tuple[float, float]:
    """(value, variance of that value) from each group's histogram (decimal outcome -> count).

    After the rotations every term is a product of Z on its support, so each shot k gives
    the group's energy g(k) = sum_t c_t (-1)^{|k & support_t|} (+ the penalty, in the all-Z
    group); a group's mean has variance s²/shots (sample variance s²), and groups are
    independent circuits, so variances add."""
    value, variance = constant(obs), 0.0
    for g, hist in zip(found, histograms):
        outcomes = np.array([int(k) for k in hist], dtype=np.int64)
        counts = np.array(list(hist.values()), dtype=np.float64)
        shots = counts.sum()
        energy = np.zeros(outcomes.shape[0])
        for t in g.terms:
            energy += t.coefficient * _signs(outcomes & t.support)
        if g.diagonal_objective and obs.penalized:
            energy += obs.penalty * violations(obs, outcomes)
        if g.diagonal_objective and obs.cvar_alpha is not None and obs.cvar_alpha < 1.0:
            cv, var = _sampled_cvar(energy, counts, obs.cvar_alpha)
            value += cv
            variance += var
            continue
        mean = float(np.dot(energy, counts) / shots)
        second = float(np.dot((energy - mean) ** 2, counts))
        value += mean
        variance += second / (shots - 1) / shots if shots > 1 else 0.0
    return float(value), float(variance)


def _sampled_cvar(energy: np.ndarray, counts: np.ndarray, alpha: float) -> tuple[float, float]:
    """CVaR of the shots' energies (their lowest ceil(alpha·shots) values, averaged) and the
    estimator's asymptotic variance Var(max(v - E, 0)) / (alpha² shots), v the alpha-quantile."""
    shots = counts.sum()
    order = np.argsort(energy, kind="stable")
    e, c = energy[order], counts[order]
    keep = math.ceil(alpha * shots)
    before = np.concatenate(([0.0], np.cumsum(c)[:-1]))
    take = np.clip(np.minimum(c, keep - before), 0.0, None)
    value = float(np.dot(e, take) / keep)
    v = float(e[np.searchsorted(np.cumsum(c), keep)]) if keep <= shots else float(e[-1])
    tail = np.maximum(v - e, 0.0)
    mean = np.dot(tail, c) / shots
    var = float(np.dot((tail - mean) ** 2, c) / shots) / (alpha**2 * shots)
    return value, var
