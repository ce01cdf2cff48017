"""The API's documentation, served by the API itself: ``/openapi.json`` and ``/docs``.

``/openapi.json`` describes what this server answers, built from its routing table: each
IonQ v0.4 operation it serves carries IonQ's own description and schemas (the vendored
spec, ``ionq-v0.4-openapi.json``, the contract the test suite checks the API against); the
paths clients use that the spec lacks (legacy result paths, cirq's calibrations), the v0.3
view and qharbor's own endpoints are described here. ``/docs`` renders it with Swagger UI,
whose files come from the ``swagger-ui-bundle`` package, so the page works offline.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import swagger_ui_bundle
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from .. import __version__
from . import admin, console
from .http import JSON

#: IonQ's published v0.4 spec, vendored unchanged.
IONQ_SPEC = Path(__file__).with_name("ionq-v0.4-openapi.json")

#: Operations this server adds to IonQ's v0.4 paths (clients use them; the spec lacks them).
_EXTRA_V04 = {
    "/jobs/{id}/results/probabilities/aggregated": "A multi-circuit job's per-circuit probability maps "
                                                   "(cirq-ionq reads batches here).",
    "/jobs/{id}/results/histogram": "Counts of the job's shots (``ionq.result.histogram.json.v1``).",
    "/jobs/{id}/results/shots": "The job's shots in order (``ionq.result.shots.json.v1``).",
    "/calibrations/current": "cirq-ionq's pre-v0.3 calibration: the default QPU's characterization.",
    "/calibrations": "cirq-ionq's pre-v0.3 calibration list.",
    "/jobs/events": "Server-sent events (`text/event-stream`): `event: job` with the job as `GET /jobs/{id}` "
                    "renders it, each time one of the key's project's jobs is submitted or changes status "
                    "(same key and project scoping as every call); `event: deleted` with `{\"id\"}` once one is "
                    "deleted.",
    "/jobs/{id}/program": "qharbor's extension (IonQ's API returns no job's input): the job's stored program, "
                          "with the same key and project scoping as `GET /jobs/{id}` (404 for another project's "
                          "job). `{id, type, qubits}` and: `gateset` and `circuit` (IonQ's wire form) for a "
                          "circuit; `circuits` (`{id, name, gateset, qubits, circuit}` per child, in order) for "
                          "a multi-circuit job; `compiled` (the compiled form as stored: `qubits`, `clbits`, "
                          "`registers`, `ops`; the source text is not kept) for OpenQASM 3 and QIR jobs; the "
                          "bound ansatz as `circuit` and the stored `observable` for a quantum function.",
}
_OWN = {
    "/health": "Liveness: answers while the API process runs.",
    "/ready": "Readiness: 200 while the database answers, its schema is current and a worker is alive, "
              "else 503 with Retry-After saying what is missing.",
    "/metrics": "Prometheus metrics: HTTP requests and latency (this process), jobs, queue wait, run time "
                "and workers (from the database).",
    "/openapi.json": "This document.",
    "/docs": "This document, browsable.",
    "/": "Redirects to the web console.",
    **{path: "The web console (HTML; a client of this API)." for path in console.PAGES},
}
#: Operations that answer a stream of server-sent events, not JSON.
_STREAMS = {"/v0.4/jobs/events"}
_DESCRIPTION = """\
qharbor serves the IonQ Quantum Cloud API v0.4 (and v0.3 for older clients) from its own
simulators. Operations under `/v0.4` are IonQ's, with IonQ's schemas; where the real client
libraries need more than the spec allows, qharbor answers as they need (root-relative `url`s on
result descriptors, `failure.error`, sessions' `state` and `usage_time`, `next` on every list,
metadata echoed verbatim, fractional seconds in characterization timings, nested per-circuit
maps from a multi-circuit job's results). Job `output` says whether the stored probabilities
are exact or sampled (`output.probabilities`) and at what precision. Authorization: the header
`Authorization: apiKey <key>`."""


def _ionq_path(path: str) -> str:
    """The spec's spelling of one of our v0.4 paths (its parameter names)."""
    path = path.replace("{id}", "{UUID}").replace("{sid}", "{session_id}").replace("{artifact}", "{artifactId}")
    return path.replace("{cid}", "{UUID}")


def _parameters(path: str) -> list[dict[str, Any]]:
    return [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in re.findall(r"{(\w+)}", path)]


def _operation(summary: str, path: str, tag: str) -> dict[str, Any]:
    return {"summary": summary, "tags": [tag], "parameters": _parameters(path),
            "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {}}}}}}


def _served(routes: list[BaseRoute]) -> list[tuple[str, str]]:
    out = []
    for route in routes:
        if isinstance(route, Route) and route.methods:
            out += [(route.path, method.lower()) for method in sorted(route.methods - {"HEAD"})]
    return out


def document(routes: list[BaseRoute]) -> dict[str, Any]:
    """The OpenAPI document of ``routes`` (the app's routing table)."""
    ionq = json.loads(IONQ_SPEC.read_text())
    paths: dict[str, dict[str, Any]] = {}
    for path, method in _served(routes):
        spelled = _ionq_path(path.removeprefix("/v0.4")) if path.startswith("/v0.4/") else None
        found = ionq["paths"].get(spelled or "", {}).get(method)
        if found is not None:  # IonQ's operation, as IonQ documents it
            operation = copy.deepcopy(found)
            operation.pop("x-codeSamples", None)
            operation.pop("security", None)
            entry_path = "/v0.4" + spelled  # type: ignore[operator]
        elif path.startswith("/v0.4/"):
            entry_path = "/v0.4" + _ionq_path(path.removeprefix("/v0.4"))
            summary = _EXTRA_V04.get(path.removeprefix("/v0.4"), "Served for the clients that use it.")
            operation = _operation(summary, entry_path, "v0.4 (client paths beyond the spec)")
        elif path.startswith("/v0.3/"):
            entry_path = path
            operation = _operation("The v0.3 view of the same jobs, for older clients.", path, "v0.3")
        elif path.startswith(admin.PREFIX + "/"):
            entry_path = path
            summary = admin.SUMMARIES[(path.removeprefix(admin.PREFIX), method)]
            operation = _operation(summary + " Admin keys only (403 otherwise).", path, "admin")
        else:
            entry_path = path
            operation = _operation(_OWN.get(path, ""), path, "qharbor")
        if path in _STREAMS:
            operation["responses"] = {"200": {"description": "An event stream",
                                              "content": {"text/event-stream": {"schema": {"type": "string"}}}}}
        if path.startswith("/console"):
            operation["responses"] = {"200": {"description": "A page", "content": {"text/html": {"schema": {}}}}}
        if path == "/":
            operation["responses"] = {"302": {"description": "To /console"}}
        if not (path.startswith(("/v0.4/backends", "/v0.4/calibrations", "/v0.3/backends", "/console"))
                or path in _OWN):
            operation["security"] = [{"apiKey": []}]
        paths.setdefault(entry_path, {})[method] = operation
    return {
        "openapi": ionq["openapi"],
        "info": {"title": "qharbor", "version": __version__, "description": _DESCRIPTION},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {**ionq["components"], "securitySchemes": {"apiKey": {
            "type": "apiKey", "in": "header", "name": "Authorization",
            "description": "`apiKey <key>`, a key made by `qharbor serve` (the first) or `qharbor keys create`."}}},
    }


async def openapi(request: Request) -> Response:
    state = request.app.state
    if getattr(state, "openapi", None) is None:  # built once: the routes never change
        state.openapi = document(request.app.routes)
    return JSON(state.openapi)


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>qharbor API</title>
<link rel="stylesheet" href="/docs/static/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/static/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true});</script>
</body></html>
"""


async def page(_: Request) -> Response:
    return HTMLResponse(_PAGE)


ROUTES: list[BaseRoute] = [
    Route("/openapi.json", openapi, methods=["GET"]),
    Route("/docs", page, methods=["GET"]),
    Mount("/docs/static", app=StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="swagger-ui"),
]
