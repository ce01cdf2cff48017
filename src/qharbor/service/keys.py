"""API keys: creating, listing, revoking, and authenticating requests with them."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass

from sqlalchemy import Engine

from ..store import keys as key_store
from ..store.db import reading


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key, and the user and project it belongs to."""

    key_id: str
    key_name: str
    user_id: str
    project_id: str


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create(engine: Engine, name: str, project_id: str | None = None) -> tuple[str, str]:
    """Create a key; returns ``(key_id, secret)``. The secret is not stored and cannot be shown again.

    Each key gets its own user; keys given the same ``project_id`` share that project's jobs.
    """
    key_id = str(uuid.uuid4())
    secret = "qh_" + secrets.token_urlsafe(32)
    with engine.begin() as conn:
        key_store.insert(
            conn,
            {
                "id": key_id,
                "name": name,
                "secret_hash": _hash(secret),
                "user_id": str(uuid.uuid4()),
                "project_id": project_id or str(uuid.uuid4()),
                "created_at": time.time(),
            },
        )
    return key_id, secret


def list_keys(engine: Engine) -> list[dict[str, object]]:
    with reading(engine) as conn:
        return [dict(row) for row in key_store.all_keys(conn)]


def revoke(engine: Engine, key_id: str) -> bool:
    with engine.begin() as conn:
        return key_store.revoke(conn, key_id)


def any_active(engine: Engine) -> bool:
    with reading(engine) as conn:
        return key_store.any_active(conn)


class Authenticator:
    """Resolves secrets to principals, caching hits briefly.

    The cache makes authentication free on the hot path (clients poll); its short
    TTL bounds how long a revoked key keeps working in another process.
    """

    def __init__(self, engine: Engine, ttl_s: float) -> None:
        self._engine = engine
        self._ttl = ttl_s
        self._cache: dict[str, tuple[float, Principal]] = {}

    def cached(self, secret: str) -> Principal | None:
        hit = self._cache.get(secret)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        return None

    def lookup(self, secret: str) -> Principal | None:
        """Database lookup (blocking: call from a thread)."""
        with reading(self._engine) as conn:
            row = key_store.by_hash(conn, _hash(secret))
        if row is None:
            self._cache.pop(secret, None)
            return None
        principal = Principal(row["id"], row["name"], row["user_id"], row["project_id"])
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[secret] = (time.monotonic() + self._ttl, principal)
        return principal
