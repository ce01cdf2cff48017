"""``Idempotency-Key`` on submits: one job however often a request is retried, across API
processes, and every retry answered with the first answer."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from support import Server, bell


def _jobs(api: httpx.Client) -> list[str]:
    listed = api.get("/jobs", params={"limit": 100})
    assert listed.status_code == 200, listed.text
    return [j["id"] for j in listed.json()["jobs"]]


def test_a_retried_submit_creates_one_job_and_replays_the_answer(server: Server, api: httpx.Client) -> None:
    key = str(uuid.uuid4())
    first = api.post("/jobs", json=bell(name="once"), headers={"Idempotency-Key": key})
    assert first.status_code == 201 and "idempotent-replayed" not in first.headers
    again = api.post("/jobs", json=bell(name="once"), headers={"Idempotency-Key": key, "x-request-id": "replay-7"})
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert _jobs(api) == [first.json()["id"]]
    # The replay's log line carries its request id.
    assert any("[replay-7]" in line and "replayed" in line for line in server.logs().splitlines())


def test_the_same_key_on_another_request_is_a_422(api: httpx.Client) -> None:
    key = str(uuid.uuid4())
    assert api.post("/jobs", json=bell(shots=10), headers={"Idempotency-Key": key}).status_code == 201
    r = api.post("/jobs", json=bell(shots=11), headers={"Idempotency-Key": key})
    assert r.status_code == 422 and r.json()["validation"]["keys"] == ["Idempotency-Key"]
    # Key order and spacing are not a different request.
    same = {k: bell(shots=10)[k] for k in reversed(list(bell(shots=10)))}
    assert api.post("/jobs", json=same, headers={"Idempotency-Key": key}).headers["idempotent-replayed"] == "true"
    assert len(_jobs(api)) == 1


def test_keys_are_per_project_and_failed_submits_release_them(server: Server, api: httpx.Client) -> None:
    key = str(uuid.uuid4())
    bad = api.post("/jobs", json=bell(shots=-1), headers={"Idempotency-Key": key})
    assert bad.status_code == 400
    good = api.post("/jobs", json=bell(), headers={"Idempotency-Key": key})
    assert good.status_code == 201 and "idempotent-replayed" not in good.headers
    with server.client(server.new_key()) as other:
        theirs = other.post("/jobs", json=bell(), headers={"Idempotency-Key": key})
        assert theirs.status_code == 201 and theirs.json()["id"] != good.json()["id"]


def test_clone_move_sessions_and_v03_submits_take_keys(server: Server, api: httpx.Client) -> None:
    original = api.post("/jobs", json=bell()).json()["id"]
    for path, body in [(f"/jobs/{original}/clone", {}), ("/sessions", {"backend": "simulator"})]:
        key = str(uuid.uuid4())
        a = api.post(path, json=body, headers={"Idempotency-Key": key})
        b = api.post(path, json=body, headers={"Idempotency-Key": key})
        assert a.status_code == b.status_code == 201, (path, a.text)
        assert a.json() == b.json() and b.headers["idempotent-replayed"] == "true"
    key = str(uuid.uuid4())
    moved = [api.post(f"/jobs/{original}/move", json={}, headers={"Idempotency-Key": key}) for _ in range(2)]
    assert moved[0].status_code == moved[1].status_code == 201 and moved[0].json() == moved[1].json()
    v03 = {"target": "simulator", "shots": 10, "input": {"format": "ionq.circuit.v0", "qubits": 1,
                                                         "circuit": [{"gate": "h", "target": 0}]}}
    key = str(uuid.uuid4())
    with httpx.Client(base_url=server.url + "/v0.3", headers=dict(api.headers)) as old:
        a, b = (old.post("/jobs", json=v03, headers={"Idempotency-Key": key}) for _ in range(2))
    assert a.status_code == b.status_code == 200 and a.json() == b.json()
    assert b.headers["idempotent-replayed"] == "true"


@pytest.mark.parametrize("malformed", ["has space", "x" * 256, ""])
def test_a_malformed_key_is_a_400_naming_the_header(api: httpx.Client, malformed: str) -> None:
    r = api.post("/jobs", json=bell(), headers={"Idempotency-Key": malformed})
    assert r.status_code == 400 and r.json()["validation"]["keys"] == ["Idempotency-Key"]
    assert _jobs(api) == []


def test_twenty_concurrent_copies_across_two_processes_make_one_job(two_apis: list[Server]) -> None:
    key = str(uuid.uuid4())
    clients = [s.client() for s in two_apis]

    def post(i: int) -> httpx.Response:
        return clients[i % 2].post("/jobs", json=bell(name="raced"), headers={"Idempotency-Key": key})

    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(post, range(20)))
    created = [r for r in answers if r.status_code == 201]
    assert {r.status_code for r in answers} <= {201, 409}, [r.text for r in answers]
    assert len({r.json()["id"] for r in created}) == 1
    assert sum("idempotent-replayed" not in r.headers for r in created) == 1
    listed = [_jobs(c) for c in clients]
    assert listed[0] == listed[1] == [created[0].json()["id"]]
    for c in clients:
        c.close()
