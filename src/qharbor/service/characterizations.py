"""Calibration figures of the emulated QPUs, as IonQ publishes them in characterizations.

qharbor's QPU backends are emulations, so their characterization is a fixed record per
backend (stable id, fixed date) built from IonQ's published typical figures
(``ionq-noise-notes.md``: all-to-all connectivity; Aria 1q 99.95 %, 2q 99.6 %, SPAM 99.6 %,
1q gate ≈ 135 µs, 2q gate ≈ 600 µs, T1 10–100 s, T2 ≈ 1 s; Forte figures derived from its
noise-model error rates). The simulator has none. Each API version renders these its own way.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from itertools import combinations

from . import backends

#: When these figures were fixed (2025-01-01T00:00:00Z); characterizations never change.
CALIBRATED_AT = 1_735_689_600.0

_NAMESPACE = uuid.UUID("5a0c3f2e-8d1b-4c4e-9a57-0e4b8c6d2f10")

# (1q, 2q, spam) fidelities and timings in seconds (t1, t2, 1q, 2q, readout, reset).
_FAMILIES: dict[str, tuple[tuple[float, float, float], dict[str, float]]] = {
    "aria": ((0.9995, 0.996, 0.996),
             {"t1": 10.0, "t2": 1.0, "1q": 135e-6, "2q": 600e-6, "readout": 300e-6, "reset": 20e-6}),
    "forte": ((0.99973, 0.99505, 0.996),
              {"t1": 10.0, "t2": 1.0, "1q": 130e-6, "2q": 970e-6, "readout": 150e-6, "reset": 50e-6}),
}


@dataclass(frozen=True)
class Characterization:
    id: str
    backend: str
    date: float  # UNIX seconds
    qubits: int
    connectivity: list[list[int]]
    fidelity: dict[str, float]  # "1q", "2q", "spam" -> mean fidelity
    timing: dict[str, float]


def _build(b: backends.Backend) -> Characterization | None:
    family = next((f for f in _FAMILIES if b.name.startswith(f"qpu.{f}")), None)
    if family is None:
        return None
    (f1, f2, spam), timing = _FAMILIES[family]
    return Characterization(
        id=str(uuid.uuid5(_NAMESPACE, b.name)),
        backend=b.name,
        date=CALIBRATED_AT,
        qubits=b.qubits,
        connectivity=[[a, c] for a, c in combinations(range(b.qubits), 2)],
        fidelity={"1q": f1, "2q": f2, "spam": spam},
        timing=dict(timing),
    )


_BY_BACKEND: dict[str, Characterization] = {
    c.backend: c for c in (_build(b) for b in backends.BACKENDS.values()) if c is not None
}
_BY_ID: dict[str, Characterization] = {c.id: c for c in _BY_BACKEND.values()}


def current(backend_name: str) -> Characterization | None:
    """The latest characterization of a backend (aliases such as ``qpu`` accepted)."""
    found = backends.resolve(backend_name)
    return _BY_BACKEND.get(found.name) if found else None


def by_id(characterization_id: str) -> Characterization | None:
    return _BY_ID.get(characterization_id)


def history(backend_name: str, start: float | None = None, end: float | None = None) -> list[Characterization]:
    """Characterizations of a backend dated within ``[start, end]``, newest first."""
    latest = current(backend_name)
    if latest is None:
        return []
    return [c for c in (latest,) if (start is None or c.date >= start) and (end is None or c.date <= end)]


def known(backend_name: str) -> bool:
    return backends.resolve(backend_name) is not None

