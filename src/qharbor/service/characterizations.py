"""Characterizations of the backends: what each emulated machine is like.

The figures describe qharbor's own emulation, not a measurement of real hardware:
the fidelities follow from the depolarizing parameters of IonQ's published noise
models (a Pauli error with probability 3·r1/4 after a one-qubit gate, 15·r2/16
after a two-qubit gate; average gate fidelity F = (d·(1 − p) + 1)/(d + 1)), the gate
times and coherence times are IonQ's published typical figures. Readout and reset
times are not published; the values below are assumptions, marked as such.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from .backends import BACKENDS, Backend

_NAMESPACE = uuid.UUID("6f1c9a52-3e0b-4c1e-9d55-4b8b1a0e7c21")


@dataclass(frozen=True)
class Profile:
    r1: float  # one-qubit depolarizing parameter
    r2: float  # two-qubit depolarizing parameter
    gate_1q_s: float
    gate_2q_s: float
    t1_s: float
    t2_s: float
    readout_s: float = 300e-6  # assumption: not published
    reset_s: float = 20e-6  # assumption: not published


_ARIA = dict(gate_1q_s=135e-6, gate_2q_s=600e-6, t1_s=100.0, t2_s=1.0)
#: Noise parameters per model (ionq-noise-notes.md); forte-enterprise-1 reuses forte-1's
#: until its own are derived (issue: noise models).
PROFILES: dict[str, Profile] = {
    "qpu.aria-1": Profile(0.0005, 0.0133, **_ARIA),
    "qpu.aria-2": Profile(0.000657333, 0.01856, **_ARIA),
    "qpu.forte-1": Profile(0.000266667, 0.004949333, **_ARIA),
    "qpu.forte-enterprise-1": Profile(0.000266667, 0.004949333, **_ARIA),
    "simulator": Profile(0.0, 0.0, 0.0, 0.0, float("inf"), float("inf"), 0.0, 0.0),
}


def _fidelity(r: float, qubits: int) -> float:
    d = 2**qubits
    p = r * (d * d - 1) / (d * d)
    return round((d * (1 - p) + 1) / (d + 1), 6)


def characterization_id(backend: Backend) -> str:
    return str(uuid.uuid5(_NAMESPACE, backend.name))


def current(backend: Backend, date: str) -> dict[str, Any]:
    """The backend's characterization in the v0.4 shape (``median`` and ``mean`` both given)."""
    profile = PROFILES[backend.name]
    spam = _fidelity(profile.r1, 1)

    def stat(value: float) -> dict[str, float]:
        return {"median": value, "mean": value}

    return {
        "id": characterization_id(backend),
        "backend": backend.name,
        "date": date,
        "qubits": backend.qubits,
        "connectivity": [list(pair) for pair in combinations(range(backend.qubits), 2)],
        "fidelity": {"1q": stat(_fidelity(profile.r1, 1)), "2q": stat(_fidelity(profile.r2, 2)), "spam": stat(spam)},
        # Seconds, as fractions: the spec types these as integers, which cannot express a gate time.
        "timing": {k: v for k, v in (("1q", profile.gate_1q_s), ("2q", profile.gate_2q_s), ("t1", profile.t1_s),
                                     ("t2", profile.t2_s), ("readout", profile.readout_s),
                                     ("reset", profile.reset_s)) if v != float("inf")},
    }


def find(characterization: str) -> Backend | None:
    return next((b for b in BACKENDS.values() if characterization_id(b) == characterization), None)
