"""qharbor's ``GET /v0.4/jobs/{id}/program``: the stored program of a job, with the same key and
project scoping as ``GET /jobs/{id}`` (IonQ's API returns no job's input; the console draws it)."""

from __future__ import annotations

import httpx
from support import Server, bell

QASM = 'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[2] q;\nbit[2] c;\nh q[0];\ncx q[0], q[1];\nc = measure q;\n'


def test_a_job_s_program_is_its_project_s_only_and_needs_a_key(server: Server, api: httpx.Client) -> None:
    job_id = api.post("/jobs", json=bell(dry_run=True)).json()["id"]
    mine = api.get(f"/jobs/{job_id}/program")
    assert mine.status_code == 200, mine.text
    assert mine.json() == {"id": job_id, "type": "ionq.circuit.v1", "qubits": 2, "gateset": "qis", "circuit": [
        {"gate": "h", "target": 0}, {"gate": "x", "target": 1, "control": 0}]}

    with server.client(server.new_key(name="stranger")) as other:
        theirs = other.get(f"/jobs/{job_id}/program")
        assert theirs.status_code == 404
        assert theirs.json() == other.get(f"/jobs/{job_id}").json()  # the same 404 as the job itself
    anonymous = httpx.get(f"{server.url}/v0.4/jobs/{job_id}/program")
    assert anonymous.status_code == 401 and anonymous.json()["statusCode"] == 401
    assert api.get("/jobs/no-such-job/program").status_code == 404

    documented = httpx.get(server.url + "/openapi.json").json()["paths"]["/v0.4/jobs/{UUID}/program"]["get"]
    assert documented["security"] == [{"apiKey": []}] and "extension" in documented["summary"]


def test_every_kind_of_program_comes_back_as_stored(api: httpx.Client) -> None:
    native = [{"gate": "gpi2", "target": 0, "phase": 0.25}, {"gate": "ms", "targets": [0, 1], "phases": [0, 0.5]},
              {"gate": "zz", "targets": [0, 1], "angle": 0.125}]
    circuits = [{"name": "a", "circuit": [{"gate": "h", "target": 0}]},
                {"name": "b", "circuit": [{"gate": "rx", "targets": [0, 1], "rotation": 0.5},
                                          {"gate": "x", "controls": [0, 1], "target": 2}]}]
    made = {
        "native": bell(dry_run=True, input={"gateset": "native", "qubits": 2, "circuit": native}),
        "multi": bell(dry_run=True, type="ionq.multi-circuit.v1", input={"gateset": "qis", "qubits": 3,
                                                                          "circuits": circuits}),
        "qasm": {"type": "ionq.qasm3.v1", "backend": "simulator", "dry_run": True, "input": {"data": QASM}},
    }
    ids = {name: api.post("/jobs", json=body).json()["id"] for name, body in made.items()}

    got = api.get(f"/jobs/{ids['native']}/program").json()
    assert got["gateset"] == "native"
    assert got["circuit"] == [{"gate": "gpi2", "target": 0, "phase": 0.25},
                              {"gate": "ms", "targets": [0, 1], "phases": [0, 0.5], "angle": 0.25},
                              {"gate": "zz", "targets": [0, 1], "angle": 0.125}]

    multi = api.get(f"/jobs/{ids['multi']}/program").json()
    children = api.get(f"/jobs/{ids['multi']}").json()["child_job_ids"]
    assert [c["id"] for c in multi["circuits"]] == children and [c["name"] for c in multi["circuits"]] == ["a", "b"]
    assert multi["circuits"][1]["circuit"] == [{"gate": "rx", "targets": [0, 1], "rotation": 0.5},
                                               {"gate": "x", "target": 2, "controls": [0, 1]}]
    child = api.get(f"/jobs/{children[0]}/program").json()  # a child is a job of its own
    assert child["circuit"] == [{"gate": "h", "target": 0}]

    qasm = api.get(f"/jobs/{ids['qasm']}/program").json()
    assert qasm["type"] == "ionq.qasm3.v1" and qasm["qubits"] == 2
    assert qasm["compiled"]["registers"] == [["c", 2]]
    assert [op[0] for op in qasm["compiled"]["ops"]] == ["g", "g", "m", "m"]

    # What comes back is a program a client may submit: resubmitted, it is the same job's program.
    again = api.post("/jobs", json=bell(dry_run=True, input={k: got[k] for k in ("gateset", "qubits", "circuit")}))
    assert api.get(f"/jobs/{again.json()['id']}/program").json()["circuit"] == got["circuit"]
