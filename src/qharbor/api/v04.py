"""The IonQ v0.4 API: thin handlers that parse HTTP, call the service, render views."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..core import backends as catalog
from ..core import characterizations, results
from ..core.problems import Problems, page_size
from ..service import estimates, jobs, programs, sessions, usage
from ..service.keys import Principal
from . import http, views
from .admin import actor, audited
from .errors import ApiError
from .http import (
    JSON,
    Endpoint,
    RawJSON,
    in_thread,
    json_body,
    principal,
    read,
    read_job,
    renderings,
    sharpen,
)
from .idempotent import idempotent
from .memo import Memo


async def whoami(request: Request) -> Response:
    who = await principal(request)
    # ``role`` is qharbor's (admin or member), for the console to offer admin pages; the rest is IonQ's.
    return JSON({"key_id": who.key_id, "key_name": who.key_name, "project_id": who.project_id,
                 "user_id": who.user_id, "organization_id": who.organization_id, "role": who.role})


async def list_backends(request: Request) -> Response:
    started = request.app.state.started_at
    return JSON([views.backend(b, started) for b in catalog.BACKENDS.values()])


async def get_backend(request: Request) -> Response:
    return JSON(views.backend(_backend_or_404(request.path_params["backend"]), request.app.state.started_at))


async def create_job(request: Request) -> Response:
    who = await principal(request)
    body = await json_body(request)
    job_id = await in_thread(request, jobs.submit, who, body, request.app.state.capacity, actor(request, who),
                             request.url.path)
    return JSON({"id": job_id, "status": "submitted", "session_id": body.get("session_id")}, status_code=201)


async def _clone(request: Request, move: bool) -> Response:
    who = await principal(request)
    body = await json_body(request)
    new_id = await in_thread(request, jobs.clone, who, request.path_params["id"], body, move=move,
                             capacity=request.app.state.capacity, actor=actor(request, who), via=request.url.path)
    session_id = body.get("session_id") if isinstance(body, dict) else None
    return JSON({"id": new_id, "status": "submitted", "session_id": session_id}, status_code=201)


async def clone_job(request: Request) -> Response:
    return await _clone(request, move=False)


async def move_job(request: Request) -> Response:
    """Clone, then delete the original (in one transaction)."""
    return await _clone(request, move=True)


def _is_cirq(request: Request, body: Any) -> bool:
    # cirq-ionq stops paging only when `next` is absent; ionq-core needs it present
    # and null (clients.md §8.6). cirq identifies itself, and sends its limit as a body.
    return request.headers.get("user-agent", "").startswith("cirq/") or isinstance(body, dict)


async def list_page(request: Request, who: Principal, view: Memo,
                    rest: Callable[[str | None], dict[str, Any]], **query: Any) -> Response:
    """A page of jobs in ``view`` (finished ones from its memo), with ``rest(next cursor)``
    after the jobs.

    The query runs inline on SQLite like a single read when an index serves its filters
    (O(limit) whatever the table holds), else in the thread pool. Shared with v0.3."""
    found: dict[str, bytes] = {}
    run = read if jobs.list_is_indexed(**query) else in_thread
    page = await run(request, jobs.list_jobs, who, held=view.holder(found), **query)
    return RawJSON(view.page(page.jobs, found, rest(page.next)))


async def list_jobs(request: Request) -> Response:
    who = await principal(request)
    body = await json_body(request)  # cirq sends {"limit": N} as a GET body
    q = dict(request.query_params.items())  # the last of each; a plain dict answers faster

    def rest(cursor: str | None) -> dict[str, Any]:
        return {"next": cursor} if cursor is not None or not _is_cirq(request, body) else {}

    return await list_page(
        request, who, renderings(request).listed, rest, limit=http.list_limit(request, body),
        cursor=q.get("next"), status=q.get("status"), ids=http.id_list(request, "ids"), target=q.get("target"),
        parent_job_id=q.get("parent_job_id"),
        session_id=q.get("session_id"), submitter_id=q.get("submitter_id"),
    )


async def get_job(request: Request) -> Response:
    who = await principal(request)
    job_id = request.path_params["id"]
    memo = renderings(request).job
    body = memo.get(job_id)
    if body is None or not await read(request, jobs.exists, who, job_id):
        body = memo.rendered(await read_job(request, who, job_id))
    return RawJSON(body)


async def _ids(request: Request) -> list[str]:
    body = await json_body(request)
    ids = body.get("ids") if isinstance(body, dict) else None
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise ApiError(400, "the body must be {\"ids\": [job ids]} with at least one id", ["ids"])
    return ids


def _on_jobs(act: Callable[..., list[str]], status: str) -> tuple[Endpoint, Endpoint]:
    """The two routes of a job action (cancel, delete): one job by path, or ``{"ids": [...]}``."""

    async def one(request: Request) -> Response:
        who = await principal(request)
        job_id = request.path_params["id"]
        if not await in_thread(request, act, who, [job_id]):
            raise jobs.JobNotFound(job_id)
        return JSON({"id": job_id, "status": status})

    async def many(request: Request) -> Response:
        who = await principal(request)
        return JSON({"ids": await in_thread(request, act, who, await _ids(request)), "status": status})

    return one, many


cancel_job, cancel_jobs = (audited("job.cancel", e) for e in _on_jobs(jobs.cancel, "canceled"))
delete_job, delete_jobs = (audited("job.delete", e) for e in _on_jobs(jobs.delete, "deleted"))


def _limit(request: Request, default: int = 25, most: int = 1000) -> int:
    p = Problems("query")
    size = page_size(request.query_params.get("limit"), default, most, p)
    p.raise_if_any()
    return size


async def create_session(request: Request) -> Response:
    who = await principal(request)
    row = await in_thread(request, sessions.create, who, await json_body(request))
    return JSON(views.session(row, who.organization_id), status_code=201)


async def list_sessions(request: Request) -> Response:
    who = await principal(request)
    page = await in_thread(request, sessions.list_sessions, who, active=http.query_flag(request, "active"),
                       limit=_limit(request), cursor=request.query_params.get("next"))
    return JSON({"organization_id": who.organization_id,
                 "sessions": [views.session(r, who.organization_id) for r in page.sessions],
                 "next": page.next})


async def get_session(request: Request) -> Response:
    who = await principal(request)
    row = await in_thread(request, sessions.get, who, request.path_params["sid"])
    return JSON(views.session(row, who.organization_id))


async def end_session(request: Request) -> Response:
    who = await principal(request)
    row = await in_thread(request, sessions.end, who, request.path_params["sid"])
    return JSON(views.session(row, who.organization_id))


async def session_jobs(request: Request) -> Response:
    who = await principal(request)
    sid = request.path_params["sid"]
    await in_thread(request, sessions.get, who, sid)  # 404 for unknown sessions
    q = request.query_params
    return await list_page(request, who, renderings(request).listed, lambda cursor: {"next": cursor}, limit=q.get("limit"),
                           cursor=q.get("next"), status=q.get("status"), session_id=sid)


def _result_route(fmt: str):  # type: ignore[no-untyped-def]
    async def endpoint(request: Request) -> Response:
        who = await principal(request)
        return RawJSON(await read(request, jobs.result, who, request.path_params["id"], fmt, sharpen(request)))

    return endpoint


async def artifact(request: Request) -> Response:
    who = await principal(request)
    return RawJSON(await read(request, jobs.result, who, request.path_params["id"], request.path_params["artifact"],
                              sharpen(request)))


async def estimate(request: Request) -> Response:
    who = await principal(request)
    return JSON(await in_thread(request, estimates.estimate, who, dict(request.query_params)))


async def job_cost(request: Request) -> Response:
    who = await principal(request)
    record = await read(request, jobs.get, who, request.path_params["id"])
    return JSON(usage.job_cost(record.row))


async def job_program(request: Request) -> Response:
    """qharbor's extension: the job's stored program (the spec returns no job's input)."""
    who = await principal(request)
    return JSON(await in_thread(request, jobs.program, who, request.path_params["id"]))


async def organization_usage(request: Request) -> Response:
    who = await principal(request)
    return JSON(await in_thread(request, usage.report, who, request.path_params["organization_id"],
                                dict(request.query_params)))


def _backend_or_404(name: str) -> catalog.Backend:
    found = catalog.resolve(name)
    if found is None:
        raise ApiError(404, f"no backend named {name!r}; GET /v0.4/backends lists them")
    return found


async def list_characterizations(request: Request) -> Response:
    found = _backend_or_404(request.path_params["backend"])
    _limit(request, default=10, most=10)
    return JSON({"characterizations": [views.characterization(c) for c in characterizations.history(found.name)],
                 "pages": 1})


async def get_characterization(request: Request) -> Response:
    found = _backend_or_404(request.path_params["backend"])
    cid = request.path_params["cid"]
    record = characterizations.by_id(cid)
    if record is None or record.backend != found.name:
        raise ApiError(404, f"backend {found.name} has no characterization {cid!r}")
    return JSON(views.characterization(record))


def _calibration(request: Request) -> dict[str, Any]:
    """cirq-ionq's pre-v0.3 calibration: the default QPU's characterization, with its target."""
    record = characterizations.current("qpu")
    assert record is not None
    return {**views.characterization(record), "target": record.backend}


async def current_calibration(request: Request) -> Response:
    return JSON(_calibration(request))


async def list_calibrations(request: Request) -> Response:
    return JSON({"calibrations": [_calibration(request)]})


async def format_schema(request: Request) -> Response:
    await principal(request)
    name = request.path_params["format"]
    known = {**results.SCHEMAS, **programs.SCHEMAS}
    if name not in known:
        raise ApiError(404, f"no format {name!r}; known: {', '.join(known)}")
    return JSON(known[name])


PREFIX = "/v0.4"
# Order matters only for speed and for literal-vs-parameter clashes: the routes clients
# poll come first (each route tried costs a regex match; app.py tries every version's
# POLLED before the others' ROUTES), and a literal path such as /jobs/status/cancel must
# precede /jobs/{id} patterns that could capture it.
POLLED = [
    Route(PREFIX + path, endpoint, methods=[method])
    for method, path, endpoint in [
        ("GET", "/jobs/estimate", estimate),  # before /jobs/{id}, which would capture it
        ("GET", "/jobs/{id}", get_job),
        ("GET", "/jobs", list_jobs),
    ]
]
ROUTES = [
    Route(PREFIX + path, endpoint, methods=[method])
    for method, path, endpoint in [
        ("GET", "/jobs/{id}/results/probabilities", _result_route(results.PROBABILITIES_V1)),
        # Legacy result paths clients use that the spec lacks; cirq-ionq reads batches at .../aggregated.
        ("GET", "/jobs/{id}/results/probabilities/aggregated", _result_route(results.AGGREGATE_V1)),
        ("GET", "/jobs/{id}/results/histogram", _result_route(results.HISTOGRAM_V1)),
        ("GET", "/jobs/{id}/results/shots", _result_route(results.SHOTS_V1)),
        ("GET", "/jobs/{id}/artifacts/{artifact}", artifact),
        ("GET", "/schemas/formats/{format}", format_schema),
        ("POST", "/jobs", idempotent(create_job)),
        ("PUT", "/jobs/status/cancel", cancel_jobs),
        ("DELETE", "/jobs", delete_jobs),
        ("DELETE", "/jobs/{id}", delete_job),
        ("PUT", "/jobs/{id}/status/cancel", cancel_job),
        ("POST", "/jobs/{id}/clone", idempotent(clone_job)),
        ("POST", "/jobs/{id}/move", idempotent(move_job)),
        ("POST", "/sessions", idempotent(create_session)),
        ("GET", "/sessions", list_sessions),
        ("GET", "/sessions/{sid}", get_session),
        ("POST", "/sessions/{sid}/end", end_session),
        ("GET", "/sessions/{sid}/jobs", session_jobs),
        ("GET", "/whoami", whoami),
        ("GET", "/backends", list_backends),
        ("GET", "/backends/{backend}", get_backend),
        ("GET", "/backends/{backend}/characterizations", list_characterizations),
        ("GET", "/backends/{backend}/characterizations/{cid}", get_characterization),
        ("GET", "/calibrations/current", current_calibration),
        ("GET", "/calibrations", list_calibrations),
        ("GET", "/jobs/{id}/cost", job_cost),
        ("GET", "/jobs/{id}/program", job_program),
        ("GET", "/organizations/{organization_id}/usage", organization_usage),
    ]
]
