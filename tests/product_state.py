"""A wide circuit whose outcome distribution is known in closed form: ``ry(θ_q)`` on every
qubit. Tests of wide jobs check sampled results against it, independently of the engine."""

from __future__ import annotations

import math


def angles(n: int) -> list[float]:
    """Distinct angles in (0, π): every one of the 2^n outcomes has weight, none the same."""
    return [0.4 + 2.2 * q / max(n - 1, 1) for q in range(n)]


def ionq_input(n: int) -> dict:
    """The circuit as an IonQ ``qis`` input."""
    return {"gateset": "qis", "qubits": n,
            "circuit": [{"gate": "ry", "target": q, "rotation": a} for q, a in enumerate(angles(n))]}


def one(n: int, qubit: int) -> float:
    """The probability that ``qubit`` reads 1."""
    return math.sin(angles(n)[qubit] / 2) ** 2


def probability(n: int, outcome: int) -> float:
    """The exact probability of a basis state (bit q of ``outcome`` = qubit q)."""
    return math.prod(one(n, q) if outcome >> q & 1 else 1 - one(n, q) for q in range(n))


def z_score(n: int, counts: dict[int, int]) -> float:
    """Standard errors between the samples' mean probability and its expectation Σp² (for a
    product distribution, a product of per-qubit sums): near 0 for shots drawn from this
    distribution, far from it for shots drawn from almost any other."""
    shots = sum(counts.values())
    mean = sum(probability(n, k) * c for k, c in counts.items()) / shots
    expected = math.prod((1 - one(n, q)) ** 2 + one(n, q) ** 2 for q in range(n))
    third = math.prod((1 - one(n, q)) ** 3 + one(n, q) ** 3 for q in range(n))
    return (mean - expected) / math.sqrt((third - expected**2) / shots)
