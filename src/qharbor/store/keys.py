"""API key records. Only a SHA-256 of each secret is stored.

Secrets are 256-bit random tokens, so a fast hash is enough: there is nothing to
brute-force, and authentication stays a single indexed lookup.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Connection, RowMapping, or_, select, update

from .schema import api_keys, projects


def insert(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(api_keys.insert().values(**row))


def _usable(now: float):  # type: ignore[no-untyped-def]
    return (api_keys.c.revoked_at.is_(None), or_(api_keys.c.expires_at.is_(None), api_keys.c.expires_at > now))


def by_hash(conn: Connection, secret_hash: str) -> RowMapping | None:
    """The key with this secret, unless revoked or expired, with its project's ``organization_id``
    (NULL while the project has no settings)."""
    stmt = (select(api_keys, projects.c.organization_id)
            .select_from(api_keys.outerjoin(projects, projects.c.id == api_keys.c.project_id))
            .where(api_keys.c.secret_hash == secret_hash, *_usable(time.time())))
    return conn.execute(stmt).mappings().first()


def all_keys(conn: Connection) -> list[RowMapping]:
    return list(conn.execute(select(api_keys).order_by(api_keys.c.created_at)).mappings())


def any_active(conn: Connection) -> bool:
    return conn.execute(select(api_keys.c.id).where(*_usable(time.time())).limit(1)).first() is not None


def revoke(conn: Connection, key_id: str) -> bool:
    result = conn.execute(
        update(api_keys).where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None)).values(revoked_at=time.time())
    )
    return result.rowcount > 0


def by_id(conn: Connection, key_id: str) -> RowMapping | None:
    return conn.execute(select(api_keys).where(api_keys.c.id == key_id)).mappings().first()


def project_known(conn: Connection, project_id: str) -> bool:
    """Whether any key (active or not) ever belonged to the project."""
    return conn.execute(select(api_keys.c.id).where(api_keys.c.project_id == project_id).limit(1)).first() is not None
