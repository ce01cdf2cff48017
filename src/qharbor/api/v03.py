"""The IonQ v0.3 API for older clients: thin handlers over the same service as v0.4.

Requests are translated to the core's shapes (``requests_v03``), answers rendered from the
same stored rows (``views_v03``); auth, metadata, pagination and error rules are the core's.
Cancel and delete answer exactly as in v0.4, so those handlers are shared.
"""

from __future__ import annotations

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..core import backends as catalog
from ..core import characterizations as calibrations
from ..core import results as results_module
from ..core.problems import InvalidRequest, Problems, page_size
from ..service import jobs
from ..service.jobs import JobNotFound
from ..service.programs import parse_job
from . import http, v04
from . import requests_v03 as adapt
from . import views_v03 as views
from .admin import actor, audited
from .errors import ApiError
from .http import JSON, RawJSON, in_thread, json_body, principal, read, read_job, renderings, sharpen
from .idempotent import idempotent


async def list_backends(request: Request) -> Response:
    started = request.app.state.started_at
    return JSON([
        views.backend(b, started, (c.id if (c := calibrations.current(b.name)) else None))
        for b in catalog.BACKENDS.values()
    ])


async def create_job(request: Request) -> Response:
    who = await principal(request)
    core, own, renames = adapt.job_body(await json_body(request))
    found: list[tuple[str, str]] = []
    try:
        if own:  # collect the core's problems too, so one 400 names them all
            await run_in_threadpool(parse_job, core)
        else:
            job_id = await in_thread(request, jobs.submit, who, core, request.app.state.capacity,
                                     actor(request, who), request.url.path)
    except InvalidRequest as exc:
        found = exc.problems
    if own or found:
        raise adapt.invalid(own, found, renames)
    record = await read(request, jobs.get, who, job_id)
    return JSON({"id": job_id, "status": "ready", "request": views.epoch(record.row["submitted_at"])})


async def list_jobs(request: Request) -> Response:
    who = await principal(request)
    body = await json_body(request)  # cirq-ionq sends {"limit": N} as a GET body
    q = request.query_params
    ids = http.id_list(request, "id", "ids")
    if len(ids) == 1:  # CUDA-Q polls one job this way, with no pause: the same long poll as GET /jobs/{id}
        try:
            await read_job(request, who, ids[0])
        except JobNotFound:
            pass  # listed as no job
    return await v04.list_page(
        request, who, renderings(request).listed_v03, _rest, limit=http.list_limit(request, body),
        cursor=q.get("next"), status=q.get("status"), spelling=views.STATUS_NAMES, ids=ids,
    )


def _rest(cursor: str | None) -> dict[str, str]:
    return {"next": cursor} if cursor is not None else {}  # v0.3 clients stop paging when `next` is absent


async def get_job(request: Request) -> Response:
    who = await principal(request)
    job_id = request.path_params["id"]
    record = await read_job(request, who, job_id)  # the same long poll as v0.4
    q = request.query_params
    view = views.filtered(views.job(record), q.get("include"), q.get("exclude"))
    return RawJSON(orjson.dumps(view))


async def results(request: Request) -> Response:
    who = await principal(request)  # `sharpen`: plurality voting over a debiased QPU run's variants
    job_id = request.path_params["id"]
    if request.query_params.get("format") == results_module.QIR_LOG:  # CUDA-Q: counts it can truncate
        histogram = await read(request, jobs.result, who, job_id, results_module.HISTOGRAM_V1, sharpen(request))
        return JSON(results_module.truncation_safe(orjson.loads(histogram)))
    return RawJSON(await read(request, jobs.result, who, job_id, results_module.PROBABILITIES_V1, sharpen(request)))


async def delete_jobs(request: Request) -> Response:
    ids = http.id_list(request, "ids")  # also documented as a query
    if not ids:
        return await v04.delete_jobs(request)
    who = await principal(request)
    return JSON({"ids": await in_thread(request, jobs.delete, who, ids), "status": "deleted"})


def _characterization(name: str) -> calibrations.Characterization:
    if not calibrations.known(name):
        raise ApiError(404, f"no backend named {name!r}; GET /v0.3/backends lists them")
    found = calibrations.current(name)
    if found is None:
        raise ApiError(404, f"backend {name!r} has no characterization (only QPUs are characterized)")
    return found


def _page_params(request: Request) -> tuple[int, int]:
    p = Problems("query")
    q = request.query_params
    limit, page = page_size(q.get("limit"), 10, None, p), page_size(q.get("page"), 1, None, p, key="page")
    p.raise_if_any()
    return limit, page


async def characterization_history(request: Request) -> Response:
    await principal(request)
    name = request.path_params["backend"]
    _characterization(name)
    start, end = (http.query_number(request, k, "a Unix timestamp in seconds") for k in ("start", "end"))
    limit, page = _page_params(request)
    found = calibrations.history(name, start, end)
    shown = found[(page - 1) * limit: page * limit]
    pages = max(1, -(-len(found) // limit))
    return JSON({"characterizations": [views.characterization(c) for c in shown], "pages": pages})


async def characterization_current(request: Request) -> Response:
    await principal(request)
    return JSON(views.characterization(_characterization(request.path_params["backend"])))


async def characterization_by_id(request: Request) -> Response:
    await principal(request)
    found = calibrations.by_id(request.path_params["id"])
    if found is None:
        raise ApiError(404, f"no characterization with id {request.path_params['id']!r}")
    return JSON(views.characterization(found))


# cirq-ionq ≤ 1.5 still reads the pre-characterization calibration paths (its only QPU: `qpu`).
async def calibration_current(request: Request) -> Response:
    await principal(request)
    return JSON(views.calibration(_characterization("qpu")))


async def calibration_list(request: Request) -> Response:
    await principal(request)
    # cirq sends start/end in milliseconds here.
    start, end = (http.query_number(request, k, "a Unix timestamp in milliseconds") for k in ("start", "end"))
    found = calibrations.history("qpu", start and start / 1000, end and end / 1000)
    return JSON({"calibrations": [views.calibration(c) for c in found]})


PREFIX = "/v0.3"
# As in v0.4: polled routes first; literal paths before the {id} patterns that could capture them.
POLLED = [
    Route(PREFIX + path, endpoint, methods=[method])
    for method, path, endpoint in [
        ("GET", "/jobs/{id}", get_job),
        ("GET", "/jobs", list_jobs),
    ]
]
ROUTES = [
    Route(PREFIX + path, endpoint, methods=[method])
    for method, path, endpoint in [
        ("GET", "/jobs/{id}/results", results),
        ("POST", "/jobs", idempotent(create_job)),
        ("PUT", "/jobs/status/cancel", v04.cancel_jobs),
        ("DELETE", "/jobs", audited("job.delete", delete_jobs)),
        ("DELETE", "/jobs/{id}", v04.delete_job),
        ("PUT", "/jobs/{id}/status/cancel", v04.cancel_job),
        ("GET", "/backends", list_backends),
        ("GET", "/characterizations/backends/{backend}", characterization_history),
        ("GET", "/characterizations/backends/{backend}/current", characterization_current),
        ("GET", "/characterizations/{id}", characterization_by_id),
        ("GET", "/calibrations", calibration_list),
        ("GET", "/calibrations/current", calibration_current),
    ]
]
