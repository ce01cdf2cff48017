"""ASGI middleware around every route: the request id.

Every response carries ``x-request-id`` — the caller's own when it is a sane token (so a
client can correlate its logs with ours; ionq-core reads it), else one made here — errors
and 500s included, and every log line written while serving the request carries it
(``logs.request_id``).
"""

from __future__ import annotations

import re
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import logs

HEADER = b"x-request-id"
#: What an incoming id may be: short, printable, no spaces (it is echoed into headers and logs).
VALID = re.compile(rb"[A-Za-z0-9._:/+=@-]{1,128}")


class RequestId:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope["headers"] if k == HEADER), b"")
        rid = given.decode() if VALID.fullmatch(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        token = logs.request_id.set(rid)
        raw = rid.encode()

        async def stamped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != HEADER]
                message["headers"] = [*headers, (HEADER, raw)]
            await send(message)

        try:
            await self.app(scope, receive, stamped)
        finally:
            logs.request_id.reset(token)
