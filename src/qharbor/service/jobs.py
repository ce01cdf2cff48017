"""Jobs as users see them: submit, read, list, cancel, delete, fetch results.

Functions here are blocking (they talk to the database); the API runs them in a
thread pool. They return plain records that each API version renders its own way.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection

from ..core import hamiltonians, qasm3, results
from ..core.backends import noise_model
from ..core.codec import (
    COMPILED_TYPES,
    decode_circuit,
    decode_energy,
    encode_circuit,
    encode_energy,
    gate_counts,
)
from ..core.problems import Problems, page_size
from ..store import jobs as job_store
from ..store import notify
from ..store.db import Database, reading
from . import audit, costs, quotas, sessions
from .capacity import Capacity
from .keys import Principal
from .programs import CircuitProgram, JobRequest, parse_clone, parse_job, qasm3_circuit, wire_circuit

FINISHED = frozenset(job_store.FINISHED)
STATUSES = ("submitted", "ready", "started", "canceled", "failed", "completed")
#: Filter aliases clients send (qiskit sessions ask for ``queued``).
STATUS_ALIASES = {"queued": ("submitted", "ready"), "running": ("started",)}
MAX_PAGE = 1000
DEFAULT_PAGE = 25


class JobNotFound(Exception):
    def __init__(self, job_id: str, detail: str | None = None) -> None:
        super().__init__(detail or f"no job with id {job_id!r} exists for this API key's project")
        self.job_id = job_id


class ResultsNotReady(Exception):
    def __init__(self, job_id: str, status: str) -> None:
        super().__init__(f"job {job_id} has no results: its status is '{status}', results exist once it is 'completed'")


@dataclass(frozen=True)
class JobRecord:
    """A stored job plus, for multi-circuit parents, its children in submission order."""

    row: Mapping[str, Any]
    child_ids: list[str] | None = None


@dataclass(frozen=True)
class JobPage:
    jobs: list[JobRecord | str]  # a str: the id of a job whose rendering the caller holds (see list_jobs)
    next: str | None


def _dumps(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def submit(db: Database, who: Principal, body: Any, capacity: Capacity | None = None,
           actor: audit.Actor | None = None, via: str | None = None) -> str:
    """Validate and enqueue a job; returns its id. Raises :class:`InvalidRequest`, also for
    a job beyond the workers' ``capacity``. With an ``actor``, its ``job.create`` audit entry
    (``via``: the route) commits with the job."""
    request = parse_job(body)
    if capacity is not None:
        capacity.check(request)
    with db.begin() as conn:
        return _insert(conn, who, request, actor, via)


def clone(db: Database, who: Principal, job_id: str, overrides: Any, *, move: bool = False,
          capacity: Capacity | None = None, actor: audit.Actor | None = None, via: str | None = None) -> str:
    """Run a job's program again as a new job, with ``overrides`` of its options.

    ``move`` also deletes the original, in the same transaction (e.g. to promote a
    dry run to a real run under the same program).
    """
    with db.begin() as conn:
        found = job_store.source(conn, who.project_id, job_id)
        if found is None:
            raise JobNotFound(job_id)
        row, programs = found
        circuits = []
        compiled = energy = None
        for item in programs:
            if row["type"] == hamiltonians.JOB_TYPE:
                ansatz, energy = decode_energy(item["program"])
                circuits.append(CircuitProgram(item["name"], ansatz, gate_counts(ansatz)))
                continue
            if row["type"] in COMPILED_TYPES:
                compiled = qasm3.decode(item["program"])
                circuits.append(qasm3_circuit(item["name"], compiled))
                continue
            circuit = decode_circuit(item["program"])
            circuits.append(CircuitProgram(item["name"], circuit, gate_counts(circuit)))
        options = {
            "backend": row["backend"], "shots": row["shots"], "name": row["name"],
            "settings": orjson.loads(row["settings"]),
            "noise": orjson.loads(row["noise"]) if row["noise"] else None,
            "metadata": orjson.loads(row["job_metadata"]) if row["job_metadata"] else None,
        }
        request = parse_clone(options, overrides, row["type"], circuits, compiled, seed=results.seed_of(row))
        request.energy = energy
        if capacity is not None:
            capacity.check(request)
        new_id = _insert(conn, who, request, actor, via)
        if move:
            job_store.remove(conn, who.project_id, [job_id])
    return new_id


def _insert(conn: Connection, who: Principal, request: JobRequest, actor: audit.Actor | None = None,
            via: str | None = None) -> str:
    """Store a job (and its children) for the workers, within the project's quotas and its
    session's limits; one that would exceed a cost limit is stored failed with
    ``QuotaExhaustedError`` instead (``service/costs.py``). With an ``actor``, audited."""
    cost = 0.0 if request.dry_run else costs.predicted(
        request.backend, request.shots, ((c.circuit.qubits, c.gate_counts) for c in request.circuits))[0]
    now = time.time()
    refused: str | None = None
    try:
        quotas.admit(conn, who, request.backend, cost)
        if request.session_id:
            sessions.admit_job(conn, who, request.session_id, request.backend, now, cost)
    except costs.QuotaExhausted as exc:
        refused = str(exc)
    job_id = str(uuid.uuid4())
    common = {
        "project_id": who.project_id,
        "submitter_id": who.user_id,
        "backend": request.backend,
        "session_id": request.session_id,
        "dry_run": request.dry_run,
        "shots": request.shots,
        "seed": request.seed,
        "debiasing": request.debiasing,
        "noise": _dumps(request.noise),
        "settings": _dumps(request.settings),
        "status": "submitted",
        "submitted_at": now,
        "attempts": 0,
        "organization_id": who.organization_id,
    }
    if refused is not None:
        common.update(status="failed", completed_at=now, failure_code=costs.QUOTA_EXHAUSTED, failure_message=refused)
    multi = request.type == "ionq.multi-circuit.v1"
    totals: dict[str, int] = {}
    for c in request.circuits:
        for k, v in c.gate_counts.items():
            totals[k] = totals.get(k, 0) + v
    rows = [
        {
            **common,
            "id": job_id,
            "parent_id": None,
            "position": 0,
            "type": request.type,
            "name": request.name,
            "job_metadata": _dumps(request.metadata),
            "qubits": request.qubits,
            "circuits": len(request.circuits),
            "gate_counts": _dumps(totals),
            "program": None if multi else _program(request),
            "registers": _dumps(request.registers),
            "cost": 0.0 if refused else cost,
        }
    ]
    if multi:
        rows += [
            {
                **common,
                "id": str(uuid.uuid4()),
                "parent_id": job_id,
                "position": i,
                "type": "ionq.circuit.v1",
                "name": c.name,
                "job_metadata": None,
                "qubits": c.circuit.qubits,
                "circuits": 1,
                "gate_counts": _dumps(c.gate_counts),
                "program": encode_circuit(c.circuit),
                "registers": _dumps(c.registers),
                "cost": None,  # the parent's cost covers its circuits
            }
            for i, c in enumerate(request.circuits)
        ]
    job_store.insert(conn, rows)
    if actor is not None:
        audit.record(conn, actor, "job.create", job_id, {"via": via} if via else None)
    notify.notify(conn, notify.QUEUED if refused is None else notify.FINISHED)
    return job_id


def _program(request: JobRequest) -> str:
    """The stored form of a single-target job's program (``core/codec.py``)."""
    if request.qasm3:
        return qasm3.encode(request.qasm3)
    if request.energy is not None:
        return encode_energy(request.circuits[0].circuit, request.energy)
    return encode_circuit(request.circuits[0].circuit)


def get(db: Database, who: Principal, job_id: str) -> JobRecord:
    """One job (a hot path: clients poll it; see ``Database.rows``)."""
    row = job_store.get(db, who.project_id, job_id)
    if row is None:
        raise JobNotFound(job_id)
    kids = job_store.children(db, job_id) if row["type"] == "ionq.multi-circuit.v1" else None
    return JobRecord(row, kids)


def program(db: Database, who: Principal, job_id: str) -> dict[str, Any]:
    """The job's stored program (qharbor's ``GET /v0.4/jobs/{id}/program``; IonQ's API returns no
    job's input, and the console draws it): circuits in the wire vocabulary, ``circuits`` with
    each child's id and name for a multi-circuit job, the compiled form as stored for
    OpenQASM 3 and QIR jobs (their source is not kept), the bound ansatz and the stored
    observable for a quantum function. :class:`JobNotFound` for another project's job."""
    with reading(db.engine) as conn:
        found = job_store.source(conn, who.project_id, job_id)
    if found is None:
        raise JobNotFound(job_id)
    row, stored = found
    out: dict[str, Any] = {"id": row["id"], "type": row["type"], "qubits": row["qubits"]}
    if row["type"] in COMPILED_TYPES:
        return {**out, "compiled": orjson.loads(stored[0]["program"])}
    if row["type"] == hamiltonians.JOB_TYPE:
        ansatz, observable = decode_energy(stored[0]["program"])
        return {**out, **wire_circuit(ansatz), "observable": observable.to_json()}
    if row["program"] is not None:
        return {**out, **wire_circuit(decode_circuit(row["program"]))}
    circuits = [{"id": item["id"], "name": item["name"], **wire_circuit(decode_circuit(item["program"]))}
                for item in stored]
    gatesets = {c["gateset"] for c in circuits}
    return {**out, "gateset": gatesets.pop() if len(gatesets) == 1 else "qis", "circuits": circuits}


def effective_noise(row: Mapping[str, Any]) -> dict[str, Any]:
    """The job's ``noise`` as it ran, at both API versions: the model, and the seed even when
    none was sent, so resubmitting the program with this object replays the job exactly.

    On ``qpu.*`` (where a submitted model is ignored) the model is the machine's own."""
    if row["noise"] is not None:
        name = orjson.loads(row["noise"])["model"]
    else:
        model = noise_model(row["backend"], None)
        name = model.name if model is not None else "ideal"
    return {"model": name, "seed": results.seed_of(row)}


def exists(db: Database, who: Principal, job_id: str) -> bool:
    return job_store.exists(db, who.project_id, job_id)


def _encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(b"seq:%d" % seq).rstrip(b"=").decode()


def _decode_cursor(cursor: str) -> int | None:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, value = text.partition(":")
        return int(value) if kind == "seq" else None
    except (ValueError, UnicodeDecodeError):
        return None


def list_jobs(
    db: Database,
    who: Principal,
    *,
    limit: Any = None,
    cursor: str | None = None,
    status: str | None = None,
    ids: list[str] | None = None,
    target: str | None = None,
    parent_job_id: str | None = None,
    session_id: str | None = None,
    submitter_id: str | None = None,
    held: Callable[[list[str]], Collection[str]] = lambda _: (),
    spelling: Mapping[str, str] | None = None,
) -> JobPage:
    """One page, newest first. ``next`` is set only when another page exists.

    A hot path like :func:`get` (prepared statements through ``Database.rows``): with the
    filters :func:`list_is_indexed` accepts it reads O(limit) rows and may run inline.
    ``held(job_ids)``: those of the page's finished jobs whose rendering the caller holds
    already (the page then has just their ids in their place, and their columns are not read:
    see ``job_store.page_query``). ``spelling``: the caller's names of statuses it calls
    otherwise (v0.3 says ``running`` for ``started``), taken and named in its errors instead."""
    p = Problems("query")
    size = page_size(limit, DEFAULT_PAGE, MAX_PAGE, p)
    before = None
    if cursor:
        before = _decode_cursor(cursor)
        if before is None:
            p.add("next", "is not a cursor this server issued")
    statuses: tuple[str, ...] = ()
    if status:
        named = {(spelling or {}).get(s, s): s for s in STATUSES}  # the caller's name -> status
        statuses = STATUS_ALIASES.get(status) or ((named[status],) if status in named else ())
        if not statuses:
            p.add("status", f"must be one of {', '.join(named)}")
    p.raise_if_any()
    keys = job_store.page(
        db,
        who.project_id,
        limit=size + 1,
        before_seq=before,
        ids=ids or (),
        statuses=statuses,
        backends=_targets(target),
        parent_id=parent_job_id,
        session_id=session_id,
        submitter_id=submitter_id,
    )
    more = len(keys) > size
    keys = keys[:size]
    after = _encode_cursor(keys[-1][0]) if more else None
    finished = [job_id for _, job_id, status in keys if status in FINISHED]
    kept = held(finished)
    if len(kept) == len(keys):  # every job on the page finished, and its rendering is held
        return JobPage(finished, after)  # type: ignore[arg-type]
    rows = job_store.by_ids(db, who.project_id, [job_id for _, job_id, _ in keys if job_id not in kept])
    records = {r["id"]: JobRecord(r) for r in rows}
    # In page order; a job deleted between the two reads is left out.
    page = [job_id if job_id in kept else records[job_id] for _, job_id, _ in keys
            if job_id in kept or job_id in records]
    return JobPage(page, after)


def _targets(target: str | None) -> list[str]:
    return [t for t in (target or "").split(",") if t]


def list_is_indexed(*, status: str | None = None, target: str | None = None, session_id: str | None = None,
                    parent_job_id: str | None = None, submitter_id: str | None = None, **_: Any) -> bool:
    """Whether :func:`list_jobs` with these filters reads O(limit) rows whatever the table holds
    (an index serves every filter; see ``job_store.page_query``), so that it may run inline on
    the event loop like a single read. The others filter row by row: ``target``,
    ``submitter_id``, and a status within a session or among a parent's children."""
    return not (_targets(target) or submitter_id or (status and (session_id or parent_job_id)))


def cancel(db: Database, who: Principal, ids: list[str]) -> list[str]:
    with db.begin() as conn:
        return job_store.cancel(conn, who.project_id, ids)


def delete(db: Database, who: Principal, ids: list[str]) -> list[str]:
    with db.engine.begin() as conn:
        return job_store.remove(conn, who.project_id, ids)


def result(db: Database, who: Principal, job_id: str, fmt: str = results.PROBABILITIES_V1,
           sharpen: bool = False) -> bytes:
    """A finished job's result in ``fmt``; multi-circuit jobs nest each child's, in submission order.

    ``sharpen`` (debiased runs on emulated QPUs): aggregate the variants by plurality
    voting instead of the stored average."""
    row = job_store.get(db, who.project_id, job_id)
    if row is None:
        raise JobNotFound(job_id)
    if row["status"] != "completed" or row["dry_run"]:
        raise ResultsNotReady(job_id, "completed (dry run)" if row["dry_run"] else row["status"])
    if row["type"] == hamiltonians.JOB_TYPE:
        raise JobNotFound(job_id, f"job {job_id} is a quantum-function job: its result is the job's own "
                                  "'results' ({value, variance}), not an artifact")
    multi = row["type"] == "ionq.multi-circuit.v1"
    if not results.readable(row["type"], fmt):
        offered = ", ".join(results.offered(row["type"]))
        raise JobNotFound(job_id, f"job {job_id} has no artifact {fmt!r} (it offers: {offered})")
    if not multi:
        document = job_store.result(db, job_id, results.PROBABILITIES)
        if document is None:  # deleted in between
            raise JobNotFound(job_id)
        if sharpen and row["backend"].startswith("qpu."):
            document = results.sharpened(document, job_store.result(db, job_id, results.DEBIASING))
        if fmt == results.PROBABILITIES_V1:
            return document.encode()
        layout = results.Layout.of_circuit(row["qubits"])
        if row["type"] in COMPILED_TYPES:  # results per classical register
            stored = job_store.result(db, job_id, results.LAYOUT)
            if stored is None:
                raise JobNotFound(job_id)
            layout = results.Layout.loads(stored)
        return orjson.dumps(_render(row, fmt, document, layout, results.is_sampled(row["output"]), 0))
    parts = job_store.child_results(db, job_id, results.PROBABILITIES)
    if any(doc is None for _, doc in parts):
        raise JobNotFound(job_id)
    if sharpen and row["backend"].startswith("qpu."):
        votes = dict(job_store.child_results(db, job_id, results.DEBIASING))
        parts = [(k, results.sharpened(doc, votes.get(k))) for k, doc in parts]  # type: ignore[arg-type]
    if fmt in (results.PROBABILITIES_V1, results.AGGREGATE_V1):
        # Assembled as text: the stored maps are already JSON, in the order the circuits came.
        return ("{" + ",".join(f'"{k}":{doc}' for k, doc in parts) + "}").encode()
    shapes = job_store.child_shapes(db, job_id)
    return orjson.dumps({k: _render(row, fmt, doc, results.Layout.of_circuit(shapes[i][0]),
                                    results.is_sampled(shapes[i][1]), i) for i, (k, doc) in enumerate(parts)})


def _render(row: Mapping[str, Any], fmt: str, document: str, layout: results.Layout, sampled: bool,
            position: int) -> Any:
    return results.render(fmt, orjson.loads(document), layout, shots=row["shots"], seed=results.seed_of(row),
                          sampled=sampled, position=position)
