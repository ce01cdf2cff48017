"""``ionq.qir.v1`` jobs (and v0.3's ``input.format: "qir"``) over HTTP.

Programs come from a real QIR generator (pyqir's ``SimpleModule``), sent as base64 bitcode
and as text IR, and their exact distributions are compared with qiskit's ``Statevector`` of
the same circuit built independently in qiskit. Programs outside the QIR base profile are
refused with a 400 that quotes the instruction.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable

import httpx
import pyqir
import pytest
from pyqir import qis
from qiskit import QuantumCircuit
from qiskit.quantum_info import Statevector
from support import Server, wait_for

N = 3
#: (pyqir call, qiskit call) for each gate of the base profile, on qubits 0..2.
Step = tuple[Callable[[pyqir.Builder, list[pyqir.Value]], None], Callable[[QuantumCircuit], None]]
STEPS: list[Step] = [
    (lambda b, q: qis.h(b, q[0]), lambda c: c.h(0)),
    (lambda b, q: qis.rx(b, 0.7, q[1]), lambda c: c.rx(0.7, 1)),
    (lambda b, q: qis.cx(b, q[0], q[2]), lambda c: c.cx(0, 2)),
    (lambda b, q: qis.ry(b, -1.3, q[2]), lambda c: c.ry(-1.3, 2)),
    (lambda b, q: qis.t(b, q[0]), lambda c: c.t(0)),
    (lambda b, q: qis.s(b, q[1]), lambda c: c.s(1)),
    (lambda b, q: qis.h(b, q[1]), lambda c: c.h(1)),
    (lambda b, q: qis.cz(b, q[1], q[2]), lambda c: c.cz(1, 2)),
    (lambda b, q: qis.rz(b, 2.1, q[2]), lambda c: c.rz(2.1, 2)),
    (lambda b, q: qis.h(b, q[2]), lambda c: c.h(2)),
    (lambda b, q: qis.s_adj(b, q[2]), lambda c: c.sdg(2)),
    (lambda b, q: qis.t_adj(b, q[1]), lambda c: c.tdg(1)),
    (lambda b, q: qis.y(b, q[0]), lambda c: c.y(0)),
    (lambda b, q: qis.swap(b, q[0], q[1]), lambda c: c.swap(0, 1)),
    (lambda b, q: qis.x(b, q[2]), lambda c: c.x(2)),
    (lambda b, q: qis.z(b, q[1]), lambda c: c.z(1)),
    (lambda b, q: qis.rx(b, math.pi / 3, q[0]), lambda c: c.rx(math.pi / 3, 0)),
    (lambda b, q: qis.cx(b, q[2], q[1]), lambda c: c.cx(2, 1)),
    (lambda b, q: qis.h(b, q[0]), lambda c: c.h(0)),
]


def module(measure: list[tuple[int, int]] | None = None,
           extra: Callable[[pyqir.SimpleModule], None] | None = None) -> pyqir.SimpleModule:
    """Every base-profile gate on 3 qubits; ``measure``: (qubit, result) pairs (none: no mz)."""
    m = pyqir.SimpleModule("qharbor", num_qubits=N, num_results=N)
    for step, _ in STEPS:
        step(m.builder, m.qubits)
    for qubit, result in measure or []:
        qis.mz(m.builder, m.qubits[qubit], m.results[result])
    if extra is not None:
        extra(m)
    return m


def reference() -> dict[int, float]:
    """The exact distribution, from qiskit: basis state as an integer, qubit 0 least significant."""
    circuit = QuantumCircuit(N)
    for _, step in STEPS:
        step(circuit)
    return {int(k, 2): p for k, p in Statevector(circuit).probabilities_dict().items() if p > 1e-15}


def bitcode(m: pyqir.SimpleModule) -> str:
    return base64.b64encode(m.bitcode()).decode()


def job(data: str, **extra: object) -> dict:
    return {"type": "ionq.qir.v1", "backend": "simulator", "shots": 1000, "input": {"data": data}, **extra}


def run(api: httpx.Client, body: dict, path: str = "/jobs") -> dict:
    response = api.post(path, json=body)
    assert response.status_code in (200, 201), response.text
    found = wait_for(api, response.json()["id"])
    assert found["status"] == "completed", found["failure"]
    return found


def probabilities(api: httpx.Client, job_id: str) -> dict[int, float]:
    return {int(k): p for k, p in api.get(f"/jobs/{job_id}/results/probabilities").json().items()}


def assert_same(found: dict[int, float], expected: dict[int, float]) -> None:
    assert set(found) <= set(expected)
    for k, p in expected.items():
        assert found.get(k, 0.0) == pytest.approx(p, abs=1e-10), k


@pytest.mark.parametrize("encoding", ["bitcode", "text", "base64 text"])
def test_every_gate_without_measurement_measures_every_qubit(api: httpx.Client, encoding: str) -> None:
    m = module()
    data = {"bitcode": bitcode(m), "text": m.ir(), "base64 text": base64.b64encode(m.ir().encode()).decode()}
    found = run(api, job(data[encoding]))
    assert found["type"] == "ionq.qir.v1" and found["stats"]["qubits"] == N
    assert found["output"]["probabilities"] == "exact"
    assert_same(probabilities(api, found["id"]), reference())


def test_mz_fills_the_results_it_names(api: httpx.Client) -> None:
    """Results, not qubits, make the record: result r is bit r. Qubit 0 goes to result 2,
    qubit 1 to result 0, qubit 2 to result 1; the reference permutes qiskit's bits the same way."""
    placement = [(0, 2), (1, 0), (2, 1)]
    found = run(api, job(bitcode(module(placement))))
    expected: dict[int, float] = {}
    for state, p in reference().items():
        record = sum(((state >> q) & 1) << r for q, r in placement)
        expected[record] = expected.get(record, 0.0) + p
    assert_same(probabilities(api, found["id"]), expected)
    histogram = api.get(f"/jobs/{found['id']}/results/histogram").json()
    assert sum(histogram.values()) == 1000


def test_a_partial_measurement_is_the_marginal(api: httpx.Client) -> None:
    found = run(api, job(module([(2, 0)]).ir()))
    p_one = sum(p for state, p in reference().items() if state & 4)
    assert_same(probabilities(api, found["id"]), {0: 1 - p_one, 1: p_one})


def test_v03_format_qir_is_the_same_program(server: Server, api: httpx.Client, key: str) -> None:
    body = {"target": "simulator", "shots": 500, "qubits": "\x03", "name": "cudaq-like",
            "input": {"format": "qir", "data": bitcode(module())}}
    with server.client(key) as v03:
        v03.base_url = httpx.URL(server.url + "/v0.3")
        created = v03.post("/jobs", json=body)
        assert created.status_code == 200, created.text
        job_id = created.json()["id"]
        for _ in range(60):  # each read waits for the job (a long poll), as CUDA-Q polls with no pause
            listed = v03.get("/jobs", params={"id": job_id}).json()["jobs"]
            if listed[0]["status"] == "completed":
                break
        assert [j["status"] for j in listed] == ["completed"] and listed[0]["qubits"] == N
        results = {int(k): p for k, p in v03.get(f"/jobs/{job_id}/results").json().items()}
    assert_same(results, reference())
    assert api.get(f"/jobs/{job_id}").json()["type"] == "ionq.qir.v1"


@pytest.mark.parametrize("backend,noise", [("simulator", {"model": "aria-1", "seed": 7}), ("qpu.aria-1", None)])
def test_noisy_and_qpu_runs_sample_the_program(api: httpx.Client, backend: str, noise: dict | None) -> None:
    m = pyqir.SimpleModule("ghz", num_qubits=3, num_results=3)
    qis.h(m.builder, m.qubits[0])
    qis.cx(m.builder, m.qubits[0], m.qubits[1])
    qis.cx(m.builder, m.qubits[1], m.qubits[2])
    found = run(api, job(bitcode(m), backend=backend, **({"noise": noise} if noise else {})))
    assert found["output"]["probabilities"] == "sampled"
    histogram = {int(k): c for k, c in api.get(f"/jobs/{found['id']}/results/histogram").json().items()}
    assert sum(histogram.values()) == 1000
    assert histogram.get(0, 0) + histogram.get(7, 0) > 850  # GHZ, with a few percent of errors


def _bad_modules() -> dict[str, tuple[str, str]]:
    """name -> (program, what its 400 must quote)."""
    branching = module([(0, 0)], lambda m: qis.if_result(m.builder, m.results[0], one=lambda: qis.x(m.builder,
                                                                                                    m.qubits[1])))
    unknown = module(extra=lambda m: qis.ccx(m.builder, m.qubits[0], m.qubits[1], m.qubits[2]))
    reset = module(extra=lambda m: qis.reset(m.builder, m.qubits[0]))
    allocate = """
define void @main() #0 {
entry:
  %q = call ptr @__quantum__rt__qubit_allocate()
  call void @__quantum__qis__h__body(ptr %q)
  ret void
}
declare ptr @__quantum__rt__qubit_allocate()
declare void @__quantum__qis__h__body(ptr)
attributes #0 = { "entry_point" "qir_profiles"="base_profile" "requiredQubits"="1" "requiredResults"="0" }
"""
    arithmetic = """
define void @main(double %a) #0 {
entry:
  %b = fmul double %a, 2.0
  call void @__quantum__qis__rx__body(double %b, ptr null)
  ret void
}
declare void @__quantum__qis__rx__body(double, ptr)
attributes #0 = { "entry_point" "requiredQubits"="1" }
"""
    beyond = """
define void @main() #0 {
entry:
  call void @__quantum__qis__x__body(ptr inttoptr (i64 5 to ptr))
  ret void
}
declare void @__quantum__qis__x__body(ptr)
attributes #0 = { "entry_point" "requiredQubits"="2" }
"""
    return {
        "branching": (bitcode(branching), "br i1"),
        "unknown gate": (unknown.ir(), "__quantum__qis__ccx__body"),
        "reset": (bitcode(reset), "__quantum__qis__reset__body"),
        "dynamic allocation": (allocate, "__quantum__rt__qubit_allocate"),
        "arithmetic": (arithmetic, "fmul"),
        "qubit beyond requiredQubits": (beyond, "qubit 5 is beyond"),
        "not IR": ("OPENQASM 3.0; qubit q;", "not valid LLVM IR"),
        "not bitcode": (base64.b64encode(b"\x00\xff" * 8).decode(), "neither LLVM bitcode"),
    }


BAD = _bad_modules()


@pytest.mark.parametrize("name", list(BAD))
def test_outside_the_base_profile_is_a_400_naming_the_instruction(api: httpx.Client, name: str) -> None:
    data, quoted = BAD[name]
    response = api.post("/jobs", json=job(data))
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["validation"]["keys"] == ["input.data"]
    assert quoted in body["message"], body["message"]


def test_missing_and_oversized_programs_are_refused(api: httpx.Client) -> None:
    missing = api.post("/jobs", json={"type": "ionq.qir.v1", "backend": "simulator", "input": {}})
    assert missing.json()["validation"]["keys"] == ["input.data"]
    too_wide = module().ir().replace('"required_num_qubits"="3"', '"required_num_qubits"="40"')
    response = api.post("/jobs", json=job(too_wide))
    assert response.status_code == 400 and "requires 40 qubits" in response.json()["message"]


def test_v03_refuses_an_unknown_format_naming_both(server: Server, key: str) -> None:
    with server.client(key) as v03:
        v03.base_url = httpx.URL(server.url + "/v0.3")
        response = v03.post("/jobs", json={"input": {"format": "qasm", "data": "x"}})
    assert response.status_code == 400
    assert "ionq.circuit.v0" in response.text and "qir" in response.text


def test_a_clone_runs_the_same_program(api: httpx.Client) -> None:
    source = run(api, job(bitcode(module())))
    cloned = api.post(f"/jobs/{source['id']}/clone", json={})
    assert cloned.status_code in (200, 201), cloned.text
    clone = wait_for(api, cloned.json()["id"])
    assert clone["type"] == "ionq.qir.v1" and clone["status"] == "completed"
    assert_same(probabilities(api, clone["id"]), reference())


def test_a_type_that_is_not_a_string_is_a_400(api: httpx.Client) -> None:
    """(schemathesis found a 500 here: an object as ``type`` met a dict lookup.)"""
    response = api.post("/jobs", json={"type": {}, "backend": "simulator", "input": {"data": "x"}})
    assert response.status_code == 400 and "type" in response.json()["validation"]["keys"]


BASE_PROFILE_V1 = """
; QIR 1.0 base profile as the spec's example writes it: typed pointers, four blocks joined by
; unconditional branches, output recording
%Qubit = type opaque
%Result = type opaque

define void @main() #0 {
entry:
  call void @__quantum__rt__initialize(i8* null)
  br label %body

body:
  call void @__quantum__qis__h__body(%Qubit* null)
  call void @__quantum__qis__cnot__body(%Qubit* null, %Qubit* inttoptr (i64 1 to %Qubit*))
  call void @__quantum__qis__x__body(%Qubit* inttoptr (i64 2 to %Qubit*))
  call void @__quantum__qis__rz__body(double 0x3FF921FB54442D18, %Qubit* inttoptr (i64 2 to %Qubit*))
  br label %measurements

measurements:
  call void @__quantum__qis__mz__body(%Qubit* null, %Result* writeonly null)
  call void @__quantum__qis__mz__body(%Qubit* inttoptr (i64 1 to %Qubit*), %Result* writeonly inttoptr (i64 1 to %Result*))
  call void @__quantum__qis__mz__body(%Qubit* inttoptr (i64 2 to %Qubit*), %Result* writeonly inttoptr (i64 2 to %Result*))
  br label %output

output:
  call void @__quantum__rt__array_record_output(i64 3, i8* null)
  call void @__quantum__rt__result_record_output(%Result* null, i8* null)
  call void @__quantum__rt__result_record_output(%Result* inttoptr (i64 1 to %Result*), i8* null)
  call void @__quantum__rt__result_record_output(%Result* inttoptr (i64 2 to %Result*), i8* null)
  ret void
}

declare void @__quantum__rt__initialize(i8*)
declare void @__quantum__qis__h__body(%Qubit*)
declare void @__quantum__qis__cnot__body(%Qubit*, %Qubit*)
declare void @__quantum__qis__x__body(%Qubit*)
declare void @__quantum__qis__rz__body(double, %Qubit*)
declare void @__quantum__qis__mz__body(%Qubit*, %Result* writeonly) #1
declare void @__quantum__rt__array_record_output(i64, i8*)
declare void @__quantum__rt__result_record_output(%Result*, i8*)

attributes #0 = { "entry_point" "qir_profiles"="base_profile" "output_labeling_schema"="schema_id"
                  "requiredQubits"="3" "requiredResults"="3" }
attributes #1 = { "irreversible" }
"""


def test_the_qir_1_base_profile_form(api: httpx.Client) -> None:
    circuit = QuantumCircuit(3)
    circuit.h(0), circuit.cx(0, 1), circuit.x(2), circuit.rz(math.pi / 2, 2)
    expected = {int(k, 2): p for k, p in Statevector(circuit).probabilities_dict().items() if p > 1e-15}
    found = run(api, job(BASE_PROFILE_V1))
    assert found["stats"]["qubits"] == 3 and found["stats"]["gate_counts"] == {"1q": 3, "2q": 1}
    assert_same(probabilities(api, found["id"]), expected)
