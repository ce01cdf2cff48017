"""Predicted cost and duration of a job before it runs (``GET /jobs/estimate``).

A self-hosted qharbor charges nothing, so every price is 0 in ``usd``; the rate
card says so explicitly rather than leaving clients to guess. Execution time is
predicted the way the hardware would spend it for ``qpu.*`` backends (per shot:
gates, readout, reset; see ``characterizations``), and for the simulator from the
cost of a dense statevector pass (each gate touches all 2^n amplitudes).
"""

from __future__ import annotations

import time
from typing import Any

from ..core import backends, characterizations
from ..core.problems import Problems
from .keys import Principal


def _int(raw: str | None, name: str, default: int, low: int, high: int, p: Problems) -> int:
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:  # "²" is a digit to isdigit()
        p.add(name, f"must be an integer from {low} to {high}")
        return default
    return int(raw)


def estimate(who: Principal, query: dict[str, str]) -> dict[str, Any]:
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
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    context = {"backend": found.name, "type": job_type, "qubits": qubits, "shots": shots,
               "1q_gates": gates_1q, "2q_gates": gates_2q, "error_mitigation": mitigation,
               "organization": who.project_id, "project": who.project_id}
    return {
        "estimate_context": context,
        "estimated_at": now,
        "estimated_unit": "usd",
        "rate_card": {"id": "qharbor-self-hosted", "rates": [
            {"sku": found.name, "unit": "gates", "cost_1q_gate": 0.0, "cost_2q_gate": 0.0, "job_cost_minimum": 0.0}]},
        "estimated_total_cost": 0.0,
        "estimated_execution_time": run_ms,
        "current_predicted_queue_time": 0,
        # qiskit-ionq's older shape
        "input_values": {**context, "session": query.get("session", "false").lower() in ("true", "1")},
        "estimated_cost": 0.0,
        "cost_unit": "usd",
        "rate_information": {"note": "self-hosted qharbor: jobs are not charged"},
    }
