"""Predicted cost, duration and queue wait of a job before it runs (``GET /jobs/estimate``).

Prices come from the operator's rate card (``core/pricing.py``; every backend free by
default), the same one that prices finished jobs. The queue wait is predicted from the live
queue: the jobs ahead of a new one, beyond the idle workers, times the mean run time of
the newest completed jobs, shared among the workers. Execution time is
predicted the way the hardware would spend it for ``qpu.*`` backends (per shot:
gates, readout, reset; see ``characterizations``), and for the simulator from the
cost of a dense statevector pass (each gate touches all 2^n amplitudes).
"""

from __future__ import annotations

import math
import time
from typing import Any

from ..core import backends, characterizations, pricing
from ..core.problems import Problems
from ..store import costs as cost_store
from ..store.db import Database, reading
from . import costs
from .keys import Principal

#: The run time assumed per job while no job has completed yet (seconds).
_UNMEASURED_RUN_S = 1.0


def _int(raw: str | None, name: str, default: int, low: int, high: int, p: Problems) -> int:
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:  # "²" is a digit to isdigit()
        p.add(name, f"must be an integer from {low} to {high}")
        return default
    return int(raw)


def queue_wait_ms(db: Database) -> int:
    """How long a job submitted now waits before a worker takes it, from the live queue."""
    with reading(db.engine) as conn:
        waiting, running, workers, mean_s = cost_store.queue_figures(conn)
    ahead = waiting - max(workers - running, 0)  # jobs that must start before this one beyond idle workers
    if ahead < 0:
        return 0
    run_s = _UNMEASURED_RUN_S if mean_s is None else mean_s
    return math.ceil(1000 * run_s * (ahead + 1) / max(workers, 1))


def estimate(db: Database, who: Principal, query: dict[str, str]) -> dict[str, Any]:
    """Both response shapes clients read: ionq-core's (spec overlay) and qiskit-ionq's older one."""
    p = Problems("query")
    found = backends.for_new_work(query.get("backend", ""), p)
    qubits = _int(query.get("qubits"), "qubits", 25, 1, 64, p)
    shots = _int(query.get("shots"), "shots", 1000, 1, 1_000_000, p)
    gates_1q = _int(query.get("1q_gates"), "1q_gates", 0, 0, 10_000_000, p)
    gates_2q = _int(query.get("2q_gates"), "2q_gates", 0, 0, 10_000_000, p)
    mitigation = query.get("error_mitigation", "false").lower() in ("true", "1")
    job_type = query.get("type", "ionq.circuit.v1")
    p.raise_if_any()
    assert found is not None
    run_ms = characterizations.execution_ms(found.name, qubits, shots, gates_1q, gates_2q)
    card = costs.card()
    compute_us = pricing.compute_us(found.name, run_ms)
    cost = card.cost(found.name, shots, gates_1q, gates_2q, compute_us)
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    context = {"backend": found.name, "type": job_type, "qubits": qubits, "shots": shots,
               "1q_gates": gates_1q, "2q_gates": gates_2q, "error_mitigation": mitigation,
               "organization": who.organization_id, "project": who.project_id}
    entry = card.entry(found.name)
    timed = {"estimated_quantum_compute_time_us": compute_us} if entry["unit"] == pricing.COMPUTE_SECOND else {}
    return {
        "estimate_context": context,
        "estimated_at": now,
        "estimated_unit": card.currency,
        "rate_card": {"id": card.id, "rates": [entry]},
        "estimated_total_cost": cost,
        "estimated_execution_time": run_ms,
        **timed,
        "current_predicted_queue_time": queue_wait_ms(db),
        # qiskit-ionq's older shape
        "input_values": {**context, "session": query.get("session", "false").lower() in ("true", "1")},
        "estimated_cost": cost,
        "cost_unit": card.currency,
        "rate_information": {"rate_card_id": card.id, **entry},
    }
