"""GET /jobs: keyset pages, newest first, stable while jobs are inserted."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from spec import assert_valid
from support import Server, bell, wait_for


def _all_pages(api: httpx.Client, limit: int, **params: str) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        query = {"limit": str(limit), **params, **({"next": cursor} if cursor else {})}
        body = api.get("/jobs", params=query).json()
        assert_valid(body, "GetJobsResponse")
        pages.append([j["id"] for j in body["jobs"]])
        cursor = body["next"]
        if cursor is None:
            return pages


def test_pages_are_newest_first_and_complete(api: httpx.Client) -> None:
    ids = [api.post("/jobs", json=bell(name=str(i))).json()["id"] for i in range(7)]
    pages = _all_pages(api, 3)
    assert [len(p) for p in pages] == [3, 3, 1]
    assert sum(pages, []) == ids[::-1]


def test_pages_are_stable_while_jobs_are_inserted(api: httpx.Client) -> None:
    ids = [api.post("/jobs", json=bell()).json()["id"] for i in range(6)]
    first = api.get("/jobs", params={"limit": 2}).json()
    api.post("/jobs", json=bell())  # arrives between page reads
    second = api.get("/jobs", params={"limit": 2, "next": first["next"]}).json()
    seen = [j["id"] for j in first["jobs"] + second["jobs"]]
    assert seen == ids[::-1][:4]


def test_filters(api: httpx.Client) -> None:
    done = wait_for(api, api.post("/jobs", json=bell()).json()["id"])["id"]
    other = api.post("/jobs", json=bell(backend="qpu.aria-1")).json()["id"]
    wait_for(api, other)
    assert [j["id"] for j in api.get("/jobs", params={"target": "qpu.aria-1"}).json()["jobs"]] == [other]
    assert {j["id"] for j in api.get("/jobs", params={"status": "completed"}).json()["jobs"]} == {done, other}
    assert api.get("/jobs", params={"status": "queued"}).json()["jobs"] == []
    assert [j["id"] for j in api.get("/jobs", params=[("ids", done)]).json()["jobs"]] == [done]


def test_children_are_listed_by_parent(api: httpx.Client) -> None:
    body = {"type": "ionq.multi-circuit.v1", "backend": "simulator",
            "input": {"gateset": "qis", "circuits": [{"circuit": []}, {"circuit": []}]}}
    parent = api.post("/jobs", json=body).json()["id"]
    children = wait_for(api, parent)["child_job_ids"]
    assert [j["id"] for j in api.get("/jobs").json()["jobs"]] == [parent]
    listed = api.get("/jobs", params={"parent_job_id": parent}).json()["jobs"]
    assert [j["id"] for j in listed] == children[::-1]


@pytest.mark.parametrize(("params", "field"), [({"limit": "0"}, "limit"), ({"limit": "x"}, "limit"),
                                                ({"limit": "1001"}, "limit"), ({"next": "garbage!"}, "next"),
                                                ({"status": "bogus"}, "status")])
def test_bad_query_is_named(api: httpx.Client, params: dict, field: str) -> None:
    r = api.get("/jobs", params=params)
    assert r.status_code == 400
    assert r.json()["validation"] == {"keys": [field], "source": "query"}


def test_last_page_next_is_null_but_absent_for_cirq(server: Server, key: str) -> None:
    """ionq-core needs ``next: null``; cirq-ionq loops forever unless ``next`` is absent."""
    with server.client(key) as api:
        api.post("/jobs", json=bell())
        assert api.get("/jobs").json()["next"] is None
    with server.client(key, **{"User-Agent": "cirq/1.7.0 (python/3.11)"}) as cirq:
        page = cirq.request("GET", "/jobs", content=json.dumps({"limit": 1000}),
                            headers={"Content-Type": "application/json"}).json()
        assert "next" not in page and len(page["jobs"]) == 1


def test_list_entries_are_the_jobs_as_read_one_by_one(api: httpx.Client) -> None:
    """A listed job carries the same fields as ``GET /jobs/{id}`` (``output`` with a debiased run's
    variants included) except ``child_job_ids``, which the spec's list entry (``BaseJob``) lacks."""
    ones = {"gateset": "qis", "qubits": 3, "circuit": [{"gate": "x", "targets": [0, 1, 2]}]}
    multi = {"type": "ionq.multi-circuit.v1", "backend": "qpu.aria-1", "shots": 600,
             "input": {"gateset": "qis", "circuits": [{"circuit": [{"gate": "x", "target": 0}]}]}}
    bodies = [bell(backend="qpu.aria-1", shots=600, input=ones), bell(backend="qpu.aria-1", shots=100, input=ones),
              bell(), multi]
    ids = [wait_for(api, api.post("/jobs", json=b).json()["id"])["id"] for b in bodies]
    page = api.get("/jobs").json()
    assert_valid(page, "GetJobsResponse")
    listed = {j["id"]: j for j in page["jobs"]}
    for job_id in ids:
        single = api.get(f"/jobs/{job_id}").json()
        assert listed[job_id] == {k: v for k, v in single.items() if k != "child_job_ids"}
    debiased = listed[ids[0]]["output"]["error_mitigation"]["debiasing"]
    assert len(debiased["variants"]) == 4 and debiased["aggregation_method"] == "average"
    assert listed[ids[1]]["output"] == {"probabilities": "sampled"}  # < 500 shots: counts, not debiased
    assert listed[ids[2]]["output"] == {"probabilities": "exact", "precision": "double"}  # the ideal simulator
    child = api.get(f"/jobs/{ids[3]}").json()["child_job_ids"][0]
    [entry] = api.get("/jobs", params={"parent_job_id": ids[3]}).json()["jobs"]
    assert "error_mitigation" in entry["output"]
    assert entry["output"] == api.get(f"/jobs/{child}").json()["output"]  # per child, as in GET


def test_a_deleted_job_leaves_the_lists_at_once(server: Server, key: str) -> None:
    """Finished jobs' list entries are memoized; a deleted one must not linger in a page."""
    with server.client(key) as api, httpx.Client(base_url=server.url + "/v0.3",
                                                 headers={"Authorization": f"apiKey {key}"}) as v3:
        ids = [wait_for(api, api.post("/jobs", json=bell()).json()["id"])["id"] for _ in range(3)]
        for client in (api, v3):  # every view's memo holds all three now
            assert [j["id"] for j in client.get("/jobs").json()["jobs"]] == ids[::-1]
        api.delete(f"/jobs/{ids[1]}")
        for client in (api, v3):
            assert [j["id"] for j in client.get("/jobs").json()["jobs"]] == [ids[2], ids[0]]
            assert [j["id"] for j in client.get("/jobs", params={"limit": 1, "ids": ids[1]}).json()["jobs"]] == []


def test_pages_of_every_filter_shape(idle_server: Server) -> None:
    """Queued jobs (two statuses merged), ids (any count), sessions and children page newest
    first to the end, whatever the page size."""
    with idle_server.client(idle_server.new_key()) as api:
        session = api.post("/sessions", json={"backend": "simulator"}).json()["id"]
        ids = [api.post("/jobs", json=bell(session_id=session if i % 2 else None)).json()["id"] for i in range(7)]
        multi = {"type": "ionq.multi-circuit.v1", "backend": "simulator",
                 "input": {"gateset": "qis", "circuits": [{"circuit": []}] * 5}}
        parent = api.post("/jobs", json=multi).json()["id"]
        children = api.get(f"/jobs/{parent}").json()["child_job_ids"]
        top = [parent, *ids[::-1]]
        for size in (1, 2, 3, 25):
            assert sum(_all_pages(api, size, status="queued"), []) == top
            assert sum(_all_pages(api, size, status="submitted"), []) == top
            assert sum(_all_pages(api, size, ids=",".join(ids[:5])), []) == ids[:5][::-1]
            assert sum(_all_pages(api, size, session_id=session), []) == ids[1::2][::-1]
            assert sum(_all_pages(api, size, parent_job_id=parent), []) == children[::-1]
        assert _all_pages(api, 2, status="completed") == [[]]
        assert sum(_all_pages(api, 2, status="queued", session_id=session), []) == ids[1::2][::-1]


@pytest.mark.parametrize("budget", ["0", "20000"])  # none kept; two or three listed jobs (~1 kB each)
def test_reads_are_the_same_whatever_the_render_memo_keeps(tmp_path: Path, budget: str) -> None:
    """``QHARBOR_RENDER_MEMO_BYTES`` bounds the memo, never what is read: with no memo, or one
    too small for a page, every job and every page reads as the jobs themselves, again and again."""
    srv = Server(["--data-dir", str(tmp_path)], workers=1, env={"QHARBOR_RENDER_MEMO_BYTES": budget}).start()
    try:
        with srv.client() as api:
            ids = [api.post("/jobs", json=bell(name=str(i))).json()["id"] for i in range(7)]
            jobs = {i: wait_for(api, i) for i in ids}
            listed = {i: {k: v for k, v in job.items() if k != "child_job_ids"} for i, job in jobs.items()}
            for _ in range(3):
                assert {i: api.get(f"/jobs/{i}").json() for i in ids} == jobs
                pages = [api.get("/jobs", params={"limit": "3"}).json()]
                while pages[-1]["next"] is not None:
                    pages.append(api.get("/jobs", params={"limit": "3", "next": pages[-1]["next"]}).json())
                assert [[j["id"] for j in p["jobs"]] for p in pages] == [ids[::-1][:3], ids[::-1][3:6], ids[:1]]
                assert all(j == listed[j["id"]] for p in pages for j in p["jobs"])
    finally:
        srv.stop()
