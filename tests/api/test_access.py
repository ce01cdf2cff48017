"""Authorization, and isolation between the projects of different keys."""

from __future__ import annotations

import time

import httpx
import pytest
from spec import assert_valid
from support import Server, bell, run_cli, wait_for


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "apiKey"}, {"Authorization": "apiKey wrong"}, {"Authorization": "Bearer x"}],
)
def test_requests_without_a_valid_key_get_401(server: Server, key: str, headers: dict) -> None:
    if headers.get("Authorization") == "Bearer x":
        headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=server.url + "/v0.4", headers=headers) as anon:
        for method, path in [("GET", "/jobs"), ("POST", "/jobs"), ("GET", "/whoami"),
                             ("GET", "/jobs/x"), ("DELETE", "/jobs/x"), ("PUT", "/jobs/x/status/cancel")]:
            r = anon.request(method, path)
            assert r.status_code == 401, (method, path)
            body = r.json()
            assert_valid(body, "Error")
            assert body["error"] == "Unauthorized"


def test_backends_need_no_key(server: Server) -> None:
    with httpx.Client(base_url=server.url + "/v0.4") as anon:
        backends = anon.get("/backends").json()
        assert [b["backend"] for b in backends][0] == "simulator"
        for b in backends:
            assert_valid(b, "Backend")
            assert b["qubits"] > 0 and b["last_updated"]
        assert anon.get("/backends/qpu.forte-1").json()["qubits"] == 36
        assert anon.get("/backends/ionq_simulator").json()["backend"] == "simulator"
        r = anon.get("/backends/qpu.nowhere")
        assert r.status_code == 404 and "qpu.nowhere" in r.json()["message"]


def test_whoami(api: httpx.Client) -> None:
    me = api.get("/whoami").json()
    assert_valid(me, "Whoami")
    assert me["key_name"] == "test"


def test_revoked_key_stops_working(server: Server) -> None:
    secret = server.new_key(name="short-lived")
    with server.client(secret) as api:
        key_id = api.get("/whoami").json()["key_id"]
        assert key_id in run_cli("keys", "list", *server.storage)
        run_cli("keys", "revoke", key_id, *server.storage)
        deadline = time.monotonic() + 10  # the API caches keys for a couple of seconds
        while api.get("/whoami").status_code != 401:
            assert time.monotonic() < deadline, "revoked key still accepted"
            time.sleep(0.2)


def test_keys_cannot_see_or_touch_each_others_jobs(server: Server, api: httpx.Client) -> None:
    mine = wait_for(api, api.post("/jobs", json=bell()).json()["id"])["id"]
    with server.client(server.new_key(name="intruder")) as other:
        for method, path in [("GET", f"/jobs/{mine}"), ("GET", f"/jobs/{mine}/results/probabilities"),
                             ("PUT", f"/jobs/{mine}/status/cancel"), ("DELETE", f"/jobs/{mine}")]:
            r = other.request(method, path)
            assert r.status_code == 404, (method, path)
            assert mine in r.json()["message"]
        assert other.get("/jobs").json()["jobs"] == []
        assert other.request("DELETE", "/jobs", json={"ids": [mine]}).json()["ids"] == []
        assert other.put("/jobs/status/cancel", json={"ids": [mine]}).json()["ids"] == []
    assert api.get(f"/jobs/{mine}").json()["status"] == "completed"
    assert api.get(f"/jobs/{mine}/results/probabilities").status_code == 200


def test_keys_in_one_project_share_its_jobs(server: Server, api: httpx.Client) -> None:
    project = api.get("/whoami").json()["project_id"]
    job_id = api.post("/jobs", json=bell()).json()["id"]
    with server.client(server.new_key(name="teammate", project=project)) as mate:
        job = mate.get(f"/jobs/{job_id}").json()
        assert job["project_id"] == project
        assert job["submitter_id"] != mate.get("/whoami").json().get("user_id")
