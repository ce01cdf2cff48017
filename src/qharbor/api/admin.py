"""The admin API, outside IonQ's paths (``/admin/v1``): keys, projects, the audit log. Only
admin keys may use it (403 for members); every change is audited (``service/audit.py``).

Also :func:`audited`, which records the job changes made through IonQ's routes."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..core.problems import Problems, page_size
from ..service import audit, keys, projects
from ..service.audit import Actor
from ..service.faults import parse as parse_faults
from ..service.keys import Principal
from .errors import ApiError
from .http import JSON, Endpoint, db, json_body, principal

PREFIX = "/admin/v1"


def actor(request: Request, who: Principal) -> Actor:
    client = request.client.host if request.client else None
    return Actor(who.key_id, who.project_id, client)


async def _admin(request: Request) -> Principal:
    who = await principal(request)
    if not who.admin:
        raise ApiError(403, "this is the admin API: it needs a key with the admin role "
                            "(qharbor keys create --role admin)")
    return who


def _key_view(row: Any) -> dict[str, Any]:
    return {k: row[k] for k in ("id", "name", "project_id", "user_id", "role", "created_at", "expires_at",
                                "revoked_at", "faults")}


async def list_keys(request: Request) -> Response:
    await _admin(request)
    rows = await run_in_threadpool(keys.list_keys, db(request).engine)
    return JSON({"keys": [_key_view(r) for r in rows]})


async def create_key(request: Request) -> Response:
    who = await _admin(request)
    body = await json_body(request)
    p = Problems()
    if not isinstance(body, dict):
        body = {}
        p.add("name", "the body must be a JSON object with at least a name")
    name, project, role, days = body.get("name"), body.get("project_id"), body.get("role", "member"), \
        body.get("expires_days")
    if not isinstance(name, str) or not 1 <= len(name) <= 200:
        p.add("name", "must be a string of 1 to 200 characters")
    if project is not None and (not isinstance(project, str) or not 1 <= len(project) <= 36):
        p.add("project_id", "must be a string of 1 to 36 characters (default: a new project)")
    if role not in keys.ROLES:
        p.add("role", f"must be one of {', '.join(keys.ROLES)}")
    if days is not None and (not isinstance(days, int | float) or isinstance(days, bool) or days <= 0):
        p.add("expires_days", "must be a number of days, more than 0 (default: never)")
    faults = body.get("faults")
    if faults is not None:
        try:
            parse_faults(faults) if isinstance(faults, str) else parse_faults("?")
        except ValueError as exc:
            p.add("faults", f"must be a fault spec like \"429=0.1,503=0.05,latency=200ms\": {exc}")
    for extra in set(body) - {"name", "project_id", "role", "expires_days", "faults"}:
        p.add(extra, "is not a key setting (settings: name, project_id, role, expires_days, faults)")
    p.raise_if_any()
    key_id, secret = await run_in_threadpool(keys.create, db(request).engine, str(name), project, role, days,
                                             actor(request, who), faults)
    row = await run_in_threadpool(keys.get, db(request).engine, key_id)
    return JSON({**_key_view(row), "secret": secret}, status_code=201)


async def revoke_key(request: Request) -> Response:
    who = await _admin(request)
    key_id = request.path_params["id"]
    if not await run_in_threadpool(keys.revoke, db(request).engine, key_id, actor(request, who)):
        raise ApiError(404, f"no active key with id {key_id!r}")
    return JSON({"id": key_id, "revoked": True})


async def get_project(request: Request) -> Response:
    await _admin(request)
    try:
        return JSON(await run_in_threadpool(projects.get, db(request).engine, request.path_params["id"]))
    except projects.ProjectNotFound as exc:
        raise ApiError(404, str(exc)) from None


async def put_project(request: Request) -> Response:
    who = await _admin(request)
    body = await json_body(request)
    try:
        return JSON(await run_in_threadpool(projects.put, db(request).engine, request.path_params["id"], body,
                                            actor(request, who)))
    except projects.ProjectNotFound as exc:
        raise ApiError(404, str(exc)) from None


def _epoch(q: Any, name: str, p: Problems) -> float | None:
    raw = q.get(name)
    if raw in (None, ""):
        return None
    try:
        return float(raw)
    except ValueError:
        p.add(name, "must be a Unix time in seconds")
        return None


async def read_audit(request: Request) -> Response:
    await _admin(request)
    q = request.query_params
    p = Problems("query")
    limit = page_size(q.get("limit"), 100, 1000, p)
    since, until = _epoch(q, "since", p), _epoch(q, "until", p)
    action = q.get("action")
    if action is not None and action not in audit.ACTIONS:
        p.add("action", f"must be one of {', '.join(audit.ACTIONS)}")
    cursor = q.get("next")
    if cursor is not None and not cursor.isdigit():
        p.add("next", "must be the next value of a previous page")
    p.raise_if_any()
    rows = await run_in_threadpool(audit.read, db(request).engine, limit, int(cursor) if cursor else None,
                                   action=action, key_id=q.get("key_id"), project_id=q.get("project_id"),
                                   target=q.get("target"), since=since, until=until)
    more = str(rows[-1]["seq"]) if len(rows) == limit else None
    return JSON({"entries": rows, "next": more})


def audited(action: str, endpoint: Endpoint) -> Endpoint:
    """Record ``action`` (a cancel or delete) on the job(s) a successful answer of ``endpoint``
    names (its ``id``, or ``ids``), once per request however routes delegate to each other;
    replays are not actions. (A job's creation is recorded in its own transaction:
    ``service.jobs.submit``.)"""

    async def wrapped(request: Request) -> Response:
        response = await endpoint(request)
        if response.status_code >= 300 or getattr(request.state, "audited", False):
            return response
        request.state.audited = True
        who = await principal(request)
        body = orjson.loads(bytes(response.body))
        ids = body["ids"] if "ids" in body else [body["id"]]

        def write() -> None:
            with db(request).begin() as conn:
                for job_id in ids:
                    audit.record(conn, actor(request, who), action, job_id)

        await run_in_threadpool(write)
        return response

    wrapped.__name__ = wrapped.__qualname__ = endpoint.__name__
    wrapped.__doc__ = endpoint.__doc__
    return wrapped


#: The admin operations, as ``/openapi.json`` describes them.
SUMMARIES = {
    ("/keys", "get"): "List every API key (never their secrets): id, name, project, role, created, expires, revoked.",
    ("/keys", "post"): "Create a key. Body: {name, project_id?, role?: admin|member, expires_days?, faults?}; the answer "
                       "holds its secret, shown once.",
    ("/keys/{id}", "delete"): "Revoke a key; every API process refuses it within QHARBOR_AUTH_CACHE_S (0.5 s).",
    ("/projects/{id}", "get"): "A project's organization, quotas and allowed backends (null: no limit).",
    ("/projects/{id}", "put"): "Set a project's {organization_id, name, max_unfinished_jobs, allowed_backends, "
                               "budget} (absent: no limit).",
    ("/audit", "get"): "The audit log, newest first. Query: action, key_id, project_id, target, since, until "
                       "(Unix s), limit, next.",
}

ROUTES = [
    Route(PREFIX + path, endpoint, methods=[method])
    for method, path, endpoint in [
        ("GET", "/keys", list_keys),
        ("POST", "/keys", create_key),
        ("DELETE", "/keys/{id}", revoke_key),
        ("GET", "/projects/{id}", get_project),
        ("PUT", "/projects/{id}", put_project),
        ("GET", "/audit", read_audit),
    ]
]
