"""Project quotas set by admins: allowed backends (403 naming the backend) and unfinished
jobs at once (429 naming the quota, with Retry-After)."""

from __future__ import annotations

import httpx
from support import Server, bell


def _set(server: Server, project: str, **settings: object) -> None:
    r = httpx.put(f"{server.url}/admin/v1/projects/{project}", json=settings,
                  headers={"Authorization": f"apiKey {server.key}"})
    assert r.status_code == 200, r.text


def test_quotas_bind_submits_clones_and_v03(idle_server: Server) -> None:
    key = idle_server.new_key()
    with idle_server.client(key) as api:
        project = api.get("/whoami").json()["project_id"]
        _set(idle_server, project, allowed_backends=["simulator"], max_unfinished_jobs=2)
        refused = api.post("/jobs", json=bell(backend="qpu.aria-1"))
        assert refused.status_code == 403 and "'qpu.aria-1'" in refused.json()["message"]
        first = api.post("/jobs", json=bell()).json()["id"]
        assert api.post(f"/jobs/{first}/clone", json={}).status_code == 201
        over = api.post("/jobs", json=bell())
        assert over.status_code == 429 and "max_unfinished_jobs of 2" in over.json()["message"]
        assert int(over.headers["retry-after"]) >= 1
        assert api.post(f"/jobs/{first}/clone", json={}).status_code == 429
        v03 = {"target": "simulator", "shots": 10, "input": {"format": "ionq.circuit.v0", "qubits": 1,
                                                             "circuit": [{"gate": "h", "target": 0}]}}
        with httpx.Client(base_url=idle_server.url + "/v0.3", headers=dict(api.headers)) as old:
            assert old.post("/jobs", json=v03).status_code == 429
        api.put(f"/jobs/{first}/status/cancel")  # a finished job frees its place
        assert api.post("/jobs", json=bell()).status_code == 201
        _set(idle_server, project)  # no settings: no limits
        assert api.post("/jobs", json=bell(backend="qpu.aria-1")).status_code == 201
    with idle_server.client(idle_server.new_key()) as other:  # other projects are not bound
        assert other.post("/jobs", json=bell(backend="qpu.aria-1")).status_code == 201
