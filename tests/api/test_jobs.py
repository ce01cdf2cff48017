"""Job lifecycle over real HTTP, on both SQLite and PostgreSQL."""

from __future__ import annotations

import math
from datetime import datetime

import httpx
import pytest
from spec import assert_valid
from support import bell, wait_for


def test_create_returns_201_and_submitted(api: httpx.Client) -> None:
    r = api.post("/jobs", json=bell())
    assert r.status_code == 201
    body = r.json()
    assert_valid(body, "JobCreationResponse")
    assert body["status"] == "submitted" and body["session_id"] is None


def test_job_runs_to_completion_with_timestamps_stats_and_results(api: httpx.Client) -> None:
    job_id = api.post("/jobs", json=bell(name="bell", metadata={"k": "v"})).json()["id"]
    job = wait_for(api, job_id)
    assert_valid(job, "SingleCircuitJob")
    assert job["status"] == "completed" and job["failure"] is None
    submitted, started, completed = (datetime.fromisoformat(job[k]) for k in
                                     ("submitted_at", "started_at", "completed_at"))
    assert submitted <= started <= completed
    assert isinstance(job["execution_duration_ms"], int)
    # The simulator bills no quantum compute time, and says so once the job completed.
    assert job["stats"] == {"qubits": 2, "circuits": 1, "gate_counts": {"1q": 1, "2q": 1},
                            "billed_quantum_compute_time_us": 0}
    assert job["name"] == "bell" and job["metadata"] == {"k": "v"}
    assert job["child_job_ids"] is None and job["parent_job_id"] is None
    url = job["results"]["probabilities"]["url"]
    assert url == f"/v0.4/jobs/{job_id}/results/probabilities"
    probs = httpx.get(str(api.base_url.copy_with(path=url)), headers=api.headers).json()
    assert probs.keys() == {"0", "3"}
    assert probs["0"] == pytest.approx(0.5, abs=1e-12) and probs["3"] == pytest.approx(0.5, abs=1e-12)


def test_unfinished_job_has_no_results_yet(idle_server) -> None:  # type: ignore[no-untyped-def]
    with idle_server.client() as api:
        job_id = api.post("/jobs", json=bell()).json()["id"]
        job = api.get(f"/jobs/{job_id}").json()
        assert_valid(job, "SingleCircuitJob")
        assert job["status"] == "submitted" and job["started_at"] is None and job["results"] == {}
        r = api.get(f"/jobs/{job_id}/results/probabilities")
        assert r.status_code == 404 and "submitted" in r.json()["message"]


def test_multi_circuit_job_has_children_and_nested_results_in_order(api: httpx.Client) -> None:
    circuits = [{"name": f"c{i}", "circuit": [{"gate": "x", "target": i}]} for i in range(4)]
    body = {"type": "ionq.multi-circuit.v1", "backend": "simulator", "shots": 10,
            "input": {"gateset": "qis", "qubits": 4, "circuits": circuits}}
    job_id = api.post("/jobs", json=body).json()["id"]
    job = wait_for(api, job_id)
    assert_valid(job, "MultiCircuitJob")
    assert job["status"] == "completed" and job["stats"]["circuits"] == 4
    children = job["child_job_ids"]
    assert len(children) == 4
    nested = api.get(f"/jobs/{job_id}/results/probabilities").json()
    assert list(nested) == children  # JSON order = submission order
    assert [list(m) for m in nested.values()] == [["1"], ["2"], ["4"], ["8"]]
    child = api.get(f"/jobs/{children[2]}").json()
    assert_valid(child, "SingleCircuitJob")
    assert child["parent_job_id"] == job_id and child["status"] == "completed" and child["name"] == "c2"
    assert api.get(f"/jobs/{children[2]}/results/probabilities").json() == {"4": 1.0}


def test_job_that_cannot_run_fails_with_a_code(api: httpx.Client) -> None:
    # qpu.forte-1 takes 36 qubits, more than the dense simulator's 29: valid input, cannot run.
    body = bell(backend="qpu.forte-1")
    body["input"] = {"gateset": "qis", "qubits": 30, "circuit": [{"gate": "h", "target": 29}]}
    r = api.post("/jobs", json=body)
    assert r.status_code == 201
    job = wait_for(api, r.json()["id"])
    assert job["status"] == "failed"
    assert_valid(job, "SingleCircuitJob")
    assert job["failure"]["code"] == "QuantumCircuitComplexityError"
    assert "29" in job["failure"]["message"]
    assert job["failure"]["message"] == job["failure"]["error"] and job["results"] == {}


def test_dry_run_completes_without_results(api: httpx.Client) -> None:
    job = wait_for(api, api.post("/jobs", json=bell(dry_run=True)).json()["id"])
    assert job["status"] == "completed" and job["dry_run"] is True and job["results"] is None
    assert api.get(f"/jobs/{job['id']}/results/probabilities").status_code == 404


def test_probabilities_sum_to_one_for_a_random_circuit(api: httpx.Client) -> None:
    gates = []
    for layer in range(6):
        gates += [{"gate": "ry", "targets": [q], "rotation": 0.3 * (q + layer + 1)} for q in range(5)]
        gates += [{"gate": "x", "targets": [q + 1], "controls": [q]} for q in range(4)]
    body = bell()
    body["input"] = {"gateset": "qis", "qubits": 5, "circuit": gates}
    job = wait_for(api, api.post("/jobs", json=body).json()["id"])
    probs = api.get(f"/jobs/{job['id']}/results/probabilities").json()
    assert math.isclose(sum(probs.values()), 1.0, abs_tol=1e-9)
    assert all(0 <= int(k) < 32 for k in probs)


def test_clone_runs_the_same_program_with_overrides(api: httpx.Client) -> None:
    source = wait_for(api, api.post("/jobs", json=bell(name="original", dry_run=True)).json()["id"])
    r = api.post(f"/jobs/{source['id']}/clone", json={"name": "copy", "shots": 7})
    assert r.status_code == 201
    assert_valid(r.json(), "JobCreationResponse")
    copy = wait_for(api, r.json()["id"])
    assert copy["name"] == "copy" and copy["shots"] == 7 and copy["dry_run"] is False
    assert api.get(f"/jobs/{copy['id']}/results/probabilities").json() == pytest.approx({"0": 0.5, "3": 0.5})
    assert api.get(f"/jobs/{source['id']}").status_code == 200
    r = api.post(f"/jobs/{source['id']}/clone", json={"backend": "nowhere"})
    assert r.status_code == 400 and r.json()["validation"]["keys"] == ["backend"]


def test_move_replaces_the_original(api: httpx.Client) -> None:
    body = {"type": "ionq.multi-circuit.v1", "backend": "simulator", "dry_run": True,
            "input": {"gateset": "qis", "circuits": [{"circuit": [{"gate": "x", "target": 0}]},
                                                      {"circuit": [{"gate": "x", "target": 1}]}]}}
    source = wait_for(api, api.post("/jobs", json=body).json()["id"])
    moved = wait_for(api, api.post(f"/jobs/{source['id']}/move", json={"backend": "qpu.aria-1"}).json()["id"])
    assert moved["backend"] == "qpu.aria-1" and moved["stats"]["circuits"] == 2
    nested = api.get(f"/jobs/{moved['id']}/results/probabilities").json().values()
    assert [max(m, key=m.get) for m in nested] == ["1", "2"]  # an emulated QPU: mostly, not always
    assert api.get(f"/jobs/{source['id']}").status_code == 404
    assert api.post("/jobs/nope/clone", json={}).status_code == 404
