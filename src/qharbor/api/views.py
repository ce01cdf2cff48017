"""v0.4 renderings of service records (the spec's schemas, plus keys clients rely on)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from ..core.backends import Backend
from ..core.characterizations import Characterization, current, execution_ms
from ..core.hamiltonians import JOB_TYPE as QUANTUM_FUNCTION
from ..core.results import offered
from ..service import costs, sessions
from ..service.jobs import JobRecord, effective_noise
from ..service.programs import NATIVE_GATES, QIS_GATES

PREFIX = "/v0.4"


def iso(t: float | None) -> str | None:
    if t is None:
        return None
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _raw(text: str | None) -> Any:
    """Stored JSON passed through untouched (metadata must round-trip byte-exact)."""
    return None if text is None else orjson.Fragment(text)


def _failure(row: Any) -> dict[str, str] | None:
    if row["status"] == "canceled":
        # cirq reads failure.error of any non-completed job; null would crash it.
        message = "the job was canceled"
        return {"code": "SystemCancel", "message": message, "error": message}
    if row["failure_code"] is None:
        return None
    message = row["failure_message"] or row["failure_code"]
    return {"code": row["failure_code"], "message": message, "error": message}


def results(row: Any) -> dict[str, Any] | None:
    """Artifact descriptors, each also carrying the root-relative ``url`` clients follow; a
    quantum function's own ``{value, variance}`` (``QuantumFunctionJobResults``)."""
    if row["dry_run"] and row["status"] == "completed":
        return None
    if row["type"] == QUANTUM_FUNCTION:
        if row["status"] != "completed" or not row["output"]:
            return None
        output = orjson.loads(row["output"])
        return {"value": output["value"], "variance": output["variance"]}
    if row["status"] != "completed":
        return {}
    job_id = row["id"]
    found: dict[str, Any] = {}
    for fmt, legacy in offered(row["type"]).items():
        descriptor = {"id": fmt, "format": fmt, "media_type": "application/json",
                      "url": f"{PREFIX}/jobs/{job_id}/artifacts/{fmt}"}
        found[fmt] = descriptor
        if legacy:
            found[legacy] = {**descriptor, "url": f"{PREFIX}/jobs/{job_id}/results/{legacy}"}
    return found


def predicted_ms(row: Any) -> int | None:
    """The time the job's backend would take (see ``core/characterizations.py``)."""
    if row["dry_run"]:
        return None
    counts = orjson.loads(row["gate_counts"])
    return execution_ms(row["backend"], row["qubits"], row["shots"], counts.get("1q", 0),
                                  counts.get("2q", 0))


def usage_stats(row: Any) -> dict[str, int]:
    """The spec example's quantum compute times: recorded once the job completed."""
    if row["quantum_time_us"] is None or row["status"] != "completed":
        return {}
    return {"billed_quantum_compute_time_us": row["quantum_time_us"]}


def job(record: JobRecord, *, detail: bool = True) -> dict[str, Any]:
    row = record.row
    view: dict[str, Any] = {
        "id": row["id"],
        "status": row["status"],
        "type": row["type"],
        "backend": row["backend"],
        "dry_run": bool(row["dry_run"]),
        "submitter_id": row["submitter_id"],
        "project_id": row["project_id"],
        "parent_job_id": row["parent_id"],
        "session_id": row["session_id"],
        "metadata": _raw(row["job_metadata"]),
        "name": row["name"],
        "submitted_at": iso(row["submitted_at"]),
        "started_at": iso(row["started_at"]),
        "completed_at": iso(row["completed_at"]),
        "predicted_wait_time_ms": None,
        "predicted_execution_duration_ms": predicted_ms(row),
        "execution_duration_ms": row["execution_duration_ms"],
        "shots": row["shots"],
        "failure": _failure(row),
        "output": _raw(row["output"]) or {},
        "settings": _raw(row["settings"]),
        "stats": {
            "qubits": row["qubits"],
            "circuits": row["circuits"],
            "gate_counts": _raw(row["gate_counts"]),
            **usage_stats(row),
        },
        "cost_model": costs.card().cost_model(row["backend"]),
        "results": results(row),
    }
    view["noise"] = effective_noise(row)  # with the seed it ran with, so it can be replayed
    if detail:
        view["child_job_ids"] = record.child_ids
    return view


def session(row: Any, organization_id: str) -> dict[str, Any]:
    """The v0.4 ``Session``, plus ``state``/``usage_time`` that qiskit-ionq reads."""
    status = sessions.status(row)
    settings = orjson.loads(row["settings"])
    if (ends := sessions.ends_at(row)) is not None:
        settings["expires_at"] = iso(ends)
    return {
        "id": row["id"],
        "created_at": iso(row["created_at"]),
        "organization_id": organization_id,
        "backend": row["backend"],
        "project_id": row["project_id"],
        "creator_id": row["creator_id"],
        "ended_at": iso(row["ended_at"] or (ends if status == "ended" else None)),
        "ender_id": row["ender_id"],
        "settings": settings,
        "active": status != "ended",
        "status": status,
        "started_at": iso(row["started_at"]),
        "state": status,
        "usage_time": round(sessions.usage_seconds(row), 3),
    }


def characterization(c: Characterization) -> dict[str, Any]:
    """v0.4 shape: ISO date; each fidelity as ``median`` (ionq-core) and ``mean`` (ionq SDK)."""
    return {
        "id": c.id,
        "backend": c.backend,
        "date": iso(c.date),
        "qubits": c.qubits,
        "connectivity": c.connectivity,
        "fidelity": {k: {"median": v, "mean": v} for k, v in c.fidelity.items()},
        # Seconds, as fractions: the spec types these as integers, which cannot express a gate time.
        "timing": c.timing,
    }


def backend(b: Backend, started_at: float) -> dict[str, Any]:
    return {
        "backend": b.name,
        "status": b.status,
        "qubits": b.qubits,
        "average_queue_time": 0,
        "last_updated": iso(started_at),
        "degraded": False,
        "supported_gates": sorted(QIS_GATES),
        "supported_native_gates": sorted(NATIVE_GATES - {"nop"}),
        "supported_error_mitigations": ["debiasing"] if b.name.startswith("qpu.") and not b.retired else [],
        # The spec's link to the current characterization; qBraid reads it into its device profile.
        **({"characterization_id": c.id} if (c := current(b.name)) else {}),
    }
