"""API v0.3 over real HTTP, on both back ends: v0.3 shapes, and one core shared with v0.4.

ionq-v0.3-notes.md is the contract: §2 endpoints, §3–§8 shapes, §12 the projection of
v0.4 jobs. Jobs created through either version are read, listed, canceled and deleted
through the other; metadata, pagination, auth and error rules are checked on both.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from spec import assert_valid
from sqlalchemy import text
from support import Server, bell, wait_for

from qharbor.settings import sqlite_url
from qharbor.store.db import open_engine

BELL_V03 = {
    "target": "simulator",
    "shots": 100,
    "input": {"format": "ionq.circuit.v0", "gateset": "qis", "qubits": 2,
              "circuit": [{"gate": "h", "target": 0}, {"gate": "cnot", "control": 0, "target": 1}]},
}


def bell03(**extra: object) -> dict:
    return {**json.loads(json.dumps(BELL_V03)), **extra}


def multi03(**extra: object) -> dict:
    """qiskit-ionq 0.5.x's multi-circuit shape, per-circuit registers included."""
    return {
        "target": "simulator", "shots": 50, "name": "2 circuits",
        "input": {"format": "ionq.circuit.v0", "gateset": "qis", "qubits": 2, "circuits": [
            {"name": "flip", "circuit": [{"gate": "x", "targets": [0]}], "registers": {"meas_mapped": [0]}},
            {"name": "bell", "circuit": [{"gate": "h", "targets": [0]}, {"gate": "x", "targets": [1], "controls": [0]}],
             "registers": {"meas_mapped": [1, 0]}},
        ]},
        **extra,
    }


@pytest.fixture
def v3(server: Server, key: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url + "/v0.3", headers={"Authorization": f"apiKey {key}"}, timeout=30) as c:
        yield c


def client03(server: Server, key: str) -> httpx.Client:
    return httpx.Client(base_url=server.url + "/v0.3", headers={"Authorization": f"apiKey {key}"}, timeout=30)


def set_row(server: Server, job_id: str, **values: object) -> None:
    """Put a job into a state workers would (running, failed) without racing one."""
    flag, where = server.storage
    url = sqlite_url(Path(where)) if flag == "--data-dir" else where
    engine = open_engine(url)
    try:
        with engine.begin() as conn:
            sets = ", ".join(f"{k} = :{k}" for k in values)
            conn.execute(text(f"UPDATE jobs SET {sets} WHERE id = :id"), {**values, "id": job_id})
    finally:
        engine.dispose()


# -- shapes ------------------------------------------------------------------------------

def test_create_then_read_in_v03_shapes(v3: httpx.Client) -> None:
    before = int(time.time())
    meta = {"qiskit_header": "H4sIA" + "x" * 100, "shots": "100", "sampler_seed": "None"}
    r = v3.post("/jobs", json=bell03(name="bell", metadata=meta, registers={"meas_mapped": [0, 1]},
                                     noise={"model": "ideal", "seed": None}, lang="json"))
    assert r.status_code == 200, r.text
    created = r.json()
    assert set(created) == {"id", "status", "request"} and created["status"] == "ready"
    assert isinstance(created["request"], int) and before <= created["request"] <= time.time()

    job = wait_for(v3, created["id"])
    assert job["status"] == "completed" and job["target"] == "simulator" and job["name"] == "bell"
    assert job["metadata"] == meta and job["shots"] == 100
    assert job["noise"]["model"] == "ideal" and 1 <= job["noise"]["seed"] < 2**31  # the seed drawn for it
    assert job["registers"] == {"meas_mapped": [0, 1]}
    assert job["qubits"] == 2 and job["circuits"] == 1 and job["gate_counts"] == {"1q": 1, "2q": 1}
    assert job["error_mitigation"] == {"debias": False}
    for field in ("request", "start", "response", "execution_time"):
        assert isinstance(job[field], int), field
    assert job["request"] == created["request"] <= job["start"] <= job["response"]
    assert job["results_url"] == f"/v0.3/jobs/{job['id']}/results"
    assert "failure" not in job and "children" not in job
    assert not {"backend", "type", "submitted_at", "stats", "child_job_ids", "results"} & set(job)

    results = v3.get(f"/jobs/{job['id']}/results", params={"sharpen": "false"})
    assert results.status_code == 200
    assert results.json() == pytest.approx({"0": 0.5, "3": 0.5})


def test_multi_circuit_children_results_and_registers(v3: httpx.Client) -> None:
    parent = wait_for(v3, v3.post("/jobs", json=multi03()).json()["id"])
    assert parent["circuits"] == 2 and len(parent["children"]) == 2 and "registers" not in parent
    flip, bell_child = (v3.get(f"/jobs/{c}").json() for c in parent["children"])
    assert flip["registers"] == {"meas_mapped": [0]} and bell_child["registers"] == {"meas_mapped": [1, 0]}
    assert flip["name"] == "flip" and flip["status"] == "completed" and flip["target"] == "simulator"
    results = v3.get(parent["results_url"].removeprefix("/v0.3")).json()
    assert list(results) == parent["children"]  # keyed by child id, in circuit order
    assert results[parent["children"][0]] == pytest.approx({"1": 1.0})
    assert results[parent["children"][1]] == pytest.approx({"0": 0.5, "3": 0.5})


@pytest.mark.parametrize("spelling", ["body-and-lang", "input-list", "no-format"])
def test_other_program_spellings(v3: httpx.Client, spelling: str) -> None:
    circuit = [{"gate": "x", "target": 0}]
    body = {"target": "simulator", "shots": "20"}  # cirq sends shots as a string
    if spelling == "body-and-lang":  # cirq-ionq <= 1.5
        body |= {"lang": "json", "body": {"gateset": "qis", "qubits": 1, "circuit": circuit}}
    elif spelling == "input-list":  # the user manual's list of circuits
        body |= {"input": [{"gateset": "qis", "circuit": circuit}, {"gateset": "qis", "circuit": []}]}
    else:
        body |= {"input": {"qubits": 1, "circuit": circuit}}
    job = wait_for(v3, v3.post("/jobs", json=body).json()["id"])
    assert job["status"] == "completed" and job["shots"] == 20
    first = v3.get(f"/jobs/{job['id']}/results").json()
    if spelling == "input-list":
        assert len(job["children"]) == 2
        first = first[job["children"][0]]
    assert first == {"1": 1.0}


def test_running_status_and_failure_shape(idle_server: Server) -> None:
    key = idle_server.new_key()
    with client03(idle_server, key) as v3, idle_server.client(key) as v4:
        running, failed = (v3.post("/jobs", json=bell03()).json()["id"] for _ in range(2))
        now = time.time()
        set_row(idle_server, running, status="started", started_at=now)
        set_row(idle_server, failed, status="failed", started_at=now, completed_at=now + 1,
                execution_duration_ms=3, failure_code="PreflightError", failure_message="bad gate")
        job = v3.get(f"/jobs/{running}").json()
        assert job["status"] == "running" and job["start"] == int(now) and "response" not in job
        assert "results_url" not in job
        assert v4.get(f"/jobs/{running}").json()["status"] == "started"
        assert [j["id"] for j in v3.get("/jobs", params={"status": "running"}).json()["jobs"]] == [running]
        job = v3.get(f"/jobs/{failed}").json()
        assert job["failure"] == {"error": "bad gate", "code": "PreflightError"}
        assert job["response"] == int(now + 1) and job["execution_time"] == 3
        r = v3.get(f"/jobs/{failed}/results")
        assert r.status_code == 404 and "failed" in r.json()["message"]
        # cancel a running job through v0.3; v0.4 sees it
        assert v3.put(f"/jobs/{running}/status/cancel").json() == {"id": running, "status": "canceled"}
        assert v4.get(f"/jobs/{running}").json()["status"] == "canceled"
        assert "failure" not in v3.get(f"/jobs/{running}").json()


def test_include_and_exclude(v3: httpx.Client) -> None:
    job_id = wait_for(v3, v3.post("/jobs", json=bell03()).json()["id"])["id"]
    assert v3.get(f"/jobs/{job_id}", params={"include": "status,target"}).json() == {
        "id": job_id, "status": "completed", "target": "simulator"}
    excluded = v3.get(f"/jobs/{job_id}", params={"exclude": "metadata,gate_counts"}).json()
    assert "gate_counts" not in excluded and excluded["status"] == "completed"


# -- error mitigation ---------------------------------------------------------------------

def test_debias_is_the_cores_debiasing_setting(server: Server, key: str, v3: httpx.Client) -> None:
    with server.client(key) as v4:
        made3 = v3.post("/jobs", json=bell03(target="qpu.aria-1", shots=600, error_mitigation={"debias": True},
                                             settings={"compilation": {"opt": 1}})).json()["id"]
        assert v4.get(f"/jobs/{made3}").json()["settings"] == {
            "compilation": {"opt": 1}, "error_mitigation": {"debiasing": True}}
        assert v3.get(f"/jobs/{made3}").json()["error_mitigation"] == {"debias": True}
        made4 = v4.post("/jobs", json=bell(backend="qpu.aria-1", shots=600,
                                           settings={"error_mitigation": {"debiasing": True}})).json()["id"]
        assert v3.get(f"/jobs/{made4}").json()["error_mitigation"] == {"debias": True}


def test_debias_echoes_the_effective_state(server: Server, key: str, v3: httpx.Client) -> None:
    """IonQ's defaults and limits, applied at submission: on for QIS QPU jobs of ≥ 500 shots unless
    turned off, off for native-gate jobs unless turned on, never below 500 shots or on the simulator.
    The state shows from submission on (lists too), and is what the job runs: variants iff true."""
    native = {"format": "ionq.circuit.v0", "gateset": "native", "qubits": 2,
              "circuit": [{"gate": "ms", "targets": [0, 1], "phases": [0, 0]}]}
    cases = [
        (bell03(target="qpu.aria-1", shots=600), True),  # the QIS default
        (bell03(target="qpu.aria-1", shots=600, error_mitigation={"debias": False}), False),
        (bell03(target="qpu.aria-1", shots=499, error_mitigation={"debias": True}), False),  # cannot below 500
        (bell03(target="simulator", shots=600, error_mitigation={"debias": True}), False),
        (bell03(target="qpu.aria-1", shots=600, input=native), False),  # the native default
        (bell03(target="qpu.aria-1", shots=600, input=native, error_mitigation={"debias": True}), True),
    ]
    ids = [v3.post("/jobs", json=body).json()["id"] for body, _ in cases]
    expected = [on for _, on in cases]
    assert [v3.get(f"/jobs/{i}").json()["error_mitigation"] for i in ids] == [{"debias": on} for on in expected]
    listed = {j["id"]: j["error_mitigation"]["debias"] for j in v3.get("/jobs").json()["jobs"]}
    assert [listed[i] for i in ids] == expected
    with server.client(key) as v4:
        ran = ["error_mitigation" in wait_for(v4, i)["output"] for i in ids]  # iff debiased
        assert ran == expected
        made4 = v4.post("/jobs", json=bell(backend="qpu.forte-1", shots=800)).json()["id"]
    assert v3.get(f"/jobs/{made4}").json()["error_mitigation"] == {"debias": True}


# -- one core: either version reads, lists, cancels and deletes the other's jobs ----------

def test_v04_jobs_through_v03(server: Server, key: str, v3: httpx.Client) -> None:
    with server.client(key) as v4:
        single = wait_for(v4, v4.post("/jobs", json=bell(name="from v0.4")).json()["id"])
        body = {"type": "ionq.multi-circuit.v1", "backend": "simulator",
                "input": {"gateset": "qis", "circuits": [{"circuit": []}, {"circuit": [{"gate": "x", "target": 0}]}]}}
        multi = wait_for(v4, v4.post("/jobs", json=body).json()["id"])
    job = v3.get(f"/jobs/{single['id']}").json()
    assert job["status"] == "completed" and job["target"] == "simulator" and job["name"] == "from v0.4"
    assert job["execution_time"] == single["execution_duration_ms"] and "registers" not in job
    assert v3.get(f"/jobs/{single['id']}/results").json() == pytest.approx({"0": 0.5, "3": 0.5})
    assert v3.get(f"/jobs/{multi['id']}").json()["children"] == multi["child_job_ids"]
    assert list(v3.get(f"/jobs/{multi['id']}/results").json()) == multi["child_job_ids"]
    listed = [j["id"] for j in v3.get("/jobs").json()["jobs"]]
    assert listed == [multi["id"], single["id"]]
    assert v3.get("/jobs", params=[("id", single["id"])]).json()["jobs"][0]["id"] == single["id"]
    assert v3.put(f"/jobs/{single['id']}/status/cancel").json() == {"id": single["id"], "status": "canceled"}
    assert v3.delete(f"/jobs/{multi['id']}").json() == {"id": multi["id"], "status": "deleted"}
    with server.client(key) as v4:
        assert v4.get(f"/jobs/{single['id']}").json()["status"] == "completed"  # cancel after the end: no-op
        assert v4.get(f"/jobs/{multi['id']}").status_code == 404
        assert all(v4.get(f"/jobs/{c}").status_code == 404 for c in multi["child_job_ids"])


def test_v03_jobs_through_v04(server: Server, key: str, v3: httpx.Client) -> None:
    single = wait_for(v3, v3.post("/jobs", json=bell03(name="from v0.3")).json()["id"])
    multi = wait_for(v3, v3.post("/jobs", json=multi03()).json()["id"])
    with server.client(key) as v4:
        job = v4.get(f"/jobs/{single['id']}").json()
        assert_valid(job, "SingleCircuitJob")
        assert job["backend"] == "simulator" and job["type"] == "ionq.circuit.v1" and job["name"] == "from v0.3"
        assert job["execution_duration_ms"] == single["execution_time"]
        parent = v4.get(f"/jobs/{multi['id']}").json()
        assert parent["type"] == "ionq.multi-circuit.v1" and parent["child_job_ids"] == multi["children"]
        assert v4.get(f"/jobs/{multi['id']}/results/probabilities").json() == v3.get(
            f"/jobs/{multi['id']}/results").json()
        assert [j["id"] for j in v4.get("/jobs").json()["jobs"]] == [multi["id"], single["id"]]
        assert v4.put(f"/jobs/{single['id']}/status/cancel").status_code == 200
        assert v4.delete(f"/jobs/{single['id']}").json() == {"id": single["id"], "status": "deleted"}
    assert v3.get(f"/jobs/{single['id']}").status_code == 404


def test_bulk_cancel_and_delete_across_versions(idle_server: Server) -> None:
    key = idle_server.new_key()
    with client03(idle_server, key) as v3, idle_server.client(key) as v4:
        ids = [v3.post("/jobs", json=bell03()).json()["id"] for _ in range(2)]
        ids += [v4.post("/jobs", json=bell()).json()["id"] for _ in range(2)]
        r = v3.put("/jobs/status/cancel", json={"ids": [ids[0], ids[2]]})
        assert r.status_code == 200 and r.json()["status"] == "canceled"
        assert sorted(r.json()["ids"]) == sorted([ids[0], ids[2]])
        assert v4.put("/jobs/status/cancel", json={"ids": [ids[1]]}).json()["ids"] == [ids[1]]
        assert [v3.get(f"/jobs/{i}", params={"include": "status"}).json()["status"] for i in ids[:3]] == \
            ["canceled"] * 3
        assert v3.get("/jobs", params={"status": "canceled"}).json()["jobs"].__len__() == 3
        r = v3.request("DELETE", "/jobs", json={"ids": [ids[0], ids[3]]})
        assert sorted(r.json()["ids"]) == sorted([ids[0], ids[3]]) and r.json()["status"] == "deleted"
        r = v3.delete("/jobs", params={"ids": ids[1]})  # also documented as a query parameter
        assert r.json() == {"ids": [ids[1]], "status": "deleted"}
        assert v4.request("DELETE", "/jobs", json={"ids": [ids[2]]}).json()["ids"] == [ids[2]]
        assert all(v3.get(f"/jobs/{i}").status_code == 404 for i in ids)
        assert v3.put("/jobs/status/cancel", json={"ids": "x"}).json()["validation"]["keys"] == ["ids"]


# -- validation names v0.3 keys -----------------------------------------------------------

@pytest.mark.parametrize(("change", "keys"), [
    ({"target": "qpu.nowhere"}, ["target"]),
    ({"target": 5}, ["target"]),
    ({"input": {"format": "openqasm", "circuit": []}}, ["input.format"]),
    ({"error_mitigation": {"debias": "yes"}}, ["error_mitigation.debias"]),
    ({"error_mitigation": True}, ["error_mitigation.debias"]),
    ({"registers": [0, 1]}, ["registers"]),
    ({"shots": 0}, ["shots"]),
    ({"noise": {"model": "loud"}}, ["noise.model"]),
    ({"input": {"gateset": "qis", "circuit": [{"gate": "h"}]}}, ["input.circuit[0].targets"]),
    ({"input": None}, ["input"]),
    ({"input": {"format": "nope", "circuit": [{"gate": "frob", "target": 0}]}, "target": "x"},
     ["input.format", "target", "input.circuit[0].gate"]),
])
def test_validation_errors_name_v03_keys(v3: httpx.Client, change: dict, keys: list[str]) -> None:
    r = v3.post("/jobs", json=bell03(**change))
    assert r.status_code == 400, r.text
    body = r.json()
    assert_valid(body, "Error")
    assert body["statusCode"] == 400 and body["error"] == "Bad Request"
    assert sorted(body["validation"]["keys"]) == sorted(keys) and body["validation"]["source"] == "body"
    assert "backend" not in body["message"] and "ionq.circuit.v1" not in body["message"]


def test_validation_keys_follow_the_clients_spelling(v3: httpx.Client) -> None:
    cirq = {"target": "simulator", "lang": "json",
            "body": {"gateset": "qis", "circuits": [{"circuit": []}, {"circuit": [{"gate": "bad", "target": 0}]}]}}
    assert v3.post("/jobs", json=cirq).json()["validation"]["keys"] == ["body.circuits[1].circuit[0].gate"]
    listed = {"input": [{"circuit": []}, {"circuit": [{"gate": "x"}], "registers": 3}]}
    assert sorted(v3.post("/jobs", json=listed).json()["validation"]["keys"]) == [
        "input[1].circuit[0].targets", "input[1].registers"]
    assert v3.post("/jobs", content=b"[1]").json()["validation"]["keys"] == ["body"]
    assert v3.post("/jobs", content=b"{nope").json()["validation"]["keys"] == ["body"]


# -- the seed's rules, identically on both versions --------------------------------------

@pytest.mark.parametrize(("metadata", "field"), [
    ({f"k{i}": "v" for i in range(11)}, "metadata"),
    ({"k" * 41: "v"}, "metadata." + "k" * 41),
    ({"big": "x" * 40_001}, "metadata.big"),
])
def test_metadata_rules_are_the_same(server: Server, key: str, v3: httpx.Client, metadata: dict,
                                     field: str) -> None:
    with server.client(key) as v4:
        r4 = v4.post("/jobs", json=bell(metadata=metadata))
    r3 = v3.post("/jobs", json=bell03(metadata=metadata))
    assert r3.status_code == r4.status_code == 400
    assert r3.json() == r4.json() and r3.json()["validation"]["keys"] == [field]


def test_metadata_at_the_limits_round_trips_byte_exact(server: Server, key: str, v3: httpx.Client) -> None:
    metadata = {f"{i:02d}" + "k" * 38: "é\u2028\"\\" + "x" * 39_996 for i in range(10)}
    job_id = v3.post("/jobs", json=bell03(metadata=metadata)).json()["id"]
    raw = json.dumps(metadata, separators=(",", ":"), ensure_ascii=False)
    assert raw in v3.get(f"/jobs/{job_id}").text
    with server.client(key) as v4:
        assert raw in v4.get(f"/jobs/{job_id}").text


def test_pagination(server: Server, key: str, v3: httpx.Client) -> None:
    ids = [v3.post("/jobs", json=bell03(name=str(i))).json()["id"] for i in range(5)]
    pages, cursor = [], None
    while True:
        body = v3.get("/jobs", params={"limit": 2, **({"next": cursor} if cursor else {})}).json()
        pages.append([j["id"] for j in body["jobs"]])
        if "next" not in body:  # v0.3: the last page carries no `next` at all
            break
        cursor = body["next"]
        assert isinstance(cursor, str) and cursor
    assert [len(p) for p in pages] == [2, 2, 1] and sum(pages, []) == ids[::-1]
    # cirq-ionq <= 1.5 sends its page size as a JSON body on GET
    page = v3.request("GET", "/jobs", content=json.dumps({"limit": 1000}),
                      headers={"Content-Type": "application/json"}).json()
    assert len(page["jobs"]) == 5 and "next" not in page
    # cursors are the core's: a v0.4 cursor pages v0.3 and back
    with server.client(key) as v4:
        first = v4.get("/jobs", params={"limit": 3}).json()
    assert [j["id"] for j in v3.get("/jobs", params={"next": first["next"]}).json()["jobs"]] == ids[1::-1]


@pytest.mark.parametrize(("params", "field"), [({"limit": "0"}, "limit"), ({"limit": "x"}, "limit"),
                                                ({"limit": "1001"}, "limit"), ({"next": "garbage!"}, "next")])
def test_bad_query_is_named_as_on_v04(server: Server, key: str, v3: httpx.Client, params: dict, field: str) -> None:
    r3 = v3.get("/jobs", params=params)
    with server.client(key) as v4:
        r4 = v4.get("/jobs", params=params)
    assert r3.status_code == r4.status_code == 400 and r3.json() == r4.json()
    assert r3.json()["validation"] == {"keys": [field], "source": "query"}


def test_bad_status_filter_names_v03_statuses(v3: httpx.Client) -> None:
    for bad in ("started", "bogus"):
        r = v3.get("/jobs", params={"status": bad})
        assert r.status_code == 400 and r.json()["validation"] == {"keys": ["status"], "source": "query"}
        assert "running" in r.json()["message"] and "started" not in r.json()["message"]


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "apiKey"}, {"Authorization": "apiKey wrong"}, {"Authorization": "Bearer x"}],
)
def test_requests_without_a_valid_key_get_401(server: Server, headers: dict) -> None:
    with httpx.Client(base_url=server.url + "/v0.3", headers=headers) as anon:
        for method, path in [("GET", "/jobs"), ("POST", "/jobs"), ("GET", "/jobs/x"), ("GET", "/jobs/x/results"),
                             ("DELETE", "/jobs/x"), ("PUT", "/jobs/x/status/cancel"), ("PUT", "/jobs/status/cancel"),
                             ("DELETE", "/jobs"), ("GET", "/characterizations/backends/qpu.aria-1/current"),
                             ("GET", "/characterizations/backends/qpu.aria-1"), ("GET", "/characterizations/x"),
                             ("GET", "/calibrations/current")]:
            r = anon.request(method, path)
            assert r.status_code == 401, (method, path)
            assert r.json()["error"] == "Unauthorized" and r.json()["statusCode"] == 401
            assert r.headers["www-authenticate"] == "apiKey"


def test_projects_are_isolated_on_v03(server: Server, v3: httpx.Client) -> None:
    mine = wait_for(v3, v3.post("/jobs", json=bell03()).json()["id"])["id"]
    with client03(server, server.new_key(name="intruder")) as other:
        for method, path in [("GET", f"/jobs/{mine}"), ("GET", f"/jobs/{mine}/results"),
                             ("PUT", f"/jobs/{mine}/status/cancel"), ("DELETE", f"/jobs/{mine}")]:
            r = other.request(method, path)
            assert r.status_code == 404 and mine in r.json()["message"], (method, path)
        assert other.get("/jobs").json() == {"jobs": []}
        assert other.request("DELETE", "/jobs", json={"ids": [mine]}).json()["ids"] == []
    assert v3.get(f"/jobs/{mine}").json()["status"] == "completed"


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/v0.3/nowhere", 404), ("GET", "/v0.3/jobs/", 404), ("PATCH", "/v0.3/jobs", 405),
    ("POST", "/v0.3/backends", 405), ("GET", "/v0.3/jobs/00000000-0000-0000-0000-000000000000", 404),
    ("GET", "/v0.3/jobs/00000000-0000-0000-0000-000000000000/results", 404),
])
def test_errors_are_json_and_never_redirect(server: Server, key: str, method: str, path: str, status: int) -> None:
    r = httpx.request(method, server.url + path, headers={"Authorization": f"apiKey {key}"})
    assert r.status_code == status
    assert_valid(r.json(), "Error")
    assert r.json()["statusCode"] == status


def test_body_over_10_mb_is_413(v3: httpx.Client) -> None:
    big = bell03()
    big["padding"] = "x" * (10 * 1024 * 1024)
    r = v3.post("/jobs", json=big)
    assert r.status_code == 413 and r.json()["statusCode"] == 413


# -- backends and characterizations ----------------------------------------------------------

def test_backends_need_no_key_and_link_characterizations(server: Server, v3: httpx.Client) -> None:
    backends = httpx.get(server.url + "/v0.3/backends").json()
    names = [b["backend"] for b in backends]
    assert names[0] == "simulator" and "qpu.aria-1" in names
    for b in backends:
        assert b["status"] == ("retired" if b["backend"] == "qpu.harmony" else "available")
        assert isinstance(b["last_updated"], int) and b["qubits"] > 0
        assert b["degraded"] is False and isinstance(b["average_queue_time"], int)
        url = b["characterization_url"]  # every backend, the ideal simulator included
        assert url.startswith("/characterizations/")
        found = v3.get(url).json()
        assert found["backend"] == b["backend"] and found["qubits"] == b["qubits"]


def test_characterizations(v3: httpx.Client) -> None:
    current = v3.get("/characterizations/backends/qpu.forte-1/current").json()
    assert isinstance(current["date"], int) and current["qubits"] == 36 and current["backend"] == "qpu.forte-1"
    assert len(current["connectivity"]) == 36 * 35 // 2 and all(len(p) == 2 for p in current["connectivity"])
    assert set(current["fidelity"]) == {"1q", "2q", "spam"}
    assert all(0.9 < f["mean"] <= 1 for f in current["fidelity"].values())
    assert set(current["timing"]) == {"t1", "t2", "1q", "2q", "readout", "reset"}
    assert v3.get(f"/characterizations/{current['id']}").json() == current
    assert v3.get("/characterizations/backends/qpu/current").json()["backend"] == "qpu.aria-1"  # old alias
    history = v3.get("/characterizations/backends/qpu.forte-1", params={"limit": 5, "page": 1}).json()
    assert history == {"characterizations": [current], "pages": 1}
    window = {"start": current["date"] + 1, "end": current["date"] + 100}
    assert v3.get("/characterizations/backends/qpu.forte-1", params=window).json()["characterizations"] == []
    for path, status in [("/characterizations/backends/qpu.nowhere/current", 404),
                         ("/characterizations/00000000-0000-0000-0000-000000000000", 404)]:
        r = v3.get(path)
        assert r.status_code == status and r.json()["statusCode"] == status
    r = v3.get("/characterizations/backends/qpu.forte-1", params={"start": "yesterday", "limit": "0"})
    assert r.status_code == 400 and r.json()["validation"]["keys"] == ["start"]
    r = v3.get("/characterizations/backends/qpu.forte-1", params={"limit": "0"})
    assert r.status_code == 400 and r.json()["validation"]["keys"] == ["limit"]
