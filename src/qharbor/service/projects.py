"""Projects: the unit keys share jobs in, grouped in organizations, with the limits admins
set on them (``max_unfinished_jobs``, ``allowed_backends``, ``budget``). A project exists
once a key belongs to it; until an admin sets something it has no limits."""

from __future__ import annotations

import time
from typing import Any

import orjson
from sqlalchemy import Engine

from ..core import backends as catalog
from ..core.problems import Problems
from ..store import keys as key_store
from ..store import projects as store
from ..store.db import reading
from . import audit
from .audit import Actor

#: The organization of every project an admin has not put in another: a UUID, as the spec's
#: organization ids are (``GET /organizations/{organization_id}/usage``).
DEFAULT_ORGANIZATION = "00000000-0000-0000-0000-000000000000"
#: What an admin may set, and what it means when absent (null: no limit).
FIELDS = ("organization_id", "name", "max_unfinished_jobs", "allowed_backends", "budget")


class ProjectNotFound(Exception):
    def __init__(self, project_id: str) -> None:
        super().__init__(f"no project {project_id!r}: no key belongs to it")


def _view(project_id: str, row: Any) -> dict[str, Any]:
    if row is None:
        return {"id": project_id, "organization_id": DEFAULT_ORGANIZATION, "name": None,
                "max_unfinished_jobs": None, "allowed_backends": None, "budget": None}
    return {"id": project_id, "organization_id": row["organization_id"], "name": row["name"],
            "max_unfinished_jobs": row["max_unfinished_jobs"],
            "allowed_backends": None if row["allowed_backends"] is None else orjson.loads(row["allowed_backends"]),
            "budget": row["budget"]}


def get(engine: Engine, project_id: str) -> dict[str, Any]:
    """The project's settings; :class:`ProjectNotFound` if no key ever belonged to it."""
    with reading(engine) as conn:
        row = store.get(conn, project_id)
        if row is None and not key_store.project_known(conn, project_id):
            raise ProjectNotFound(project_id)
    return _view(project_id, row)


def _check(body: Any) -> dict[str, Any]:
    p = Problems()
    if not isinstance(body, dict):
        p.add("body", f"must be a JSON object with any of: {', '.join(FIELDS)}")
        p.raise_if_any()
    for key in body:
        if key not in FIELDS:
            p.add(key, f"is not a project setting (settings: {', '.join(FIELDS)})")
    org = body.get("organization_id", DEFAULT_ORGANIZATION)
    if not isinstance(org, str) or not 1 <= len(org) <= 64:
        p.add("organization_id", "must be a string of 1 to 64 characters")
    name = body.get("name")
    if name is not None and (not isinstance(name, str) or len(name) > 200):
        p.add("name", "must be a string of at most 200 characters, or null")
    most = body.get("max_unfinished_jobs")
    if most is not None and (not isinstance(most, int) or isinstance(most, bool) or most < 0):
        p.add("max_unfinished_jobs", "must be a whole number, 0 or more, or null (no limit)")
    allowed = body.get("allowed_backends")
    if allowed is not None:
        if not isinstance(allowed, list) or not all(isinstance(b, str) for b in allowed):
            p.add("allowed_backends", "must be a list of backend names, or null (all)")
        else:
            for b in allowed:
                if b not in catalog.BACKENDS:
                    p.add("allowed_backends", f"{b!r} is not a backend; backends: {', '.join(catalog.BACKENDS)}")
    budget = body.get("budget")
    if budget is not None and (not isinstance(budget, int | float) or isinstance(budget, bool) or budget < 0):
        p.add("budget", "must be a number, 0 or more (in the rate card's currency, usd), or null (no budget)")
    p.raise_if_any()
    return body


def put(engine: Engine, project_id: str, body: Any, actor: Actor | None = None) -> dict[str, Any]:
    """Replace the project's settings (absent ones: no limit); audited as ``project.update``.
    400 naming each unusable field."""
    values = _check(body)
    row = {"id": project_id, "organization_id": values.get("organization_id", DEFAULT_ORGANIZATION),
           "name": values.get("name"), "max_unfinished_jobs": values.get("max_unfinished_jobs"),
           "allowed_backends": None if values.get("allowed_backends") is None
           else orjson.dumps(values["allowed_backends"]).decode(),
           "budget": values.get("budget"), "updated_at": time.time()}
    with engine.begin() as conn:
        if store.get(conn, project_id) is None and not key_store.project_known(conn, project_id):
            raise ProjectNotFound(project_id)
        store.put(conn, row)
        audit.record(conn, actor, "project.update", project_id, {k: values.get(k) for k in FIELDS if k in values},
                     project_id=project_id)
    return _view(project_id, row)
