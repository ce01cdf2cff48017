"""Inputs the spec would reject but real clients send (clients.md §8.6–§8.10), each pinned."""

from __future__ import annotations

import httpx
from support import Server, bell, wait_for


def test_boolean_query_values_in_both_spellings(api: httpx.Client) -> None:
    job_id = wait_for(api, api.post("/jobs", json=bell()).json()["id"])["id"]
    for value in ("True", "False", "true", "false"):  # requests vs httpx
        assert api.get(f"/jobs/{job_id}/results/probabilities", params={"sharpen": value}).status_code == 200


def test_unknown_query_parameters_on_a_job_are_ignored(api: httpx.Client) -> None:
    job_id = api.post("/jobs", json=bell()).json()["id"]
    r = api.get(f"/jobs/{job_id}", params={"sharpen": "True", "exclude": "results", "include": "x"})
    assert r.status_code == 200 and r.json()["id"] == job_id


def test_bodiless_requests_with_a_json_content_type(api: httpx.Client) -> None:
    headers = {"Content-Type": "application/json"}
    job_id = api.post("/jobs", json=bell()).json()["id"]
    assert api.put(f"/jobs/{job_id}/status/cancel", headers=headers).status_code == 200
    assert api.delete(f"/jobs/{job_id}", headers=headers).status_code == 200


def test_backend_aliases(api: httpx.Client) -> None:
    qpu = wait_for(api, api.post("/jobs", json=bell(backend="qpu")).json()["id"])
    assert qpu["backend"] == "qpu.aria-1"  # cirq checks backend.startswith("qpu")
    sim = api.post("/jobs", json=bell(backend="ionq_simulator")).json()["id"]
    assert api.get(f"/jobs/{sim}").json()["backend"] == "simulator"


def test_only_v04_statuses_are_emitted(idle_server: Server) -> None:
    with idle_server.client() as api:
        job_id = api.post("/jobs", json=bell()).json()["id"]
        listed = {j["status"] for j in api.get("/jobs", params={"status": "queued"}).json()["jobs"]}
        assert listed <= {"submitted", "ready"} and job_id
        api.put(f"/jobs/{job_id}/status/cancel")
        assert api.get(f"/jobs/{job_id}").json()["status"] == "canceled"


def test_unauthenticated_qubit_probe(server: Server) -> None:
    # qiskit-ionq sizes its backends with a key-less GET (and a python-requests User-Agent).
    r = httpx.get(server.url + "/v0.4/backends/simulator", headers={"User-Agent": "python-requests/2.32"})
    assert r.status_code == 200 and r.json()["qubits"] == 29
