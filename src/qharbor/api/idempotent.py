"""``Idempotency-Key`` on the routes that create things (jobs, sessions, clones, moves; both
API versions): the HTTP side of ``service/idempotency.py``.

A replay answers the first request's status and body with ``Idempotent-Replayed: true``; the
same key on a different request is a 422; a copy arriving while the first is still being
served waits for its answer (up to :data:`WAIT_S`), else gets a 409 with ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time

from starlette.requests import Request
from starlette.responses import Response

from ..service import idempotency
from .errors import error_response
from .http import Endpoint, body_bytes, in_thread, principal

log = logging.getLogger("qharbor.api")

HEADER = "idempotency-key"
#: Keys clients make: UUIDs, ULIDs, hashes; printable, no spaces, at most 255 characters.
VALID = re.compile(r"[\x21-\x7e]{1,255}")
#: How long a copy waits for the first request's answer before a 409.
WAIT_S = 5.0


def idempotent(endpoint: Endpoint) -> Endpoint:
    async def wrapped(request: Request) -> Response:
        key = request.headers.get(HEADER)
        if key is None:
            return await endpoint(request)
        if not VALID.fullmatch(key):
            return error_response(400, "Idempotency-Key must be 1 to 255 printable characters without spaces",
                                  ["Idempotency-Key"], "headers")
        who = await principal(request)
        raw = await body_bytes(request)
        request._body = raw  # Starlette's own cache of the body: the endpoint reads it from there
        fingerprint = idempotency.fingerprint(request.method, request.url.path, raw)
        deadline = time.monotonic() + WAIT_S
        while True:
            try:
                replay = await in_thread(request, idempotency.begin, who.project_id, key, fingerprint)
                break
            except idempotency.KeyReused:
                return error_response(422, f"Idempotency-Key {key!r} was already used with a different request "
                                      "(method, path or body) in this project", ["Idempotency-Key"], "headers")
            except idempotency.InFlight:
                if time.monotonic() > deadline:
                    return error_response(409, f"a request with Idempotency-Key {key!r} is still being served; "
                                          "retry for its answer", headers={"Retry-After": "1"})
                await asyncio.sleep(0.05)
        if replay is not None:
            log.info("replayed the answer to Idempotency-Key %r", key)
            return Response(replay.body, status_code=replay.status, media_type="application/json",
                            headers={"Idempotent-Replayed": "true"})
        try:
            response = await endpoint(request)
        except BaseException:
            await asyncio.shield(in_thread(request, idempotency.release, who.project_id, key))
            raise
        if response.status_code >= 500:
            await in_thread(request, idempotency.release, who.project_id, key)
        else:
            await in_thread(request, idempotency.finish, who.project_id, key, response.status_code, response.body)
        return response

    wrapped.__name__ = wrapped.__qualname__ = endpoint.__name__
    wrapped.__doc__ = endpoint.__doc__
    return wrapped
