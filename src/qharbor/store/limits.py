"""Token buckets in the database (``schema.rate_buckets``), so every API process draws on the
same one. A draw locks the key's row (``FOR UPDATE``; on SQLite the write transaction is the
lock), refills it for the time passed and takes what it can."""

from __future__ import annotations

import math

from sqlalchemy import Connection, select, update
from sqlalchemy.exc import IntegrityError

from .schema import rate_buckets as t


def draw(conn: Connection, key_id: str, want: int, capacity: float, per_s: float, now: float) -> tuple[int, float]:
    """Take up to ``want`` whole tokens; returns (taken, tokens left). Call inside a transaction."""
    row = conn.execute(select(t.c.tokens, t.c.updated_at).where(t.c.key_id == key_id).with_for_update()).first()
    if row is None:
        try:
            with conn.begin_nested():
                conn.execute(t.insert().values(key_id=key_id, tokens=capacity, updated_at=now))
        except IntegrityError:  # another process made it first: draw from theirs
            pass
        row = conn.execute(select(t.c.tokens, t.c.updated_at).where(t.c.key_id == key_id).with_for_update()).one()
    tokens, at = row
    available = min(capacity, tokens + max(0.0, now - at) * per_s)
    taken = min(want, math.floor(available))
    conn.execute(update(t).where(t.c.key_id == key_id).values(tokens=available - taken, updated_at=max(now, at)))
    return taken, available - taken

