"""Prices applied: the rate card this process uses (``QHARBOR_RATE_CARD``, installed once at
start by the app), a job's predicted cost at submission, and the limits cost binds — a
session's ``cost_limit`` and a project's ``budget``. A job that would take either past its
limit is stored failed with the spec's ``QuotaExhaustedError``, never run."""

from __future__ import annotations

from collections.abc import Iterable

from ..core import characterizations, pricing
from ..core.pricing import RateCard

QUOTA_EXHAUSTED = "QuotaExhaustedError"
#: Cost comparisons allow this much float rounding (far below any currency's smallest unit).
_SLACK = 1e-9

_card: RateCard = pricing.FREE


def use(card: RateCard) -> None:
    """Make ``card`` this process's rate card (the app does this at start)."""
    global _card
    _card = card


def card() -> RateCard:
    return _card


class QuotaExhausted(Exception):
    """The job would exceed a cost limit; the message names which and by how much."""


def predicted(backend: str, shots: int, circuits: Iterable[tuple[int, dict[str, int]]]) -> tuple[float, int]:
    """``(cost, quantum compute time in us)`` of a job before it runs, from each circuit's qubits
    and gate counts: the time the emulated machine will report (``characterizations``; the
    simulator has none) and the rate card's price."""
    machine_ms = g1 = g2 = 0
    for qubits, counts in circuits:
        one, two = counts.get("1q", 0), counts.get("2q", 0)
        g1, g2 = g1 + one, g2 + two
        if backend.startswith("qpu."):
            machine_ms += characterizations.execution_ms(backend, qubits, shots, one, two)
    compute_us = pricing.compute_us(backend, machine_ms)
    return _card.cost(backend, shots, g1, g2, compute_us), compute_us


def check(limit: float | None, spent: float, cost: float, what: str) -> None:
    """Raise :class:`QuotaExhausted` if ``spent + cost`` exceeds ``limit`` (None: no limit)."""
    if limit is not None and spent + cost > limit + _SLACK:
        raise QuotaExhausted(f"{what} of {limit:g} {_card.currency} would be exceeded: {spent:g} spent or committed "
                             f"by earlier jobs, and this job costs {cost:g}")
