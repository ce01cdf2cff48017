"""Every response carries ``x-request-id``: the caller's valid one echoed, else a fresh one."""

from __future__ import annotations

import httpx
import pytest
from support import Server, bell


def test_a_valid_id_is_echoed_on_success_and_errors(api: httpx.Client) -> None:
    for method, path, body in [("GET", "/whoami", None), ("GET", "/jobs/nope", None),
                               ("POST", "/jobs", {"shots": "many"}), ("GET", "/no/such/route", None)]:
        r = api.request(method, path, json=body, headers={"x-request-id": "client-abc.123"})
        assert r.headers["x-request-id"] == "client-abc.123", (path, r.status_code)
    assert r.status_code == 404


@pytest.mark.parametrize("given", [None, "", "has spaces in it", "x" * 129, "semi;colon"])
def test_otherwise_one_is_made_per_request(api: httpx.Client, given: str | None) -> None:
    headers = {} if given is None else {"x-request-id": given}
    first = api.get("/whoami", headers=headers).headers["x-request-id"]
    second = api.get("/whoami", headers=headers).headers["x-request-id"]
    assert first != second and first != given and 8 <= len(first) <= 128


def test_unauthenticated_and_unrouted_answers_carry_one(server: Server) -> None:
    r = httpx.post(server.url + "/v0.4/jobs", json=bell())
    assert r.status_code == 401 and r.headers["x-request-id"]
    r = httpx.get(server.url + "/health", headers={"x-request-id": "probe-1"})
    assert r.headers["x-request-id"] == "probe-1"
