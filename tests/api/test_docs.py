"""The API documents itself: ``/openapi.json`` describes every route served, ``/docs`` shows it
with assets served by the API itself (it works offline)."""

from __future__ import annotations

import re

import httpx
import schemathesis
from spec import SPEC
from starlette.routing import Route
from support import Server

from qharbor.api.app import create_app
from qharbor.settings import Settings


def test_the_document_describes_every_route_served(server: Server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    doc = httpx.get(server.url + "/openapi.json").json()
    schemathesis.openapi.from_dict(doc)  # a document the OpenAPI tooling accepts
    served = {(r.path, m.lower()) for r in create_app(Settings(database_url=f"sqlite:///{tmp_path}/x.db")).routes
              if isinstance(r, Route) for m in (r.methods or ()) if m != "HEAD"}
    documented = {(re.sub(r"{\w+}", "{}", p), m) for p, ops in doc["paths"].items() for m in ops}
    assert {(re.sub(r"{\w+}", "{}", p), m) for p, m in served} == documented
    create = doc["paths"]["/v0.4/jobs"]["post"]  # IonQ's operations keep IonQ's schemas
    assert create["requestBody"] == SPEC["paths"]["/jobs"]["post"]["requestBody"]
    assert doc["components"]["schemas"]["JobCreationPayload"] == SPEC["components"]["schemas"]["JobCreationPayload"]
    assert "/v0.4/jobs/{UUID}/results/histogram" in doc["paths"] and "/v0.3/jobs" in doc["paths"]


def test_the_docs_page_needs_nothing_from_elsewhere(server: Server) -> None:
    page = httpx.get(server.url + "/docs")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert not re.search(r"(src|href)=\"(https?:)?//", page.text)  # every asset from this server
    for asset in re.findall(r"(?:src|href)=\"(/[^\"]+)\"", page.text):
        got = httpx.get(server.url + asset)
        assert got.status_code == 200 and len(got.content) > 1000, asset
    assert "/openapi.json" in page.text
