"""``ionq.qasm3.v1`` jobs over HTTP: named registers, mid-circuit measurement, reset, feed-forward."""

from __future__ import annotations

import httpx
import pytest
from spec import RESULT_FORMATS as FORMATS
from spec import assert_valid
from support import Server, wait_for
from support import run_job as run

HEADER = 'OPENQASM 3.0;\ninclude "stdgates.inc";\n'



def qasm3(source: str, **extra: object) -> dict:
    body: dict = {"type": "ionq.qasm3.v1", "backend": "simulator", "shots": 200,
                  "input": {"data": HEADER + source},
                  "settings": {"compilation": {"service_version": "v0.4"}}}
    body.update(extra)
    return body


def artifact(api: httpx.Client, job: dict, fmt: str) -> dict:
    descriptor = job["results"][fmt]
    response = api.get(f"/jobs/{job['id']}/artifacts/{descriptor['id']}")
    assert response.status_code == 200, response.text
    return response.json()


def registers(api: httpx.Client, job: dict) -> list[dict[str, list[int]]]:
    return [shot["registers"] for shot in artifact(api, job, "ionq.result.shots.json.v2")["shots"]]


def test_bell_with_a_named_register_offers_every_format(api: httpx.Client) -> None:
    job = run(api, qasm3("qubit[2] q;\nbit[2] c;\nh q[0];\ncx q[0], q[1];\nc = measure q;\n", shots=500))
    assert job["type"] == "ionq.qasm3.v1" and job["stats"]["qubits"] == 2
    assert job["stats"]["gate_counts"] == {"1q": 1, "2q": 1}
    for fmt, schema in FORMATS.items():
        assert_valid(job["results"][fmt], "ArtifactDescriptor")
        body = artifact(api, job, fmt)
        assert_valid(body, schema)
        assert artifact(api, job, fmt) == body  # stable across reads
    assert api.get(f"/jobs/{job['id']}/results/probabilities").json() == pytest.approx({"0": 0.5, "3": 0.5})
    probabilities = artifact(api, job, "ionq.result.probabilities.json.v2")["probabilities"]["registers"]
    assert probabilities["c"] == pytest.approx({"00": 0.5, "11": 0.5})
    assert probabilities["output_all"] == pytest.approx({"00": 0.5, "11": 0.5})
    histogram = artifact(api, job, "ionq.result.histogram.json.v2")["histogram"]["registers"]
    assert sum(histogram["c"].values()) == 500 and set(histogram["c"]) == {"00", "11"}
    shots = registers(api, job)
    assert len(shots) == 500
    assert all(s["c"] in ([0, 0], [1, 1]) and s["output_all"] == s["c"] for s in shots)
    assert sum(s["c"] == [1, 1] for s in shots) == histogram["c"]["11"]
    v1 = api.get(f"/jobs/{job['id']}/results/shots").json()
    assert [int(o) for o in v1] == [s["c"][0] + 2 * s["c"][1] for s in shots]


def test_ghz_over_several_registers(api: httpx.Client) -> None:
    job = run(api, qasm3("qubit[3] q;\nbit[2] a;\nbit b;\nh q[0];\ncx q[0], q[1];\ncx q[1], q[2];\n"
                         "a[0] = measure q[0];\na[1] = measure q[1];\nb = measure q[2];\n"))
    probabilities = artifact(api, job, "ionq.result.probabilities.json.v2")["probabilities"]["registers"]
    assert probabilities["a"] == pytest.approx({"00": 0.5, "11": 0.5})
    assert probabilities["b"] == pytest.approx({"0": 0.5, "1": 0.5})
    assert probabilities["output_all"] == pytest.approx({"000": 0.5, "111": 0.5})
    for shot in registers(api, job):
        assert shot["a"] in ([0, 0], [1, 1]) and shot["b"] == [shot["a"][0]]
        assert shot["output_all"] == shot["a"] + shot["b"]


def test_mid_circuit_measurement_then_reset_is_deterministic(api: httpx.Client) -> None:
    source = ("qubit[2] q;\nbit[3] c;\nx q[0];\nc[0] = measure q[0];\nreset q[0];\nc[1] = measure q[0];\n"
              "x q[0];\ncx q[0], q[1];\nc[2] = measure q[1];\n")
    job = run(api, qasm3(source, shots=50))
    assert {tuple(s["c"]) for s in registers(api, job)} == {(1, 0, 1)}
    assert api.get(f"/jobs/{job['id']}/results/histogram").json() == {"5": 50}


def test_reset_of_a_superposition_and_repeated_measurement(api: httpx.Client) -> None:
    source = ("qubit[1] q;\nbit[3] c;\nh q[0];\nc[0] = measure q[0];\nc[1] = measure q[0];\n"
              "reset q[0];\nc[2] = measure q[0];\n")
    job = run(api, qasm3(source, shots=400))
    shots = registers(api, job)
    assert all(s["c"][0] == s["c"][1] and s["c"][2] == 0 for s in shots)
    ones = sum(s["c"][0] for s in shots)
    assert 120 < ones < 280


def test_feed_forward(api: httpx.Client) -> None:
    # Teleport-style correction: q[1] ends as |1> whatever q[0] measured.
    source = ("qubit[2] q;\nbit m;\nbit[1] out;\nh q[0];\nm = measure q[0];\n"
              "if (m == 1) { x q[1]; } else { x q[1]; }\n"
              "if (m) { z q[1]; }\nout[0] = measure q[1];\n")
    job = run(api, qasm3(source, shots=300))
    shots = registers(api, job)
    assert {s["out"][0] for s in shots} == {1} and {s["m"][0] for s in shots} == {0, 1}
    # a conditional that copies the measured bit onto another qubit
    job = run(api, qasm3("qubit[2] q;\nbit[2] c;\nh q[0];\nc[0] = measure q[0];\n"
                         "if (c[0] == 1) x q[1];\nc[1] = measure q[1];\n", shots=300))
    histogram = artifact(api, job, "ionq.result.histogram.json.v2")["histogram"]["registers"]["c"]
    assert set(histogram) == {"00", "11"} and sum(histogram.values()) == 300


def test_a_seed_reproduces_dynamic_results(api: httpx.Client) -> None:
    source = "qubit[2] q;\nbit[2] c;\nh q;\nc[0] = measure q[0];\nreset q[0];\nh q[0];\nc[1] = measure q[0];\n"
    body = qasm3(source, shots=1000, noise={"model": "ideal", "seed": 99})
    first, second = run(api, body), run(api, body)
    assert registers(api, first) == registers(api, second)
    other = run(api, qasm3(source, shots=1000, noise={"model": "ideal", "seed": 100}))
    assert registers(api, other) != registers(api, first)


def test_emulated_qpu_answers_with_counts(api: httpx.Client) -> None:
    job = run(api, qasm3("qubit[2] q;\nbit[2] c;\nh q[0];\ncx q[0], q[1];\nc = measure q;\n",
                         backend="qpu.aria-1", shots=64))
    probabilities = api.get(f"/jobs/{job['id']}/results/probabilities").json()
    histogram = api.get(f"/jobs/{job['id']}/results/histogram").json()
    assert {k: p * 64 for k, p in probabilities.items()} == histogram


def test_static_programs_run_under_the_noise_model(api: httpx.Client) -> None:
    """A static program under a noise model runs the same trajectories as a JSON circuit: noisy
    shots leave the ideal outcomes, and the same seed gives the same histogram."""
    ghz = "qubit[5] q;\nbit[5] c;\nh q[0];\n" + "".join(f"cx q[{i}], q[{i + 1}];\n" for i in range(4))
    body = qasm3(ghz + "c = measure q;\n", shots=2000, noise={"model": "aria-1", "seed": 42})
    job = run(api, body)
    histogram = artifact(api, job, "ionq.result.histogram.json.v2")["histogram"]["registers"]["c"]
    assert sum(histogram.values()) == 2000 and set(histogram) > {"00000", "11111"}
    assert artifact(api, run(api, body), "ionq.result.histogram.json.v2")["histogram"]["registers"]["c"] == histogram
    circuit = {"type": "ionq.circuit.v1", "backend": "simulator", "shots": 2000, "noise": {"model": "aria-1", "seed": 42},
               "input": {"qubits": 5, "circuit": [{"gate": "h", "target": 0}] + [
                   {"gate": "cnot", "control": i, "target": i + 1} for i in range(4)]}}
    same = api.get(f"/jobs/{run(api, circuit)['id']}/results/histogram").json()
    assert api.get(f"/jobs/{job['id']}/results/histogram").json() == same  # the same run as the JSON circuit


def test_dynamic_programs_run_under_the_noise_model(api: httpx.Client) -> None:
    """Feed-forward under harmony's noise: the gate in the taken branch gets its error channel,
    so records the ideal program never gives (c[0] = 1, c[1] = 0) appear; a seed fixes them."""
    source = ("qubit[2] q;\nbit[2] c;\nh q[0];\nc[0] = measure q[0];\n"
              "if (c[0] == 1) x q[1];\nc[1] = measure q[1];\n")
    ideal = run(api, qasm3(source, shots=4000))
    assert set(artifact(api, ideal, "ionq.result.histogram.json.v2")["histogram"]["registers"]["c"]) == {"00", "11"}
    body = qasm3(source, shots=4000, noise={"model": "harmony", "seed": 7})
    job = run(api, body)
    histogram = artifact(api, job, "ionq.result.histogram.json.v2")["histogram"]["registers"]["c"]
    assert sum(histogram.values()) == 4000 and 0 < histogram["01"] < 60 and "10" not in histogram
    assert registers(api, run(api, body)) == registers(api, job)


def test_static_programs_are_debiased_on_an_emulated_qpu(api: httpx.Client, server: Server) -> None:
    """On a QPU a static program gets the machine's systematics, readout and (QIS, ≥ 500 shots)
    debiasing; variants are voted over per classical record, so ``sharpen`` returns the ideal
    record — here q[1] (basis state 2) lands in record bit 2 (register b)."""
    source = "qubit[3] q;\nbit[2] a;\nbit[1] b;\nx q[1];\nb[0] = measure q[1];\na[0] = measure q[0];\na[1] = measure q[2];\n"
    job = run(api, qasm3(source, backend="qpu.aria-1", shots=1000))
    variants = job["output"]["error_mitigation"]["debiasing"]["variants"]
    assert len(variants) == 4 and sum(v["shots"] for v in variants) == 1000
    averaged = api.get(f"/jobs/{job['id']}/results/probabilities").json()
    assert len(averaged) > 1 and 0.9 < averaged["4"] < 1
    sharp = {"sharpen": "true"}
    assert api.get(f"/jobs/{job['id']}/results/probabilities", params=sharp).json() == {"4": 1.0}
    v2 = api.get(f"/jobs/{job['id']}/artifacts/ionq.result.probabilities.json.v2", params=sharp).json()
    assert v2["probabilities"]["registers"] == {"a": {"00": 1.0}, "b": {"1": 1.0}, "output_all": {"100": 1.0}}
    histogram = api.get(f"/jobs/{job['id']}/results/histogram", params=sharp).json()
    assert histogram == {"4": 1000}
    # The machine's time, as for a JSON circuit: gates, readout and reset per shot.
    assert job["execution_duration_ms"] == job["predicted_execution_duration_ms"] > 0
    # Dynamic programs run by shot branching under the machine's depolarizing noise: no variants,
    # and v0.3 reports debias off (aria-1 flips the x in about 1 shot in 4000).
    dynamic = run(api, qasm3("qubit[1] q;\nbit[2] c;\nx q[0];\nc[0] = measure q[0];\nreset q[0];\n"
                             "c[1] = measure q[0];\n", backend="qpu.aria-1", shots=1000))
    assert dynamic["output"] == {"probabilities": "sampled"} and api.get(f"/jobs/{dynamic['id']}/results/histogram").json()["1"] > 990
    v3 = httpx.get(f"{server.url}/v0.3/jobs/{dynamic['id']}", headers=api.headers)
    assert v3.json()["error_mitigation"] == {"debias": False}


def test_gate_definitions_modifiers_and_physical_qubits(api: httpx.Client) -> None:
    source = ("gate mybell a, b { h a; cx a, b; }\n"
              "gate rot(t) a { rx(t) a; }\n"
              "bit[3] c;\nmybell $0, $1;\nrot(pi) $2;\ninv @ rot(-pi) $2;\nctrl @ x $0, $2;\n"
              "c[0] = measure $0;\nc[1] = measure $1;\nc[2] = measure $2;\n")
    job = run(api, qasm3(source))
    # rot(pi) then rot(pi) again is X·X (up to phase); the controlled x copies q0 onto q2
    probabilities = artifact(api, job, "ionq.result.probabilities.json.v2")["probabilities"]["registers"]
    assert probabilities["c"] == pytest.approx({"000": 0.5, "111": 0.5})


def test_no_classical_bits_measures_every_qubit(api: httpx.Client) -> None:
    job = run(api, qasm3("qubit[3] q;\nx q[1];\n"))
    assert api.get(f"/jobs/{job['id']}/results/probabilities").json() == {"2": 1.0}
    assert registers(api, job)[0] == {"output_all": [0, 1, 0]}


@pytest.mark.parametrize(("source", "expected"), [
    ("qubit[2] q;\nbit[2] c;\nfor int i in [0:1] {\n  x q[i];\n}\n", "line 5: 'for' loops are not supported"),
    ("qubit q;\nwhile (true) { x q; }\n", "line 4: 'while' loops are not supported"),
    ("qubit q;\ndef f(qubit a) { x a; }\n", "line 4: subroutine definitions ('def') are not supported"),
    ("qubit q;\nint i = 3;\n", "line 4: classical variables of type 'int' are not supported"),
    ("qubit q;\nfoo q;\n", "line 4: the gate 'foo' is not defined"),
    ("qubit q;\nh q q;\n", "line 4: syntax error"),
    ("qubit q;\npow(0.5) @ x q;\n", "line 4: non-integer 'pow' modifiers are not supported"),
])
def test_unsupported_constructs_are_named(api: httpx.Client, source: str, expected: str) -> None:
    response = api.post("/jobs", json=qasm3(source))
    assert response.status_code == 400, response.text
    body = response.json()
    assert "input.data" in body["message"] and expected in body["message"], body["message"]


def test_input_shape_is_validated(api: httpx.Client) -> None:
    for bad_input, key in [({}, "input.data"), ({"data": 7}, "input.data"), ("x", "input"),
                           ({"data": HEADER + "qubit q;", "qubits": 0}, "input.qubits"),
                           ({"data": "OPENQASM 2.0;\nqreg q[1];"}, "input.data")]:
        body = qasm3("")
        body["input"] = bad_input
        response = api.post("/jobs", json=body)
        assert response.status_code == 400 and key in response.text, (bad_input, response.text)
    wide = api.post("/jobs", json=qasm3("qubit[40] q;\n"))
    assert wide.status_code == 400 and "qubits" in wide.json()["message"]


def test_clone_runs_the_program_again(api: httpx.Client) -> None:
    job = run(api, qasm3("qubit[1] q;\nbit[2] c;\nx q[0];\nc[0] = measure q[0];\nreset q[0];\n"
                         "c[1] = measure q[0];\n", shots=20))
    response = api.post(f"/jobs/{job['id']}/clone", json={"shots": 10})
    assert response.status_code in (200, 201), response.text
    again = wait_for(api, response.json()["id"])
    assert again["type"] == "ionq.qasm3.v1" and again["status"] == "completed"
    assert api.get(f"/jobs/{again['id']}/results/histogram").json() == {"1": 10}
