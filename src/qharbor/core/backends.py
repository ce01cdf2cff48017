"""The backends this service offers, and the names clients use for them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import engine
from .problems import Problems


@dataclass(frozen=True)
class Backend:
    name: str
    qubits: int
    description: str
    #: When IonQ retired the machine (its backend is still listed, with its characterization,
    #: as ``status: "retired"``, but takes no new jobs, sessions or estimates).
    retired: str | None = None

    @property
    def status(self) -> str:
        """The spec's backend status: ``available`` or ``retired``."""
        return "retired" if self.retired else "available"


#: ``simulator`` runs circuits exactly; the ``qpu.*`` names accept the same programs,
#: sized like the real machines, so client code written for hardware runs here unchanged.
BACKENDS: dict[str, Backend] = {
    b.name: b
    for b in (
        Backend("simulator", engine.MAX_QUBITS, "exact statevector simulator"),
        Backend("qpu.aria-1", 25, "emulated IonQ Aria 1"),
        Backend("qpu.aria-2", 25, "emulated IonQ Aria 2"),
        Backend("qpu.forte-1", 36, "emulated IonQ Forte 1"),
        Backend("qpu.forte-enterprise-1", 36, "emulated IonQ Forte Enterprise 1"),
        Backend("qpu.harmony", 11, "IonQ Harmony", retired="2024"),
    )
}

#: Names real clients send that are not canonical (clients.md §8.7).
ALIASES = {"ionq_simulator": "simulator", "qpu": "qpu.aria-1", "ionq_qpu": "qpu.aria-1"}

NOISE_MODELS = frozenset(
    {"ideal", "harmony", "harmony-1", "harmony-2", "aria-1", "aria-2", "forte-1", "forte-enterprise-1"}
)


def resolve(name: str) -> Backend | None:
    name = ALIASES.get(name, name)
    name = name.removeprefix("ionq_")
    return BACKENDS.get(name)


def for_new_work(name: Any, p: Problems) -> Backend | None:
    """The backend a new job, session or estimate names; an unknown or retired one is a
    problem named ``backend`` (the same rule everywhere work is started)."""
    found = resolve(name) if isinstance(name, str) else None
    open_ = ", ".join(b.name for b in BACKENDS.values() if not b.retired)
    if found is None:
        p.add("backend", f"unknown backend {name!r} (known: {open_})")
    elif found.retired:
        p.add("backend", f"{found.name} was retired in {found.retired} and takes no new jobs (available: {open_})")
        return None
    return found


def noise_model(backend: str, noise: dict[str, Any] | None) -> engine.noise.NoiseModel | None:
    """The model a job runs under: its ``noise.model`` on the simulator; a QPU's own on ``qpu.*``."""
    if backend == "simulator":
        name = (noise or {}).get("model", "ideal")
        return engine.noise.MODELS.get("harmony" if str(name).startswith("harmony") else name)
    return engine.noise.MODELS.get(backend.removeprefix("qpu."))
