"""Idempotent submits: a request sent with an ``Idempotency-Key`` creates its job (session,
clone) once, however often the client retries it, and every retry gets the first answer.

Keys are per project and kept :data:`TTL_S` (24 h, like Stripe's and Braket's
``clientToken``). The database holds them, so API processes sharing a database share them: the
first request's insert of (project, key) wins (the primary key refuses the others, also on
two PostgreSQL connections at once) and it alone runs the submit; a copy arriving meanwhile
sees the key in flight (the API waits for the answer, then says 409), a later one gets the
stored answer. A submit that fails with an error releases the key, so the client may retry
it; only answers the client could act on (2xx/4xx responses) are kept.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

import orjson

from ..store import idempotency as store
from ..store.db import Database

#: How long a key and its answer are kept.
TTL_S = 24 * 3600.0
#: A key in flight for this long belongs to a request whose process died before answering
#: (a submit takes well under a second); the next request with it takes it over.
ABANDONED_S = 60.0
_expired_at = 0.0


class KeyReused(Exception):
    """The key was first sent with another request (method, path or body)."""


class InFlight(Exception):
    """The first request with this key has not been answered yet."""


@dataclass(frozen=True)
class Replay:
    status: int
    body: bytes


def fingerprint(method: str, path: str, body: bytes) -> str:
    """What makes two requests the same: method, path, and the body as JSON (key order and
    spacing aside) or as bytes."""
    try:
        canonical = orjson.dumps(orjson.loads(body), option=orjson.OPT_SORT_KEYS) if body.strip() else b""
    except orjson.JSONDecodeError:
        canonical = body
    return hashlib.sha256(f"{method} {path}\n".encode() + canonical).hexdigest()


def begin(db: Database, project_id: str, key: str, print_: str) -> Replay | None:
    """Claim the key for this request (None: go ahead, then :func:`finish` or :func:`release`),
    or the answer the first request with it got. Raises :class:`KeyReused` or :class:`InFlight`."""
    _expire_now_and_then(db)
    now = time.time()
    for _ in range(3):
        with db.begin() as conn:
            if store.claim(conn, project_id, key, print_, now):
                return None
            row = store.get(conn, project_id, key)
            if row is None:
                continue  # released or expired in between: claim again
            stale = row["created_at"] < now - TTL_S or (row["status"] is None and row["created_at"] < now - ABANDONED_S)
            if stale:
                store.drop(conn, project_id, key, row["created_at"])
                continue
        if row["fingerprint"] != print_:
            raise KeyReused(key)
        if row["status"] is None:
            raise InFlight(key)
        return Replay(row["status"], row["body"].encode())
    raise InFlight(key)


def finish(db: Database, project_id: str, key: str, status: int, body: bytes) -> None:
    """Keep the answer for replays."""
    with db.begin() as conn:
        store.finish(conn, project_id, key, status, body.decode())


def release(db: Database, project_id: str, key: str) -> None:
    """Forget the key: the request failed without an answer worth replaying."""
    with db.begin() as conn:
        store.drop(conn, project_id, key)


def _expire_now_and_then(db: Database) -> None:
    """Delete keys past their 24 h, at most once a minute per process (cheap, indexed)."""
    global _expired_at
    now = time.time()
    if now - _expired_at < 60:
        return
    _expired_at = now
    with db.begin() as conn:
        store.expire(conn, now - TTL_S)
