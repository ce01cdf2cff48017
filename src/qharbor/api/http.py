"""Request plumbing shared by every API version: JSON in and out, body limits, auth."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ..service.keys import Authenticator, Principal
from ..settings import Settings
from .errors import ApiError


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def engine(request: Request) -> Engine:
    return request.app.state.engine  # type: ignore[no-any-return]


async def body_bytes(request: Request) -> bytes:
    """The raw body, refusing (413) anything over the limit without reading it all."""
    limit = settings(request).max_body_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, f"request body is larger than the {limit} byte limit")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, f"request body is larger than the {limit} byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


async def json_body(request: Request) -> Any:
    """The parsed JSON body, or ``None`` when there is none.

    The Content-Type is not checked: pennylane posts JSON without one, and qiskit
    sends ``application/json`` on bodiless requests.
    """
    raw = await body_bytes(request)
    if not raw.strip():
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, f"the request body is not valid JSON: {exc}", ["body"]) from None


async def principal(request: Request) -> Principal:
    """The caller, from ``Authorization: apiKey <key>``; 401 otherwise."""
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    secret = secret.strip()
    if scheme.lower() != "apikey" or not secret:
        raise ApiError(401, "missing API key: send the header 'Authorization: apiKey <your key>'")
    auth: Authenticator = request.app.state.auth
    who = auth.cached(secret)
    if who is None:
        who = await run_in_threadpool(auth.lookup, secret)
    if who is None:
        raise ApiError(401, "invalid or revoked API key")
    return who
