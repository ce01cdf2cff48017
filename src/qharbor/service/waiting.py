"""Letting ``GET /jobs/{id}`` wait briefly for an unfinished job (a long poll).

Clients poll: qiskit-ionq reads the job right after submitting it and then sleeps
5 s; pennylane-ionq re-reads every 10 ms. Answering a read of an unfinished job
only once it finishes (or after ``Settings.unfinished_wait_s``) gives the first
kind its results a whole poll sooner and turns the second kind's stream of reads
into a few. One watcher task per API process serves every waiting request with a
single indexed query ("what finished since I last looked?") each time a worker
announces a finished job (``store/notify.py``) and on a slow tick, so the answer
goes out as soon as the job is stored and the cost does not grow with the waiters.

It lives in the service, beside the jobs it waits for: the API holds one per process
(``api/app.py``) and only asks it to wait (``api/http.py``: ``read_job``).
"""

from __future__ import annotations

import asyncio
import time

from ..store import jobs as job_store
from ..store import notify
from ..store.db import Database

#: Re-read jobs that finished this long before the newest one seen, in case their
#: transaction committed late (or a worker's clock lags a little).
_LOOKBACK_S = 0.25
#: With notices of finished jobs, the database is still re-read this often, in case one was lost.
_SAFETY_TICK_S = 0.1


class CompletionWatcher:
    """Wakes the requests waiting for jobs of one database as those jobs finish."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._listener: notify.Listener | None = None
        self._poke: asyncio.Event | None = None
        self._tick_s = 0.002 if db.inline_reads else 0.01
        self._waiters: dict[str, set[asyncio.Future[None]]] = {}
        self._task: asyncio.Task[None] | None = None

    def _start(self) -> None:
        """Listen for finished jobs (``store/notify.py``): each notice wakes the watcher at
        once, and the ticks between are only a safety net."""
        loop = asyncio.get_running_loop()
        self._poke = poke = asyncio.Event()
        self._listener = listener = self._db.listener(notify.FINISHED)
        if listener.live:
            self._tick_s = _SAFETY_TICK_S

            def on_notice() -> None:
                try:
                    loop.call_soon_threadsafe(poke.set)
                except RuntimeError:  # the loop has closed: the server is stopping
                    listener.close()

            notify.in_background(listener, on_notice, _SAFETY_TICK_S)

    async def wait(self, job_id: str, timeout_s: float) -> None:
        """Return when ``job_id`` finishes, or after ``timeout_s``, whichever is first."""
        if self._poke is None:
            self._start()
        assert self._poke is not None
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(job_id, set()).add(future)
        self._poke.set()  # look now: it may have finished, and its notice gone, since the caller read it
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
        return await asyncio.to_thread(job_store.finished_since, self._db, since)

    async def _watch(self) -> None:
        assert self._poke is not None
        newest = time.time() - 1.0
        while self._waiters:
            self._poke.clear()
            for job_id, completed_at in await self._finished_since(newest - _LOOKBACK_S):
                newest = max(newest, completed_at)
                for future in self._waiters.get(job_id, ()):
                    if not future.done():
                        future.set_result(None)
            try:
                await asyncio.wait_for(self._poke.wait(), self._tick_s)
            except TimeoutError:
                pass

    def close(self) -> None:
        if self._listener is not None:
            self._listener.close()
