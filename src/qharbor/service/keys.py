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
from . import audit
from .audit import Actor
from .faults import parse as parse_faults
from .projects import DEFAULT_ORGANIZATION

ADMIN, MEMBER = "admin", "member"
ROLES = (ADMIN, MEMBER)


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key, and the user and project it belongs to."""

    key_id: str
    key_name: str
    user_id: str
    project_id: str
    #: ``admin`` (manages keys, projects, quotas; reads the audit log) or ``member``.
    role: str = "member"
    #: Fault injection spec (``service/faults.py``), for testing clients' retries; None: none.
    faults: str | None = None
    #: The organization the project belongs to (``service/projects.py``; ``default`` until an
    #: admin sets one): usage is reported per organization, and each job records it.
    organization_id: str = DEFAULT_ORGANIZATION

    @property
    def admin(self) -> bool:
        return self.role == ADMIN


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create(engine: Engine, name: str, project_id: str | None = None, role: str = MEMBER,
           expires_days: float | None = None, actor: Actor | None = None,
           faults: str | None = None) -> tuple[str, str]:
    """Create a key; returns ``(key_id, secret)``. The secret is not stored and cannot be shown again.

    Each key gets its own user; keys given the same ``project_id`` share that project's jobs.
    The key stops working ``expires_days`` after now, if given. Audited as ``key.create``.
    """
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if faults is not None:
        parse_faults(faults)
    key_id = str(uuid.uuid4())
    secret = "qh_" + secrets.token_urlsafe(32)
    now = time.time()
    project_id = project_id or str(uuid.uuid4())
    with engine.begin() as conn:
        key_store.insert(
            conn,
            {
                "id": key_id,
                "name": name,
                "secret_hash": _hash(secret),
                "user_id": str(uuid.uuid4()),
                "project_id": project_id,
                "created_at": now,
                "role": role,
                "expires_at": None if expires_days is None else now + expires_days * 86400,
                "faults": faults,
            },
        )
        audit.record(conn, actor, "key.create", key_id, {"name": name, "project_id": project_id, "role": role,
                                                         "expires_days": expires_days, "faults": faults})
    return key_id, secret


def get(engine: Engine, key_id: str) -> dict[str, object] | None:
    with reading(engine) as conn:
        row = key_store.by_id(conn, key_id)
    return None if row is None else dict(row)


def list_keys(engine: Engine) -> list[dict[str, object]]:
    with reading(engine) as conn:
        return [dict(row) for row in key_store.all_keys(conn)]


def revoke(engine: Engine, key_id: str, actor: Actor | None = None) -> bool:
    """Revoke a key (audited as ``key.revoke``); False if there is no active key ``key_id``.
    Every API process stops accepting it within ``Settings.auth_cache_s``."""
    with engine.begin() as conn:
        done = key_store.revoke(conn, key_id)
        if done:
            audit.record(conn, actor, "key.revoke", key_id)
        return done


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
        principal = Principal(row["id"], row["name"], row["user_id"], row["project_id"], row["role"],
                              row["faults"], row["organization_id"] or DEFAULT_ORGANIZATION)
        if len(self._cache) > 10_000:
            self._cache.clear()
        ttl = self._ttl if row["expires_at"] is None else min(self._ttl, row["expires_at"] - time.time())
        self._cache[secret] = (time.monotonic() + ttl, principal)
        return principal
