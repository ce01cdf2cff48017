"""Bad input gets a 400 naming every invalid item; good input in every client form is accepted."""

from __future__ import annotations

import httpx
import pytest
from spec import assert_valid
from support import Server, bell, wait_for


def _problem(r: httpx.Response) -> dict:
    assert r.status_code == 400, r.text
    body = r.json()
    assert_valid(body, "BadRequestError")
    assert body["statusCode"] == 400 and body["error"] == "Bad Request"
    return body


def test_every_invalid_item_is_named_at_once(api: httpx.Client) -> None:
    body = {
        "type": "ionq.circuit.v1", "backend": "nowhere", "shots": 0, "name": 5, "noise": {"model": "loud"},
        "metadata": {"x" * 41: "v"},
        "input": {"gateset": "qis", "qubits": 2, "circuit": [
            {"gate": "h", "target": 0},
            {"gate": "warp", "target": 0},
            {"gate": "rx", "target": 1},
            {"gate": "cnot", "control": 0, "target": 5},
            {"gate": "swap", "targets": [0, 1], "controls": [2]},
        ]},
    }
    problem = _problem(api.post("/jobs", json=body))
    assert set(problem["validation"]["keys"]) == {
        "backend", "shots", "name", "noise.model", "metadata." + "x" * 41,
        "input.circuit[1].gate", "input.circuit[2].rotation", "input.circuit[3]", "input.circuit[4].controls",
    }
    assert "input.circuit[1].gate" in problem["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"backend": "simulator", "input": {"circuit": []}}, "type"),
        ({"type": "ionq.circuit.v1", "input": {"circuit": []}}, "backend"),
        ({"type": "ionq.circuit.v1", "backend": "simulator"}, "input"),
        ({"type": "ionq.circuit.v1", "backend": "simulator", "input": {"gateset": "qis"}}, "input.circuit"),
        ({"type": "ionq.circuit.v1", "backend": "simulator", "input": {"circuits": []}}, "input.circuits"),
        ({"type": "ionq.multi-circuit.v1", "backend": "simulator", "input": {"circuits": []}}, "input.circuits"),
        ({"type": "ionq.circuit.v1", "backend": "simulator", "shots": 1_000_001, "input": {"circuit": []}}, "shots"),
        ({"type": "ionq.circuit.v1", "backend": "simulator", "shots": True, "input": {"circuit": []}}, "shots"),
        ({"type": "ionq.circuit.v1", "backend": "simulator", "input": {"gateset": "nat", "circuit": []}},
         "input.gateset"),
        ({"type": "ionq.circuit.v1", "backend": "simulator", "input": {"qubits": 30, "circuit": []}}, "input.qubits"),
        ({"type": "ionq.circuit.v1", "backend": "simulator", "input": {"qubits": 0, "circuit": []}}, "input.qubits"),
        ({"type": "ionq.circuit.v1", "backend": "simulator", "noise": {"model": "ideal", "seed": -1},
          "input": {"circuit": []}}, "noise.seed"),
        ({"type": "ionq.circuit.v1", "backend": "simulator", "metadata": ["a"], "input": {"circuit": []}},
         "metadata"),
        ({"type": "ionq.circuit.v1", "backend": "qpu.aria-1", "settings": {"error_mitigation": {"debiasing": "on"}},
          "input": {"circuit": []}}, "settings.error_mitigation.debiasing"),
        ({"type": "ionq.circuit.v1", "backend": "qpu.aria-1", "settings": {"error_mitigation": True},
          "input": {"circuit": []}}, "settings.error_mitigation"),
        ({"type": "ionq.circuit.v1", "backend": "simulator",
          "input": {"gateset": "native", "circuit": [{"gate": "h", "target": 0}]}}, "input.circuit[0].gate"),
        ({"type": "ionq.circuit.v1", "backend": "simulator",
          "input": {"gateset": "native", "circuit": [{"gate": "ms", "targets": [0, 1], "phases": [0]}]}},
         "input.circuit[0].phases"),
        ({"type": "ionq.circuit.v1", "backend": "simulator",
          "input": {"circuit": [{"gate": "x", "targets": [0], "controls": [0]}]}}, "input.circuit[0].controls"),
        ({"type": "ionq.circuit.v1", "backend": "simulator",
          "input": {"circuit": [{"gate": "rx", "targets": [0], "rotation": "NaN"}]}}, "input.circuit[0].rotation"),
        ({"type": "ionq.circuit.v1", "backend": "simulator",
          "input": {"circuit": [{"gate": "pauliexp", "targets": [0, 1], "terms": ["XQ"], "coefficients": [1],
                                 "time": 1}]}}, "input.circuit[0].terms"),
        ({"type": "ionq.circuit.v1", "backend": "simulator",
          "input": {"circuit": [{"gate": "x", "target": 0, "targets": [1]}]}}, "input.circuit[0].target"),
        ({"type": "ionq.circuit.v1", "backend": "simulator", "input": {"circuit": ["h"]}}, "input.circuit[0]"),
    ],
)
def test_invalid_field_is_named(api: httpx.Client, body: dict, field: str) -> None:
    assert field in _problem(api.post("/jobs", json=body))["validation"]["keys"]


def test_body_must_be_a_json_object(api: httpx.Client) -> None:
    assert _problem(api.post("/jobs", content=b"{not json"))["validation"]["keys"] == ["body"]
    assert _problem(api.post("/jobs", json=[1, 2]))["validation"]["keys"] == ["body"]
    assert _problem(api.post("/jobs"))["validation"]["keys"] == ["body"]


METADATA_OK = {f"k{i}": "v" for i in range(10)}


@pytest.mark.parametrize(
    ("metadata", "ok"),
    [
        (METADATA_OK, True),
        ({**METADATA_OK, "k10": "v"}, False),
        ({"n" * 40: "v"}, True),
        ({"n" * 41: "v"}, False),
        ({"big": "é" * 40_000}, True),
        ({"big": "v" * 40_001}, False),
    ],
)
def test_metadata_limits(api: httpx.Client, metadata: dict, ok: bool) -> None:
    r = api.post("/jobs", json=bell(metadata=metadata))
    assert (r.status_code == 201) is ok, r.text
    if not ok:
        assert any(k.startswith("metadata") for k in r.json()["validation"]["keys"])


def test_metadata_is_echoed_verbatim(api: httpx.Client) -> None:
    # cirq's measurement keys carry U+001F/U+001E; qiskit may send non-string values.
    metadata = {"measurement0": "m\u001f0,1\u001em2\u001f2", "unicode": "ψ⟩ 🚀", "flag": True,
                "empty": "", "quote": "\"\\"}
    job_id = api.post("/jobs", json=bell(metadata=metadata)).json()["id"]
    raw = api.get(f"/jobs/{job_id}").content
    assert api.get(f"/jobs/{job_id}").json()["metadata"] == metadata
    assert b'"measurement0":"m\\u001f0,1\\u001em2\\u001f2"' in raw


def test_client_quirks_are_tolerated(api: httpx.Client) -> None:
    """Forms real clients send (clients.md §8.7) are all accepted."""
    body = bell(shots="50", lang="json", noise={"model": "ideal", "seed": None}, extra_param=1)
    body["input"]["circuit"].append({"gate": "z", "targets": [0], "controls": []})
    r = api.post("/jobs", json=body)
    assert r.status_code == 201, r.text
    job = wait_for(api, r.json()["id"])
    assert job["status"] == "completed" and job["shots"] == 50
    # pennylane posts without a Content-Type
    r = api.post("/jobs", content=httpx.Request("POST", "http://x", json=bell()).content,
                 headers={"Content-Type": ""})
    assert r.status_code == 201, r.text


def test_settings_outside_the_spec_are_refused_not_ignored(api: httpx.Client, server: Server, key: str) -> None:
    """A typo in a setting must not silently mean the default: every unknown key is named."""
    body = bell(backend="qpu.aria-1", shots=600, settings={
        "error_mitigation": {"debias": False, "debiasing": False}, "compilation": {"optimisation": 1, "opt": 0},
        "speed": "fast"})
    r = api.post("/jobs", json=body)
    assert r.status_code == 400
    assert sorted(r.json()["validation"]["keys"]) == [
        "settings.compilation.optimisation", "settings.error_mitigation.debias", "settings.speed"]
    symmetry = api.post("/jobs", json=bell(settings={"error_mitigation": {"symmetry_verification": True}}))
    assert symmetry.status_code == 400 and "not emulated" in symmetry.json()["message"]
    assert symmetry.json()["validation"]["keys"] == ["settings.error_mitigation.symmetry_verification"]
    fine = {"error_mitigation": {"symmetry_verification": False, "debiasing": False},
            "compilation": {"opt": 1, "precision": "1E-3", "gate_basis": "qis", "service_version": "v0.4"}}
    job_id = api.post("/jobs", json=bell(settings=fine)).json()["id"]
    clone = api.post(f"/jobs/{job_id}/clone", json={"settings": {"error_mitigation": {"debiasinq": True}}})
    assert clone.status_code == 400 and clone.json()["validation"]["keys"] == ["settings.error_mitigation.debiasinq"]
    with httpx.Client(base_url=server.url + "/v0.3", headers={"Authorization": f"apiKey {key}"}) as v3:
        old = {"target": "simulator", "shots": 10, "input": {"qubits": 1, "circuit": [{"gate": "h", "target": 0}]}}
        r = v3.post("/jobs", json={**old, "error_mitigation": {"debias": False, "debiased": True},
                                   "settings": {"compilaton": {}}})
        assert r.status_code == 400
        assert sorted(r.json()["validation"]["keys"]) == ["error_mitigation.debiased", "settings.compilaton"]
