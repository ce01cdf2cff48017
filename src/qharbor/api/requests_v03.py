"""Translating v0.3 requests into the core's (v0.4-shaped) requests, and problems back.

The core validates one request shape (``service.programs.parse_job``); v0.3 differs only
in spelling (ionq-v0.3-notes.md §3, §6, §11; QIR as CUDA-Q sends it, which also sends a
top-level ``qubits`` that is a one-character string and is ignored, as is every key not below):

| v0.3 | core |
|---|---|
| ``target`` (default ``simulator``) | ``backend`` |
| ``input`` (or ``body`` + ``lang: "json"``, cirq-ionq ≤ 1.5), ``format: "ionq.circuit.v0"`` | ``input`` |
| ``input.circuit`` / ``input.circuits`` / ``input`` as a list of circuits | ``type`` single / multi |
| ``input`` with ``format: "qir"`` and ``data`` (CUDA-Q) | ``type: "ionq.qir.v1"`` |
| top-level ``error_mitigation.debias`` | ``settings.error_mitigation.debiasing`` |
| ``registers`` (job and per circuit) | stored as given, echoed by the v0.3 view |

Problems the core finds are reported under the v0.3 key the client sent (``target``,
not ``backend``).
"""

from __future__ import annotations

from typing import Any

from ..core import qir
from ..core.problems import InvalidRequest

FORMAT = "ionq.circuit.v0"
FORMATS = (FORMAT, qir.V03_FORMAT)
#: v0.3 job statuses (``running`` is the core's ``started``), and what the core filters by.
STATUSES = ("submitted", "ready", "running", "canceled", "completed", "failed")
_STATUS_FILTERS = {**{s: s for s in STATUSES}, "queued": "queued"}


def job_body(body: Any) -> tuple[Any, list[tuple[str, str]], list[tuple[str, str]]]:
    """A v0.3 create body as a core body, plus problems only v0.3 has, plus key renames."""
    if not isinstance(body, dict):
        return body, [], []  # the core answers "the request body must be a JSON object"
    problems: list[tuple[str, str]] = []
    where = "body" if "input" not in body and "body" in body else "input"
    renames = [("backend", "target"), ("input", where)]
    program = body.get(where)
    if isinstance(program, list):  # the user manual's spelling of a multi-circuit job
        program = {"circuits": program}
        renames.insert(0, ("input.circuits", where))
    multi = False
    job_type = None
    if isinstance(program, dict):
        if program.get("format", FORMAT) not in FORMATS:
            problems.append((f"{where}.format", f"must be one of {', '.join(FORMATS)}"))
        elif program.get("format") == qir.V03_FORMAT:
            job_type = qir.JOB_TYPE
        program = {k: v for k, v in program.items() if k != "format"}
        multi = "circuits" in program
        circuits = program.get("circuits")
        for i, item in enumerate(circuits if isinstance(circuits, list) else []):
            if isinstance(item, dict) and item.get("registers") is not None and not isinstance(item["registers"], dict):
                problems.append((rename(f"input.circuits[{i}].registers", renames), "must be an object"))
    registers = body.get("registers")
    if registers is not None and not isinstance(registers, dict):
        problems.append(("registers", "must be an object, e.g. {\"meas_mapped\": [0, 1]}"))

    settings = body.get("settings")
    mitigation = body.get("error_mitigation")
    if mitigation is not None:
        debias = mitigation.get("debias") if isinstance(mitigation, dict) else None
        unknown = [k for k in mitigation if k != "debias"] if isinstance(mitigation, dict) else []
        problems += [(f"error_mitigation.{k}", "is not a v0.3 error mitigation (known: debias)") for k in unknown]
        if not isinstance(mitigation, dict) or (debias is not None and not isinstance(debias, bool)):
            problems.append(("error_mitigation.debias", "must be {\"debias\": true} or {\"debias\": false}"))
        elif debias is not None and isinstance(settings or {}, dict):
            settings = dict(settings or {})
            own = settings.get("error_mitigation")
            settings["error_mitigation"] = {**(own if isinstance(own, dict) else {}), "debiasing": debias}

    target = body.get("target")
    core: dict[str, Any] = {
        "type": job_type or ("ionq.multi-circuit.v1" if multi else "ionq.circuit.v1"),
        "backend": "simulator" if target is None else target,
        "input": program,
        "registers": registers,
    }
    for key in ("shots", "name", "metadata", "noise"):
        if key in body:
            core[key] = body[key]
    if settings is not None:
        core["settings"] = settings
    return core, problems, renames


def rename(key: str, renames: list[tuple[str, str]]) -> str:
    for old, new in renames:
        if key == old or key.startswith((old + ".", old + "[")):
            return new + key[len(old):]
    return key


def invalid(own: list[tuple[str, str]], core: list[tuple[str, str]], renames: list[tuple[str, str]],
            source: str = "body") -> InvalidRequest:
    """One 400 naming every problem, all under v0.3 keys."""
    translated = []
    for key, message in core:
        if key == "backend":
            message = message.replace("backend", "target")
        translated.append((rename(key, renames), message))
    return InvalidRequest(own + translated, source)


def status_filter(status: str | None) -> str | None:
    """A v0.3 ``status`` query value as the core's filter; 400 naming v0.3's statuses."""
    if not status:
        return None
    if status not in _STATUS_FILTERS:
        raise InvalidRequest([("status", f"must be one of {', '.join(STATUSES)}")], source="query")
    return _STATUS_FILTERS[status]


def ids_query(values: list[str]) -> list[str]:
    """Repeatable, comma-separable id lists (``?id=a&id=b`` or ``?ids=a,b``)."""
    return [i for raw in values for i in raw.split(",") if i]
