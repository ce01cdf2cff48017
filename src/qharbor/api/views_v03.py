"""v0.3 renderings of service records: a projection of the same stored rows v0.4 renders.

ionq-v0.3-notes.md §4, §8, §12: ``backend``→``target``, ``started``→``running``, times as
integer epoch seconds (``request``/``start``/``response``), ``execution_time`` (ms), counts
at top level, ``children``, ``results_url``, ``failure.error``, ``error_mitigation.debias``
(whether the job runs debiased, decided at submission), ``noise`` with the seed it ran with (as
v0.4), and any submitted ``registers`` echoed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from ..core.backends import Backend
from ..core.characterizations import Characterization
from ..service.jobs import JobRecord, effective_noise

PREFIX = "/v0.3"
#: The core's statuses v0.3 names otherwise (its ``running`` is the core's ``started``).
STATUS_NAMES = {"started": "running"}


def _raw(text: str | None) -> Any:
    """Stored JSON passed through untouched (metadata must round-trip byte-exact)."""
    return None if text is None else orjson.Fragment(text)


def epoch(t: float | None) -> int | None:
    return None if t is None else int(t)


def status(core_status: str) -> str:
    return STATUS_NAMES.get(core_status, core_status)


def job(record: JobRecord, *, detail: bool = True) -> dict[str, Any]:
    row = record.row
    view: dict[str, Any] = {
        "id": row["id"],
        "name": row["name"],
        "status": status(row["status"]),
        "target": row["backend"],
        "shots": row["shots"],
        "qubits": row["qubits"],
        "circuits": row["circuits"],
        "gate_counts": _raw(row["gate_counts"]),
        # The effective state, as IonQ reports it: defaults and limits applied (not just what was asked).
        "error_mitigation": {"debias": bool(row["debiasing"])},
        "request": epoch(row["submitted_at"]),
        "execution_time": row["execution_duration_ms"],
    }
    # Absent rather than null where old clients test for presence (cirq: metadata, failure).
    if row["job_metadata"] is not None:
        view["metadata"] = _raw(row["job_metadata"])
    view["noise"] = effective_noise(row)  # with the seed it ran with, so it can be replayed
    if row["started_at"] is not None:
        view["start"] = epoch(row["started_at"])
    if row["completed_at"] is not None:
        view["response"] = epoch(row["completed_at"])
    if row["status"] == "failed":
        message = row["failure_message"] or row["failure_code"]
        view["failure"] = {"error": message, "code": row["failure_code"]}
    if row["status"] == "completed" and not row["dry_run"]:
        view["results_url"] = f"{PREFIX}/jobs/{row['id']}/results"
    if detail and record.child_ids is not None:
        view["children"] = record.child_ids
    if row["registers"] is not None:
        view["registers"] = _raw(row["registers"])
    return view


def filtered(view: dict[str, Any], include: str | None, exclude: str | None) -> dict[str, Any]:
    """``?include=a,b`` keeps only those fields (and ``id``); ``?exclude=a,b`` drops them."""
    if include:
        keep = {f.strip() for f in include.split(",")} | {"id"}
        view = {k: v for k, v in view.items() if k in keep}
    if exclude:
        drop = {f.strip() for f in exclude.split(",")} - {"id"}
        view = {k: v for k, v in view.items() if k not in drop}
    return view


def backend(b: Backend, started_at: float, characterization_id: str | None) -> dict[str, Any]:
    view: dict[str, Any] = {
        "backend": b.name,
        "status": b.status,
        "qubits": b.qubits,
        "average_queue_time": 0,
        "last_updated": epoch(started_at),
        "degraded": False,
    }
    if characterization_id is not None:
        view["characterization_url"] = f"/characterizations/{characterization_id}"
    return view


def characterization(c: Characterization) -> dict[str, Any]:
    return {
        "id": c.id,
        "date": epoch(c.date),
        "backend": c.backend,
        "target": c.backend,  # the older pages' name for it
        "qubits": c.qubits,
        "connectivity": c.connectivity,
        "fidelity": {k: {"mean": v} for k, v in c.fidelity.items()},
        "timing": c.timing,
    }


def calibration(c: Characterization) -> dict[str, Any]:
    """The pre-characterization ``/calibrations`` shape cirq-ionq ≤ 1.5 reads: an ISO
    ``date`` with milliseconds (it splits on the dot) and ``target``."""
    view = characterization(c)
    view["date"] = datetime.fromtimestamp(c.date, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return view
