"""API key records. Only a SHA-256 of each secret is stored.

Secrets are 256-bit random tokens, so a fast hash is enough: there is nothing to
brute-force, and authentication stays a single indexed lookup.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Connection, RowMapping, select, update

from .schema import api_keys


def insert(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(api_keys.insert().values(**row))


def by_hash(conn: Connection, secret_hash: str) -> RowMapping | None:
    stmt = select(api_keys).where(api_keys.c.secret_hash == secret_hash, api_keys.c.revoked_at.is_(None))
    return conn.execute(stmt).mappings().first()


def all_keys(conn: Connection) -> list[RowMapping]:
    return list(conn.execute(select(api_keys).order_by(api_keys.c.created_at)).mappings())


def any_active(conn: Connection) -> bool:
    return conn.execute(select(api_keys.c.id).where(api_keys.c.revoked_at.is_(None)).limit(1)).first() is not None


def revoke(conn: Connection, key_id: str) -> bool:
    result = conn.execute(
        update(api_keys).where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None)).values(revoked_at=time.time())
    )
    return result.rowcount > 0
