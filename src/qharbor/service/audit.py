"""The audit log: who did what, from where, in which request — job creation, cancel and
delete, key creation and revocation, project and quota changes. Entries are written in the
same transaction as the change where the service makes it (job creation, keys, projects), or
right after the answer for job cancel and delete (``api/admin.py`` ``audited``), and never
changed; retention keeps them."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, Engine

from .. import logs
from ..store import audit as store
from ..store.db import reading

ACTIONS = ("job.create", "job.cancel", "job.delete", "key.create", "key.revoke", "project.update")


@dataclass(frozen=True)
class Actor:
    """Who acts: the key and its project (None from the command line) and the client's address."""

    key_id: str | None
    project_id: str | None
    client: str | None


CLI = Actor(None, None, "cli")


def record(conn: Connection, actor: Actor | None, action: str, target: str | None = None,
           detail: dict[str, Any] | None = None, project_id: str | None = None) -> None:
    """Append one entry, with the request id of the request being served (if any)."""
    actor = actor or CLI
    rid = logs.request_id.get()
    store.append(conn, {
        "at": time.time(), "action": action, "target": target, "key_id": actor.key_id,
        "project_id": project_id or actor.project_id, "request_id": None if rid == "-" else rid,
        "client": actor.client, "detail": None if detail is None else orjson.dumps(detail).decode(),
    })


def read(engine: Engine, limit: int = 100, before: int | None = None, **filters: Any) -> list[dict[str, Any]]:
    """Entries newest first; filters: action, key_id, project_id, target, since, until (epoch s)."""
    with reading(engine) as conn:
        rows = store.read(conn, limit, before, **filters)
    return [{**{str(k): v for k, v in row.items()}, "detail": None if row["detail"] is None
             else orjson.loads(row["detail"])} for row in rows]
