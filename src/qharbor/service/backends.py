"""The backends this service offers, and the names clients use for them."""

from __future__ import annotations

from dataclasses import dataclass

from .. import engine


@dataclass(frozen=True)
class Backend:
    name: str
    qubits: int
    description: str


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
    )
}

#: Names real clients send that are not canonical (clients.md §8.7).
ALIASES = {"ionq_simulator": "simulator", "qpu": "qpu.aria-1", "ionq_qpu": "qpu.aria-1"}

NOISE_MODELS = frozenset(
    {"ideal", "harmony", "harmony-1", "harmony-2", "aria-1", "aria-2", "forte-1", "forte-enterprise-1"}
)


def resolve(name: str) -> Backend | None:
    name = ALIASES.get(name, name)
    if name.startswith("ionq_"):
        name = name[len("ionq_") :]
    return BACKENDS.get(name)
