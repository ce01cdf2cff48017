"""Letting ``GET /jobs/{id}`` wait briefly for an unfinished job (a long poll).

Clients poll: qiskit-ionq reads the job right after submitting it and then sleeps
5 s; pennylane-ionq re-reads every 10 ms. Answering a read of an unfinished job
only once it finishes (or after ``Settings.unfinished_wait_s``) gives the first
kind its results a whole poll sooner and turns the second kind's stream of reads
into a few. One watcher task per API process serves every waiting request with a
single indexed query per tick ("what finished since I last looked?"), so the cost
does not grow with the number of waiters.
"""

from __future__ import annotations

import asyncio
import time

from starlette.concurrency import run_in_threadpool

from ..store import jobs as job_store
from ..store.db import Database

#: Re-read jobs that finished this long before the newest one seen, in case their
#: transaction committed late (or a worker's clock lags a little).
_LOOKBACK_S = 0.25


class CompletionWatcher:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._tick_s = 0.002 if db.inline_reads else 0.01
        self._waiters: dict[str, set[asyncio.Future[None]]] = {}
        self._task: asyncio.Task[None] | None = None

    async def wait(self, job_id: str, timeout_s: float) -> None:
        """Return when ``job_id`` finishes, or after ``timeout_s``, whichever is first."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(job_id, set()).add(future)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._watch())
        try:
            await asyncio.wait_for(future, timeout_s)
        except TimeoutError:
            pass
        finally:
            waiting = self._waiters.get(job_id)
            if waiting is not None:
                waiting.discard(future)
                if not waiting:
                    del self._waiters[job_id]

    async def _finished_since(self, since: float) -> list[tuple[str, float]]:
        if self._db.inline_reads:
            return job_store.finished_since(self._db, since)
        return await run_in_threadpool(job_store.finished_since, self._db, since)

    async def _watch(self) -> None:
        newest = time.time() - 1.0
        while self._waiters:
            for job_id, completed_at in await self._finished_since(newest - _LOOKBACK_S):
                newest = max(newest, completed_at)
                for future in self._waiters.get(job_id, ()):
                    if not future.done():
                        future.set_result(None)
            await asyncio.sleep(self._tick_s)
