"""Cancel answers 200 in every state; delete removes a job and its results."""

from __future__ import annotations

import httpx
from spec import assert_valid
from support import Server, bell, wait_for


def test_cancel_a_queued_job_then_cancel_again(idle_server: Server) -> None:
    with idle_server.client() as api:
        job_id = api.post("/jobs", json=bell()).json()["id"]
        for _ in range(2):  # a second cancel is a no-op
            r = api.put(f"/jobs/{job_id}/status/cancel", headers={"Content-Type": "application/json"})
            assert r.status_code == 200
            assert_valid(r.json(), "JobCanceledResponse")
            assert r.json() == {"id": job_id, "status": "canceled"}
        job = api.get(f"/jobs/{job_id}").json()
        assert_valid(job, "SingleCircuitJob")
        assert job["status"] == "canceled" and job["completed_at"] is not None
        assert job["failure"]["error"]  # cirq reads failure.error of a non-completed job


def test_cancel_a_finished_job_is_a_no_op(api: httpx.Client) -> None:
    job_id = wait_for(api, api.post("/jobs", json=bell()).json()["id"])["id"]
    assert api.put(f"/jobs/{job_id}/status/cancel").status_code == 200
    job = api.get(f"/jobs/{job_id}").json()
    assert job["status"] == "completed" and job["failure"] is None


def test_cancel_a_multi_circuit_job_cancels_its_children(idle_server: Server) -> None:
    body = {"type": "ionq.multi-circuit.v1", "backend": "simulator",
            "input": {"gateset": "qis", "circuits": [{"circuit": []}, {"circuit": []}]}}
    with idle_server.client() as api:
        parent = api.post("/jobs", json=body).json()["id"]
        children = api.get(f"/jobs/{parent}").json()["child_job_ids"]
        api.put(f"/jobs/{parent}/status/cancel")
        assert {api.get(f"/jobs/{c}").json()["status"] for c in children} == {"canceled"}


def test_bulk_cancel(idle_server: Server) -> None:
    with idle_server.client(idle_server.new_key()) as api:
        ids = [api.post("/jobs", json=bell()).json()["id"] for _ in range(3)]
        r = api.put("/jobs/status/cancel", json={"ids": ids[:2] + ["not-a-job"]})
        assert r.status_code == 200
        assert_valid(r.json(), "JobsCanceledResponse")
        assert sorted(r.json()["ids"]) == sorted(ids[:2])
        assert [api.get(f"/jobs/{i}").json()["status"] for i in ids] == ["canceled", "canceled", "submitted"]
        assert api.put("/jobs/status/cancel", json={"ids": "x"}).json()["validation"]["keys"] == ["ids"]


def test_delete_removes_job_and_results(api: httpx.Client) -> None:
    job_id = wait_for(api, api.post("/jobs", json=bell()).json()["id"])["id"]
    r = api.delete(f"/jobs/{job_id}")
    assert r.status_code == 200
    assert_valid(r.json(), "JobDeletedResponse")
    assert r.json() == {"id": job_id, "status": "deleted"}
    assert api.get(f"/jobs/{job_id}").status_code == 404
    assert api.get(f"/jobs/{job_id}/results/probabilities").status_code == 404
    assert api.delete(f"/jobs/{job_id}").status_code == 404
    assert job_id not in [j["id"] for j in api.get("/jobs").json()["jobs"]]


def test_delete_multi_circuit_job_removes_children(api: httpx.Client) -> None:
    body = {"type": "ionq.multi-circuit.v1", "backend": "simulator",
            "input": {"gateset": "qis", "circuits": [{"circuit": []}, {"circuit": []}]}}
    parent = wait_for(api, api.post("/jobs", json=body).json()["id"])
    api.delete(f"/jobs/{parent['id']}")
    assert all(api.get(f"/jobs/{c}").status_code == 404 for c in parent["child_job_ids"])


def test_bulk_delete(api: httpx.Client) -> None:
    ids = [api.post("/jobs", json=bell()).json()["id"] for _ in range(3)]
    r = api.request("DELETE", "/jobs", json={"ids": ids[:2]})
    assert r.status_code == 200
    assert_valid(r.json(), "JobsDeletedResponse")
    assert sorted(r.json()["ids"]) == sorted(ids[:2])
    assert [api.get(f"/jobs/{i}").status_code for i in ids] == [404, 404, 200]
