"""Per-key rate limits: a token bucket per API key, held in the database so that every API
process of one database draws on the same bucket (``store/limits.py``).

Why the database and not a share per process: a share (rate / live processes) is right only
when a load balancer spreads each key evenly; one bucket is right however requests arrive.
To keep its cost off the hot path, a process *leases* tokens in chunks (a twentieth of the
bucket, at least one) and spends them locally, so one database write serves a chunk of
requests; and once the bucket is empty it refuses locally, without asking again, until the
bucket holds a token again. The price of leasing is that tokens leased by one process are
not available to another: at most ``processes × chunk`` tokens (5 % of the bucket per
process) are spent early or wait, which keeps the shared limit well within ±20 %.

Polling costs little by construction: ``GET /jobs/{id}`` of an unfinished job is a long poll
(``Settings.unfinished_wait_s``, 2 s), so a client polling every 10 ms (pennylane-ionq) makes
at most one request, and spends one token, per 2 s per job while it waits; the default limit
(6,000 a minute) is then far above what sequential clients make.
"""

from __future__ import annotations

import logging
import math
import time

from ..store import limits as store
from ..store.db import Database

log = logging.getLogger("qharbor.limits")


class Limiter:
    """One API process's view of the shared buckets (``count`` requests per ``period_s``)."""

    def __init__(self, count: int, period_s: float) -> None:
        self.count, self.period_s = count, period_s
        self.capacity, self.per_s = float(count), count / period_s
        self.chunk = max(1, count // 20)
        self._held: dict[str, int] = {}  # leased tokens not yet spent, per key
        self._refused_until: dict[str, float] = {}

    @property
    def text(self) -> str:
        unit = {1.0: "s", 60.0: "m", 3600.0: "h"}.get(self.period_s, f"{self.period_s:g}s")
        return f"{self.count}/{unit}"

    def spend_held(self, key_id: str) -> float | None:
        """Without the database: 0 if a leased token was spent, seconds to wait if the key is
        known to be empty, None if the bucket must be asked (:meth:`lease`)."""
        held = self._held.get(key_id, 0)
        if held > 0:
            self._held[key_id] = held - 1
            return 0.0
        until = self._refused_until.get(key_id)
        if until is not None:
            now = time.monotonic()
            if now < until:
                return until - now
            del self._refused_until[key_id]
        return None

    def lease(self, db: Database, key_id: str) -> float:
        """Lease a chunk from the shared bucket and spend one token: 0, or the seconds until
        the bucket holds one again (blocking: call from a thread)."""
        with db.begin() as conn:
            taken, left = store.draw(conn, key_id, self.chunk, self.capacity, self.per_s, time.time())
        if taken > 0:
            if taken > 1:
                self._held[key_id] = self._held.get(key_id, 0) + taken - 1
            return 0.0
        wait = (1.0 - left) / self.per_s
        self._refused_until[key_id] = time.monotonic() + wait
        if len(self._refused_until) > 10_000:
            self._refused_until.clear()
        log.info("key %s is over its rate limit of %s; refusing it for %.2f s", key_id, self.text, wait)
        return wait


def retry_after(wait_s: float) -> int:
    """The ``Retry-After`` for a wait: whole seconds, at least 1."""
    return max(1, math.ceil(wait_s))
