"""Every error is JSON; nothing internal leaks; sizes are bounded."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import pytest
from spec import assert_valid
from support import Server, bell, wait_for


def test_unknown_job_is_404_with_detail(api: httpx.Client) -> None:
    r = api.get("/jobs/00000000-0000-0000-0000-000000000000")
    assert r.status_code == 404
    assert_valid(r.json(), "Error")
    assert "00000000-0000-0000-0000-000000000000" in r.json()["message"]


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/v0.4/nowhere", 404), ("GET", "/v0.4/jobs/", 404), ("GET", "/v0.3/nowhere", 404),
    ("PATCH", "/v0.4/jobs", 405), ("POST", "/v0.4/backends", 405),
])
def test_routing_errors_are_json_and_never_redirect(server: Server, key: str, method: str, path: str,
                                                    status: int) -> None:
    r = httpx.request(method, server.url + path, headers={"Authorization": f"apiKey {key}"})
    assert r.status_code == status
    assert_valid(r.json(), "Error")


def test_body_over_10_mb_is_413(api: httpx.Client) -> None:
    big = bell(metadata={"pad": "x"})
    big["padding"] = "x" * (10 * 1024 * 1024)
    r = api.post("/jobs", json=big)
    assert r.status_code == 413
    assert_valid(r.json(), "Error")
    # the limit also holds when the client does not announce a length
    chunks = (b"x" * 65536 for _ in range(200))
    r = api.post("/jobs", content=chunks)
    assert r.status_code == 413


def test_large_valid_program_is_accepted(api: httpx.Client) -> None:
    gates = [{"gate": "rx", "targets": [q % 10], "rotation": 0.001 * i} for i, q in enumerate(range(40_000))]
    body = bell()
    body["input"] = {"gateset": "qis", "qubits": 10, "circuit": gates}
    r = api.post("/jobs", json=body)
    assert r.status_code == 201, r.text
    job = wait_for(api, r.json()["id"], timeout=120)
    assert job["status"] == "completed" and job["stats"]["gate_counts"]["1q"] == 40_000


def test_unexpected_failure_is_a_json_500_without_internals(tmp_path: Path) -> None:
    data = tmp_path / "data"
    srv = Server(["--data-dir", str(data)], workers=1).start()
    try:
        with srv.client(srv.new_key()) as api:
            job_id = wait_for(api, api.post("/jobs", json=bell()).json()["id"])["id"]
            # Break the database underneath the running server: a real internal failure.
            with sqlite3.connect(data / "qharbor.db") as db:
                db.execute("DROP TABLE results")
            r = api.get(f"/jobs/{job_id}/results/probabilities")
            assert r.status_code == 500
            assert_valid(r.json(), "Error")
            text = r.text.lower()
            assert "sqlite" not in text and "traceback" not in text and "results" not in text
            assert api.get(f"/jobs/{job_id}").status_code == 200  # the server carries on
    finally:
        srv.stop()
