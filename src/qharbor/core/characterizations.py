"""Characterizations of the emulated machines, shared by both API versions.

The figures describe qharbor's own emulation, so what a characterization says is
what the emulator does: fidelities follow from the depolarizing parameters of the
noise model each ``qpu.*`` backend runs (``engine.noise.MODELS``; a Pauli error with
probability p = r·(d² − 1)/d² after each gate gives average gate fidelity
F = 1 − r·(d − 1)/d), gate and coherence times are IonQ's published typical
figures (``ionq-noise-notes.md``). Readout and reset times are not published; the
values here are assumptions. The SPAM fidelity is the published one, and the
emulated QPUs flip each measured bit with exactly that error. Records are fixed (stable id and date): the emulated
machines do not drift. The simulator's record is ideal.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from itertools import combinations

from ..engine import Circuit
from ..engine.noise import MODELS
from . import backends
from .codec import gate_counts

#: When these figures were fixed (2025-01-01T00:00:00Z).
CALIBRATED_AT = 1_735_689_600.0

_NAMESPACE = uuid.UUID("5a0c3f2e-8d1b-4c4e-9a57-0e4b8c6d2f10")

#: Readout (SPAM) error per measured qubit: IonQ's published typical SPAM fidelity of 99.6 %
#: (Aria; used for Forte too until its own is published).
READOUT_ERROR = 0.004

#: Seconds. Gate times and coherence: IonQ's published typical Aria figures, used for
#: every family until others are published; readout and reset: assumptions.
_TIMING = {"t1": 10.0, "t2": 1.0, "1q": 135e-6, "2q": 600e-6, "readout": 300e-6, "reset": 20e-6}


@dataclass(frozen=True)
class Characterization:
    id: str
    backend: str
    date: float  # UNIX seconds
    qubits: int
    connectivity: list[list[int]]
    fidelity: dict[str, float]  # "1q", "2q", "spam" -> average fidelity
    timing: dict[str, float]
    readout_error: float  # probability that a measured bit reads flipped


def _fidelity(r: float, qubits: int) -> float:
    d = 2**qubits
    return round(1 - r * (d - 1) / d, 6)


def _build(b: backends.Backend) -> Characterization:
    model = MODELS.get(b.name.removeprefix("qpu."))
    r1, r2 = (model.r1, model.r2) if model else (0.0, 0.0)
    return Characterization(
        id=str(uuid.uuid5(_NAMESPACE, b.name)),
        backend=b.name,
        date=CALIBRATED_AT,
        qubits=b.qubits,
        connectivity=[[a, c] for a, c in combinations(range(b.qubits), 2)],
        fidelity={"1q": _fidelity(r1, 1), "2q": _fidelity(r2, 2), "spam": 1 - (READOUT_ERROR if model else 0.0)},
        timing=dict(_TIMING) if model else {"readout": 0.0, "reset": 0.0},
        readout_error=READOUT_ERROR if model else 0.0,
    )


_BY_BACKEND: dict[str, Characterization] = {b.name: _build(b) for b in backends.BACKENDS.values()}
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


# --- time on the machine ---------------------------------------------------------------
#: Seconds per gate per amplitude of the simulator, a conservative figure for this engine.
_SIM_S_PER_GATE_AMPLITUDE = 2e-9


def execution_ms(backend: str, qubits: int, shots: int, gates_1q: int, gates_2q: int) -> int:
    if backend == "simulator":
        return int(1000 * _SIM_S_PER_GATE_AMPLITUDE * (gates_1q + gates_2q + 1) * 2**min(qubits, 29)) + 1
    record = current(backend)
    assert record is not None
    t = record.timing
    per_shot = gates_1q * t["1q"] + gates_2q * t["2q"] + t["readout"] + t["reset"]
    return int(1000 * shots * per_shot) + 1


def circuit_ms(backend: str, circuit: Circuit, shots: int) -> int:
    """Predicted execution time of one circuit (gates counted as in ``stats.gate_counts``)."""
    counts = gate_counts(circuit)
    return execution_ms(backend, circuit.qubits, shots, counts["1q"], counts["2q"])
