"""ASGI middleware around every route: the request id, and HTTP metrics.

Every response carries ``x-request-id`` — the caller's own when it is a sane token (so a
client can correlate its logs with ours; ionq-core reads it), else one made here — errors
and 500s included, and every log line written while serving the request carries it
(``logs.request_id``).
"""

from __future__ import annotations

import re
import time
import uuid

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import logs

HEADER = b"x-request-id"
#: What an incoming id may be: short, printable, no spaces (it is echoed into headers and logs).
VALID = re.compile(rb"[A-Za-z0-9._:/+=@-]{1,128}")


class Observed:
    """Around every request: its id (``x-request-id`` on the response, ``logs.request_id`` while
    it is served), and its metrics in this process's registry — a count by method, route
    template (``/v0.4/jobs/{id}``, never the raw path: bounded label values) and status, and
    its latency."""

    def __init__(self, app: ASGIApp, registry: CollectorRegistry) -> None:
        self.app = app
        self.requests = Counter("qharbor_http_requests", "HTTP requests answered by this API process.",
                                ["method", "route", "status"], registry=registry)
        self.latency = Histogram("qharbor_http_request_duration_seconds", "Time to answer, by route.",
                                 ["method", "route"], registry=registry,
                                 buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope["headers"] if k == HEADER), b"")
        rid = given.decode() if VALID.fullmatch(given) else uuid.uuid4().hex
        token = logs.request_id.set(rid)
        raw = rid.encode()
        started, status = time.perf_counter(), 500

        async def stamped(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != HEADER]
                message["headers"] = [*headers, (HEADER, raw)]
            await send(message)

        try:
            await self.app(scope, receive, stamped)
        finally:
            logs.request_id.reset(token)
            template = getattr(scope.get("route"), "path", "unmatched")
            method = scope.get("method", "")
            self.requests.labels(method, template, str(status)).inc()
            self.latency.labels(method, template).observe(time.perf_counter() - started)
