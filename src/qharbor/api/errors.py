"""Every error the API returns is JSON: ``{"statusCode", "error", "message"}`` (+ ``validation``)."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..core.problems import InvalidRequest
from ..service.jobs import JobNotFound, ResultsNotReady
from ..service.quotas import QuotaRefused
from ..service.sessions import SessionNotFound
from ..service.usage import OrganizationNotFound
from ..store.db import UNAVAILABLE, transient

log = logging.getLogger("qharbor.api")


class ApiError(Exception):
    def __init__(self, status: int, message: str, keys: list[str] | None = None, source: str = "body",
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.keys, self.source = status, message, keys, source
        self.headers = headers


def error_response(status: int, message: str, keys: list[str] | None = None, source: str = "body",
                   headers: dict[str, str] | None = None) -> Response:
    body: dict[str, Any] = {"statusCode": status, "error": HTTPStatus(status).phrase, "message": message}
    if keys is not None:
        body["validation"] = {"keys": keys, "source": source}
    return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers=headers)


async def _api_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    headers = {"WWW-Authenticate": "apiKey"} if exc.status == 401 else exc.headers
    return error_response(exc.status, exc.message, exc.keys, exc.source, headers)


async def _invalid(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, InvalidRequest)
    shown = exc.problems[:20]
    message = "; ".join(f"{k}: {m}" for k, m in shown)
    if len(exc.problems) > len(shown):
        message += f"; and {len(exc.problems) - len(shown)} more"
    return error_response(400, message, exc.keys, exc.source)


async def _quota(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, QuotaRefused)
    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
    return error_response(exc.status, exc.message, headers=headers)


async def _not_found(_: Request, exc: Exception) -> Response:
    return error_response(404, str(exc))


#: Seconds a client is told to wait when the database is out of reach (the clients retry 503).
RETRY_AFTER_S = 2


def unavailable() -> Response:
    return error_response(503, "the database is unavailable (restarting or out of reach); retry shortly",
                          headers={"Retry-After": str(RETRY_AFTER_S)})


async def _unavailable(request: Request, exc: Exception) -> Response:
    if not transient(exc):
        raise exc  # a broken database, not an unreachable one: a logged 500 (CatchAll)
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
    return unavailable()


async def _http(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = {404: "no such route", 405: "method not allowed on this route"}.get(exc.status_code, str(exc.detail))
    return error_response(exc.status_code, message, headers=exc.headers)


class CatchAll:
    """Answer any unexpected exception with a JSON 500 and keep the connection.

    Starlette's outermost handler re-raises after responding, and uvicorn then
    drops the connection; clients (cirq, pennylane) see a reset instead of the
    500 body. This middleware sits inside it and ends the story itself.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            # Logged in full here; the client only learns that it was our fault.
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            response = error_response(500, "internal server error; the failure has been logged")
            await response(scope, receive, send)


HANDLERS: dict[Any, Any] = {
    **{kind: _unavailable for kind in UNAVAILABLE},  # a database outage is a 503, never a 500
    ApiError: _api_error,
    InvalidRequest: _invalid,
    JobNotFound: _not_found,
    QuotaRefused: _quota,
    ResultsNotReady: _not_found,
    SessionNotFound: _not_found,
    OrganizationNotFound: _not_found,
    HTTPException: _http,
}
