"""Request plumbing shared by every API version: JSON in and out, body limits, auth."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ..core.problems import InvalidRequest
from ..service import jobs
from ..service.keys import Authenticator, Principal
from ..service.limits import Limiter, retry_after
from ..settings import Settings
from ..store.db import Database
from .errors import ApiError
from .memo import Renderings


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


class RawJSON(Response):
    """Already-encoded JSON, sent with the two headers it needs and nothing else."""

    media_type = "application/json"

    def __init__(self, body: bytes, status_code: int = 200) -> None:
        self.body, self.status_code, self.background = body, status_code, None
        self.raw_headers = [(b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")]


def settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def renderings(request: Request) -> Renderings:
    return request.app.state.renderings  # type: ignore[no-any-return]


def db(request: Request) -> Database:
    return request.app.state.db  # type: ignore[no-any-return]


log = logging.getLogger("qharbor.api")
T = TypeVar("T")
Endpoint = Callable[[Request], Awaitable[Response]]


async def read(request: Request, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a hot read: inline on SQLite (microseconds, never waits on writers under WAL),
    in the thread pool elsewhere."""
    database = db(request)
    if database.inline_reads:
        return fn(database, *args, **kwargs)
    return await run_in_threadpool(fn, database, *args, **kwargs)


async def read_job(request: Request, who: Principal, job_id: str) -> jobs.JobRecord:
    """A job as its owner reads it, after the long poll both API versions share: an
    unfinished job is answered once it finishes, or after ``Settings.unfinished_wait_s``
    (``service/waiting.py``)."""
    record = await read(request, jobs.get, who, job_id)
    wait = settings(request).unfinished_wait_s
    if record.row["status"] not in jobs.FINISHED and wait > 0:
        await request.app.state.watcher.wait(job_id, wait)
        record = await read(request, jobs.get, who, job_id)
    return record


async def in_thread(request: Request, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run anything that may wait (writes, lock waits, larger queries) in the thread pool."""
    return await run_in_threadpool(fn, db(request), *args, **kwargs)


async def body_bytes(request: Request) -> bytes:
    """The raw body, refusing (413) anything over the limit without keeping it, and (408) a
    body that has not arrived within ``Settings.body_timeout_s`` (a stalled or trickling
    client must not hold a connection and its memory without end).

    A declared ``Content-Length`` over the limit is refused before a byte of the body is read
    (the connection is then closed); a chunked body is refused as soon as it passes the limit,
    after reading and discarding at most as much again, so a client still sending usually
    receives the 413 rather than a reset.
    """
    limit = settings(request).max_body_bytes
    declared = next((v for k, v in request.scope["headers"] if k == b"content-length"), b"")
    if declared.isdigit() and int(declared) > limit:
        raise ApiError(413, f"request body is larger than the {limit} byte limit", headers={"Connection": "close"})
    chunks, size = [], 0
    try:
        async with asyncio.timeout(settings(request).body_timeout_s):
            async for chunk in request.stream():
                size += len(chunk)
                if size <= limit:
                    chunks.append(chunk)
                elif size > 2 * limit:
                    break
    except TimeoutError:
        raise ApiError(408, f"the request body did not arrive within {settings(request).body_timeout_s:g} s",
                       headers={"Connection": "close"}) from None
    if size > limit:
        raise ApiError(413, f"request body is larger than the {limit} byte limit", headers={"Connection": "close"})
    return b"".join(chunks)


_BODY_HEADERS = frozenset({b"content-length", b"transfer-encoding"})


async def json_body(request: Request) -> Any:
    """The parsed JSON body, or ``None`` when there is none.

    The Content-Type is not checked: pennylane posts JSON without one, and qiskit
    sends ``application/json`` on bodiless requests. A request without Content-Length
    or Transfer-Encoding has no body (HTTP/1.1), so nothing is read for it (most GETs).
    """
    if not any(name in _BODY_HEADERS for name, _ in request.scope["headers"]):
        return None
    raw = await body_bytes(request)
    if not raw.strip():
        return None
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, f"the request body is not valid JSON: {exc}", ["body"]) from None
    try:  # native and fast (an 8 MB body: ~40 ms); Python's own walk took ten times as long
        orjson.dumps(value)
    except orjson.JSONEncodeError:
        raise ApiError(400, f"the request body nests arrays and objects more than {MAX_JSON_DEPTH} deep",
                       ["body"]) from None
    return value


#: Deepest nesting a request body may have: what orjson writes (metadata and registers are
#: stored as JSON, and a deeper value failed there, as a 500). It reads up to 1,024 levels.
MAX_JSON_DEPTH = 254


async def principal(request: Request) -> Principal:
    """The caller, from ``Authorization: apiKey <key>``; 401 otherwise (checked once a request)."""
    known: Principal | None = getattr(request.state, "principal", None)
    if known is not None:
        return known
    who = await authenticate(request)
    request.state.principal = who
    await _rate_limit(request, who)
    if who.faults:
        await _inject(request, who)
    return who


async def authenticate(request: Request) -> Principal:
    """Who the request's key belongs to, asked afresh (no rate-limit token spent): what a long
    request such as an event stream re-asks to notice that its key was revoked."""
    header = next((v for k, v in request.scope["headers"] if k == b"authorization"), b"")
    scheme, _, secret = header.decode("latin-1").partition(" ")
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


async def _inject(request: Request, who: Principal) -> None:
    """The key's injected faults (``service/faults.py``): added latency, a retryable error."""
    latency, status = request.app.state.faults.draw(who.key_id, who.faults)
    if latency:
        await asyncio.sleep(latency)
    if status is not None:
        log.info("fault injection: answering %d to key %s", status, who.key_id)
        raise ApiError(status, f"injected fault ({status}) for this key: {who.faults}", headers={"Retry-After": "1"})


async def _rate_limit(request: Request, who: Principal) -> None:
    """Spend one of the key's tokens, or answer 429 with ``Retry-After`` (``service/limits.py``)."""
    limiter: Limiter | None = request.app.state.limiter
    if limiter is None:
        return
    wait = limiter.spend_held(who.key_id)
    if wait is None:
        wait = await in_thread(request, limiter.lease, who.key_id)
    if wait > 0:
        after = retry_after(wait)
        raise ApiError(429, f"rate limit exceeded: this API key may make {limiter.text} requests; retry in {after} s",
                       headers={"Retry-After": str(after)})



# -- query parameters, read one way for both versions ------------------------------------

_FLAGS = {"true": True, "1": True, "false": False, "0": False}


def query_flag(request: Request, name: str) -> bool | None:
    """A boolean query parameter as clients send it: ``true``/``1`` or ``false``/``0``, any case
    (requests sends Python's ``True``); None when absent or empty; anything else is a 400,
    not a silent default."""
    raw = request.query_params.get(name, "")
    if not raw.strip():
        return None
    value = _FLAGS.get(raw.strip().lower())
    if value is None:
        raise ApiError(400, f"query parameter '{name}' must be true or false (got {raw!r})", [name], "query")
    return value


#: ``aggregation`` of a results read (qiskit-ionq's successor to ``sharpen``): whether it votes.
_AGGREGATIONS = {"average": False, "voting": True}


def sharpen(request: Request) -> bool:
    """Whether a results read aggregates a debiased run's variants by plurality voting: the
    ``sharpen`` flag or ``aggregation=voting`` (``average``: the stored average). Any other
    value, or the two disagreeing, is a 400 naming them, not a silent average."""
    flag = query_flag(request, "sharpen")
    aggregation = request.query_params.get("aggregation")
    if aggregation is None:
        return flag or False
    voting = _AGGREGATIONS.get(aggregation.strip().lower())
    if voting is None:
        raise ApiError(400, f"aggregation must be one of {', '.join(_AGGREGATIONS)} (got {aggregation!r})",
                       ["aggregation"], "query")
    if flag is not None and flag != voting:
        raise ApiError(400, f"sharpen={flag} and aggregation={aggregation} disagree (sharpen=true is "
                            "aggregation=voting, false is average)", ["sharpen", "aggregation"], "query")
    return voting


def query_number(request: Request, name: str, what: str) -> float | None:
    """A number from the query (None when absent or empty); 400 saying it must be ``what``."""
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    try:
        return float(raw)
    except ValueError:
        raise InvalidRequest([(name, f"must be {what}")], source="query") from None


def id_list(request: Request, *names: str) -> list[str]:
    """Job ids from repeatable, comma-separable query parameters (``?ids=a,b&ids=c``)."""
    return [i for name in names for raw in request.query_params.getlist(name) for i in raw.split(",") if i]


def list_limit(request: Request, body: Any) -> Any:
    """A list's ``limit``: from the query, else from the GET body cirq-ionq sends (``{"limit": N}``);
    the service checks it (``core.problems.page_size``)."""
    return request.query_params.get("limit") or (body.get("limit") if isinstance(body, dict) else None)
