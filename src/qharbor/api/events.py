"""``GET /v0.4/jobs/events``: the caller's project's job changes as server-sent events.

Each event is ``event: job`` with the job as ``GET /v0.4/jobs/{id}`` renders it (``data``), sent
when a job is submitted and whenever its status changes, or ``event: deleted`` with ``{"id"}``
once a job is deleted (so a list drops its row); a comment line every
:data:`KEEPALIVE_S` keeps proxies from closing an idle stream. The same key and project scoping
as every other call (``Authorization: apiKey <key>``; 401 before the stream opens, and an
``event: error`` that ends it once the key is revoked). The
console (``console.py``) follows it, and any SSE client that can send that header can too.

One :class:`Wakeup` per API process turns notices of queued and finished jobs
(``service/job_events.py``) into a wake-up of every open stream; each stream then asks the
service what changed for its project. Between notices each stream looks every
:data:`TICK_S` (jobs that start send no notice).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from http import HTTPStatus

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from ..service import job_events
from . import views
from .errors import ApiError
from .http import authenticate, in_thread, principal, read

#: How often a stream looks for changes without a notice.
TICK_S = 1.0
#: How often an idle stream sends a comment line.
KEEPALIVE_S = 15.0
#: How often a stream checks that its key is still valid (a revoked key's stream ends with an
#: ``event: error`` carrying the 401 body, as a request with it would be answered).
RECHECK_S = 5.0
#: The client's reconnection delay, sent once at the start (``retry:``).
RETRY_MS = 2000


class Wakeup:
    """Wakes every waiting stream of this process when any job is queued or finishes.

    A generation count, not a flag: a stream busy reading when a notice came sees on its
    next wait that it has one to act on."""

    def __init__(self) -> None:
        self.generation = 0
        self._event: asyncio.Event | None = None
        self._close: Callable[[], None] | None = None

    def _start(self, request: Request) -> asyncio.Event:
        loop = asyncio.get_running_loop()
        self._event = asyncio.Event()

        def bump() -> None:
            self.generation += 1
            event, self._event = self._event, asyncio.Event()
            assert event is not None
            event.set()

        def on_notice() -> None:
            try:
                loop.call_soon_threadsafe(bump)
            except RuntimeError:  # the loop has closed: the server is stopping
                pass

        self._close = job_events.listen(request.app.state.db, on_notice, TICK_S)
        return self._event

    async def wait(self, request: Request, seen: int, timeout_s: float) -> int:
        """Return the generation once it differs from ``seen`` (a notice came), or after ``timeout_s``."""
        event = self._event or self._start(request)
        if self.generation == seen:
            try:
                await asyncio.wait_for(event.wait(), timeout_s)
            except TimeoutError:
                pass
        return self.generation

    def close(self) -> None:
        if self._close is not None:
            self._close()


class _Stream(StreamingResponse):
    """An event stream that a stopping server ends cleanly: ``qharbor serve`` cancels requests
    still open a few seconds into a stop, and a stream then ends its body as if finished (the
    client reconnects to another process, or once this one is back), rather than being cut."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await send({"type": "http.response.body", "body": b"", "more_body": False})


async def job_stream(request: Request) -> Response:
    who = await principal(request)
    follower = await in_thread(request, job_events.follow, who)
    wakeup: Wakeup = request.app.state.job_events

    async def events() -> AsyncIterator[bytes]:
        yield f"retry: {RETRY_MS}\n: following project {who.project_id}\n\n".encode()
        quiet_since = checked = time.monotonic()
        seen = -1
        while True:
            seen = await wakeup.wait(request, seen, TICK_S)
            if time.monotonic() - checked > RECHECK_S:
                checked = time.monotonic()
                try:
                    await authenticate(request)
                except ApiError as exc:
                    body = {"statusCode": exc.status, "error": HTTPStatus(exc.status).phrase, "message": exc.message}
                    yield b"event: error\ndata: " + orjson.dumps(body) + b"\n\n"
                    return
            changed = await read(request, job_events.changes, follower)
            gone = await read(request, job_events.deleted, follower)
            if changed or gone:
                for record in changed:
                    yield b"event: job\ndata: " + orjson.dumps(views.job(record)) + b"\n\n"
                for job_id in gone:
                    yield b"event: deleted\ndata: " + orjson.dumps({"id": job_id}) + b"\n\n"
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since > KEEPALIVE_S:
                yield b": keepalive\n\n"
                quiet_since = time.monotonic()

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}  # nginx: do not buffer the stream
    return _Stream(events(), media_type="text/event-stream", headers=headers)


ROUTES = [Route("/v0.4/jobs/events", job_stream, methods=["GET"])]
