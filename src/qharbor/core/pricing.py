"""The operator's rate card: what a job costs on each backend (``QHARBOR_RATE_CARD``).

One card prices everything: ``GET /jobs/estimate``, each finished job's recorded ``cost``,
usage reports, session ``cost_limit`` and project budgets. Its units are the spec's
``RateCardEntry`` units:

- ``gates``: ``shots × (1q gates × cost_1q_gate + 2q gates × cost_2q_gate)`` (per gate-shot,
  gates counted as in ``stats.gate_counts``, all circuits of a job together);
- ``compute_second``: ``unit_cost × quantum compute time in seconds`` (the emulated machine's
  time on ``qpu.*``, see ``characterizations.execution_ms``; the simulator has none);

either raised to ``job_cost_minimum`` when one is set. A backend the card does not name is
free (gates at 0). Dry runs and jobs that do not complete cost nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from . import backends

GATES, COMPUTE_SECOND = "gates", "compute_second"
_FIELDS = {GATES: ("cost_1q_gate", "cost_2q_gate", "job_cost_minimum"),
           COMPUTE_SECOND: ("unit_cost", "job_cost_minimum")}


@dataclass(frozen=True)
class Rate:
    unit: str = GATES
    cost_1q_gate: float = 0.0
    cost_2q_gate: float = 0.0
    unit_cost: float = 0.0
    job_cost_minimum: float | None = None

    def cost(self, shots: int, gates_1q: int, gates_2q: int, compute_us: int) -> float:
        if self.unit == GATES:
            value = shots * (gates_1q * self.cost_1q_gate + gates_2q * self.cost_2q_gate)
        else:
            value = self.unit_cost * compute_us / 1e6
        return max(value, self.job_cost_minimum or 0.0)


@dataclass(frozen=True)
class RateCard:
    id: str = "qharbor-free"
    currency: str = "usd"
    rates: dict[str, Rate] = field(default_factory=dict)

    def rate(self, backend: str) -> Rate:
        return self.rates.get(backend, Rate())

    def cost(self, backend: str, shots: int, gates_1q: int, gates_2q: int, compute_us: int) -> float:
        """A job's price in :attr:`currency`."""
        return self.rate(backend).cost(shots, gates_1q, gates_2q, compute_us)

    def entry(self, backend: str) -> dict[str, Any]:
        """The spec's ``RateCardEntry`` for ``backend``."""
        rate = self.rate(backend)
        shown = {"sku": backend, "unit": rate.unit}
        for name in _FIELDS[rate.unit]:
            value = getattr(rate, name)
            if value is not None:
                shown[name] = value
        return shown

    def cost_model(self, backend: str) -> str:
        """The spec's ``ApiCostModel``: ``QCT`` (billed on quantum compute time) or
        ``2QGE_operations`` (billed on gate operations)."""
        return "QCT" if self.rate(backend).unit == COMPUTE_SECOND else "2QGE_operations"


FREE = RateCard()


def compute_us(backend: str, machine_ms: int) -> int:
    """Quantum compute time in microseconds: the emulated machine's time on ``qpu.*``; none
    on the simulator (it is not a QPU)."""
    return machine_ms * 1000 if backend.startswith("qpu.") else 0


def _number(raw: Any, where: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not raw >= 0 or raw == float("inf"):
        raise ValueError(f"{where} must be a number, 0 or more")
    return float(raw)


def parse(text: str) -> RateCard:
    """A rate card from its JSON text: ``{"id"?, "currency"?, "rates": {backend: {"unit":
    "gates", "cost_1q_gate", "cost_2q_gate", "job_cost_minimum"?} | {"unit": "compute_second",
    "unit_cost", "job_cost_minimum"?}}}``. Raises ValueError saying what is wrong."""
    try:
        raw = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"it is not JSON ({exc})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("rates"), dict):
        raise ValueError('it must be an object with "rates": {backend: rate}')  # noqa: TRY004 (a bad setting, one kind)
    extra = set(raw) - {"id", "currency", "rates"}
    if extra:
        raise ValueError(f"unknown key(s) {', '.join(sorted(extra))} (keys: id, currency, rates)")
    card_id, currency = raw.get("id", "qharbor"), raw.get("currency", "usd")
    for name, value in (("id", card_id), ("currency", currency)):
        if not isinstance(value, str) or not 1 <= len(value) <= 64:
            raise ValueError(f"{name} must be a string of 1 to 64 characters")
    rates: dict[str, Rate] = {}
    for backend, entry in raw["rates"].items():
        if backend not in backends.BACKENDS:
            raise ValueError(f"rates names {backend!r}, which is not a backend ({', '.join(backends.BACKENDS)})")
        unit = entry.get("unit") if isinstance(entry, dict) else None
        if unit not in _FIELDS:
            raise ValueError(f"rates.{backend}.unit must be gates or compute_second")
        unknown = set(entry) - {"unit", *_FIELDS[unit]}
        if unknown:
            raise ValueError(f"rates.{backend} has {', '.join(sorted(unknown))}, not a field of a {unit} rate "
                             f"({', '.join(_FIELDS[unit])})")
        values = {k: _number(entry.get(k, 0), f"rates.{backend}.{k}") for k in _FIELDS[unit] if k != "job_cost_minimum"}
        minimum = entry.get("job_cost_minimum")
        rates[backend] = Rate(unit, job_cost_minimum=None if minimum is None
                              else _number(minimum, f"rates.{backend}.job_cost_minimum"), **values)
    return RateCard(card_id, currency, rates)
