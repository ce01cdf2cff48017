"""Backends' characterizations, cost estimates, job cost, cirq's calibration path."""

from __future__ import annotations

import httpx
import pytest
from spec import assert_valid, errors
from support import Server, bell, wait_for


@pytest.mark.parametrize("backend", ["qpu.aria-1", "qpu.forte-1", "simulator"])
def test_characterizations_need_no_key(server: Server, backend: str) -> None:
    with httpx.Client(base_url=server.url + "/v0.4") as anon:
        body = anon.get(f"/backends/{backend}/characterizations", params={"limit": 1}).json()
        [current] = body["characterizations"]
        # The spec types timing (seconds) as integers; gate times need fractions, and clients accept them.
        problems = errors(current, {"$ref": "#/components/schemas/Characterization"})
        assert all(p.startswith("$.timing.") and p.endswith("expected integer, got float") for p in problems)
        assert current["backend"] == backend and current["qubits"] > 0 and current["date"].endswith("Z")
        assert 0 < current["fidelity"]["2q"]["median"] <= current["fidelity"]["1q"]["median"] <= 1
        same = anon.get(f"/backends/{backend}/characterizations/{current['id']}").json()
        assert same == current
        assert anon.get(f"/backends/{backend}").json()["characterization_id"] == current["id"]  # qBraid follows it
        assert anon.get(f"/backends/{backend}/characterizations/nope").status_code == 404
        assert anon.get("/backends/nope/characterizations").status_code == 404


def test_characterization_reflects_the_noise_model(server: Server) -> None:
    with httpx.Client(base_url=server.url + "/v0.4") as anon:
        aria = anon.get("/backends/qpu.aria-1/characterizations").json()["characterizations"][0]
        forte = anon.get("/backends/qpu.forte-1/characterizations").json()["characterizations"][0]
    assert forte["fidelity"]["2q"]["median"] > aria["fidelity"]["2q"]["median"]
    assert len(aria["connectivity"]) == 25 * 24 // 2


def test_estimate(api: httpx.Client) -> None:
    r = api.get("/jobs/estimate", params={"backend": "qpu.aria-1", "qubits": 4, "shots": 100,
                                          "1q_gates": 10, "2q_gates": 5, "error_mitigation": "false"})
    assert r.status_code == 200
    body = r.json()
    assert_valid(body, "GetJobEstimateResponse")
    assert body["estimated_total_cost"] == 0 and body["estimated_cost"] == 0 and body["cost_unit"] == "usd"
    # 100 shots x (10 x 135 us + 5 x 600 us + readout + reset)
    assert body["estimated_execution_time"] == pytest.approx(100 * (10 * 0.135 + 5 * 0.6 + 0.32), abs=2)
    r = api.get("/jobs/estimate", params={"backend": "nowhere", "shots": 0})
    assert r.status_code == 400 and set(r.json()["validation"]["keys"]) == {"backend", "shots"}


def test_job_cost(api: httpx.Client) -> None:
    job = wait_for(api, api.post("/jobs", json=bell()).json()["id"])
    body = api.get(f"/jobs/{job['id']}/cost").json()
    assert_valid(body, "GetJobCostResponse")
    assert body == {"dry_run": False, "cost": {"value": 0.0, "unit": "usd"},
                    "estimated_cost": {"value": 0.0, "unit": "usd"}}
    assert api.get("/jobs/nope/cost").status_code == 404


def test_cirq_calibration_path(api: httpx.Client) -> None:
    current = api.get("/calibrations/current").json()
    assert current["target"] == "qpu.aria-1" and "." in current["date"] and current["qubits"] == 25


def test_harmony_is_listed_as_retired_and_takes_no_new_work(server: Server, api: httpx.Client, key: str) -> None:
    """IonQ retired Harmony in 2024: the spec's backend status ``retired``; its record stays readable,
    but jobs, clones, sessions and estimates naming it are refused, naming the field, at both versions."""
    with httpx.Client(base_url=server.url) as anon:
        listed = {b["backend"]: b for b in anon.get("/v0.4/backends").json()}
        harmony = listed.pop("qpu.harmony")
        assert harmony["status"] == "retired" and harmony["qubits"] == 11
        assert harmony["supported_error_mitigations"] == []
        assert {b["status"] for b in listed.values()} == {"available"}
        assert anon.get("/v0.4/backends/qpu.harmony").json() == harmony
        assert {b["backend"]: b["status"] for b in anon.get("/v0.3/backends").json()}["qpu.harmony"] == "retired"
        [record] = anon.get("/v0.4/backends/qpu.harmony/characterizations").json()["characterizations"]
        assert record["qubits"] == 11
    done = wait_for(api, api.post("/jobs", json=bell()).json()["id"])
    refused = [
        api.post("/jobs", json=bell(backend="qpu.harmony")),
        api.post(f"/jobs/{done['id']}/clone", json={"backend": "qpu.harmony"}),
        api.post("/sessions", json={"backend": "qpu.harmony"}),
        api.get("/jobs/estimate", params={"backend": "qpu.harmony"}),
    ]
    for r in refused:
        assert r.status_code == 400 and r.json()["validation"]["keys"] == ["backend"], r.text
        assert "retired" in r.json()["message"] and "qpu.aria-1" in r.json()["message"]
    with httpx.Client(base_url=server.url + "/v0.3", headers={"Authorization": f"apiKey {key}"}) as v3:
        r = v3.post("/jobs", json={"target": "qpu.harmony", "input": {"qubits": 1, "circuit": []}})
    assert r.status_code == 400 and r.json()["validation"]["keys"] == ["target"] and "retired" in r.json()["message"]
