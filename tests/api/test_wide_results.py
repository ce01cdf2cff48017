"""Results bounded by what was asked: a wide ideal circuit stores the shots it asked for.

An ideal job keeps its exact probability map while it has at most ``max_exact_outcomes``
(4096) non-zero outcomes; beyond, it stores ``shots`` outcomes drawn once with its seed,
and says so in ``output.probabilities``. Most circuits here are products of ``ry``
rotations (``product_state.py``), whose exact distribution is known in closed form, so
sampled results are checked against it rather than against the engine itself.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import numpy as np
import product_state
import pytest
from spec import RESULT_FORMATS, assert_valid
from support import Server, wait_for

SHOTS = 1000


def _z_score(n: int, histogram: dict[str, int]) -> float:
    return product_state.z_score(n, {int(k): c for k, c in histogram.items()})


def _done(api: httpx.Client, body: dict) -> dict:
    job = wait_for(api, api.post("/jobs", json=body).json()["id"], timeout=120)
    assert job["status"] == "completed", job["failure"]
    return job


def _job(input_: dict, **extra: object) -> dict:
    return {"type": "ionq.circuit.v1", "backend": "simulator", "shots": SHOTS, "input": input_, **extra}


def test_a_wide_ideal_job_stores_its_shots_and_every_format_agrees(api: httpx.Client, server: Server,
                                                                   key: str) -> None:
    n = 22
    job = _done(api, _job(product_state.ionq_input(n)))
    assert job["output"] == {"probabilities": "sampled", "precision": "double"}
    probabilities = api.get(f"/jobs/{job['id']}/results/probabilities").json()
    histogram = api.get(f"/jobs/{job['id']}/results/histogram").json()
    shots = api.get(f"/jobs/{job['id']}/results/shots").json()
    assert len(probabilities) <= SHOTS and sum(histogram.values()) == SHOTS
    assert histogram == {k: round(p * SHOTS) for k, p in probabilities.items()}  # count/shots, read off
    assert len(shots) == SHOTS and {s: shots.count(s) for s in set(shots)} == histogram
    assert abs(_z_score(n, histogram)) < 5
    for fmt, schema in RESULT_FORMATS.items():
        body = api.get(f"/jobs/{job['id']}/artifacts/{fmt}").json()
        assert_valid(body, schema)
        assert api.get(f"/jobs/{job['id']}/artifacts/{fmt}").json() == body  # drawn once: every read agrees
    v2 = api.get(f"/jobs/{job['id']}/artifacts/ionq.result.histogram.json.v2").json()
    assert v2["histogram"]["registers"]["output_all"] == {format(int(k), f"0{n}b"): c for k, c in histogram.items()}
    with httpx.Client(base_url=server.url + "/v0.3", headers={"Authorization": f"apiKey {key}"}) as v3:
        assert v3.get(f"/jobs/{job['id']}/results").json() == probabilities
        assert v3.get(f"/jobs/{job['id']}").json()["status"] == "completed"


def test_the_seed_replays_a_sampled_result(api: httpx.Client) -> None:
    body = _job(product_state.ionq_input(20))
    job = _done(api, body)
    first = api.get(f"/jobs/{job['id']}/results/histogram").json()
    replay = _done(api, {**body, "noise": job["noise"]})
    assert api.get(f"/jobs/{replay['id']}/results/histogram").json() == first
    clone = wait_for(api, api.post(f"/jobs/{job['id']}/clone", json={}).json()["id"])
    assert api.get(f"/jobs/{clone['id']}/results/histogram").json() == first
    other = _done(api, {**body, "noise": {"model": "ideal", "seed": job["noise"]["seed"] ^ 1}})
    assert api.get(f"/jobs/{other['id']}/results/histogram").json() != first


def test_the_exact_map_is_kept_up_to_the_limit(api: httpx.Client) -> None:
    def hadamards(n: int) -> dict:
        return {"gateset": "qis", "qubits": n, "circuit": [{"gate": "h", "targets": list(range(n))}]}

    at_limit = _done(api, _job(hadamards(12)))  # 4096 outcomes
    assert at_limit["output"]["probabilities"] == "exact"
    exact = api.get(f"/jobs/{at_limit['id']}/results/probabilities").json()
    assert len(exact) == 4096 and all(p == pytest.approx(1 / 4096) for p in exact.values())
    assert sum(api.get(f"/jobs/{at_limit['id']}/results/histogram").json().values()) == SHOTS
    over = _done(api, _job(hadamards(13)))  # 8192
    assert over["output"]["probabilities"] == "sampled"
    assert len(api.get(f"/jobs/{over['id']}/results/probabilities").json()) <= SHOTS
    n = 24  # wide, but only two outcomes: exact (a state vector: the rotation makes it no Clifford circuit)
    ghz = {"gateset": "qis", "qubits": n, "circuit": [{"gate": "h", "target": 0}] + [
        {"gate": "cnot", "control": q, "target": q + 1} for q in range(n - 1)] + [
        {"gate": "rz", "target": 3, "rotation": 0.3}]}
    wide_ghz = _done(api, _job(ghz))
    assert wide_ghz["output"] == {"probabilities": "exact", "precision": "double"}
    assert api.get(f"/jobs/{wide_ghz['id']}/results/probabilities").json() == pytest.approx(
        {"0": 0.5, str(2**n - 1): 0.5})


def test_a_multi_circuit_job_says_per_child_what_it_stored(api: httpx.Client) -> None:
    body = {"type": "ionq.multi-circuit.v1", "backend": "simulator", "shots": SHOTS,
            "input": {"gateset": "qis", "qubits": 20, "circuits": [
                {"circuit": product_state.ionq_input(20)["circuit"], "name": "wide"},
                {"circuit": [{"gate": "h", "target": 0}, {"gate": "cnot", "control": 0, "target": 1}], "name": "bell"},
            ]}}
    job = _done(api, body)
    assert job["output"] == {"probabilities": "sampled"}
    wide, bell = job["child_job_ids"]
    assert api.get(f"/jobs/{wide}").json()["output"]["probabilities"] == "sampled"
    assert api.get(f"/jobs/{bell}").json()["output"]["probabilities"] == "exact"
    nested = api.get(f"/jobs/{job['id']}/results/histogram").json()
    assert list(nested) == [wide, bell] and all(sum(h.values()) == SHOTS for h in nested.values())
    assert abs(_z_score(20, nested[wide])) < 5
    probabilities = api.get(f"/jobs/{job['id']}/results/probabilities").json()
    assert nested[wide] == {k: round(p * SHOTS) for k, p in probabilities[wide].items()}
    assert probabilities[bell] == pytest.approx({"0": 0.5, "3": 0.5})


def test_a_wide_openqasm_program_is_sampled_unless_it_measures_few_qubits(api: httpx.Client) -> None:
    n = 21
    rotations = "".join(f"ry({a!r}) q[{q}];\n" for q, a in enumerate(product_state.angles(n)))
    everything = f"OPENQASM 3.0;\ninclude \"stdgates.inc\";\nqubit[{n}] q;\nbit[{n}] c;\n{rotations}c = measure q;\n"
    job = _done(api, {"type": "ionq.qasm3.v1", "backend": "simulator", "shots": SHOTS,
                      "input": {"data": everything}})
    assert job["output"] == {"probabilities": "sampled"}
    histogram = api.get(f"/jobs/{job['id']}/results/histogram").json()
    assert sum(histogram.values()) == SHOTS and abs(_z_score(n, histogram)) < 5
    few = (f"OPENQASM 3.0;\ninclude \"stdgates.inc\";\nqubit[{n}] q;\nbit[2] c;\n{rotations}"
           f"c[0] = measure q[3];\nc[1] = measure q[17];\n")
    job = _done(api, {"type": "ionq.qasm3.v1", "backend": "simulator", "shots": SHOTS, "input": {"data": few}})
    assert job["output"] == {"probabilities": "exact"}  # a marginal over two qubits: four outcomes
    s3, s17 = (product_state.one(n, q) for q in (3, 17))
    expected = {str(b3 | b17 << 1): (s3 if b3 else 1 - s3) * (s17 if b17 else 1 - s17)
                for b3 in (0, 1) for b17 in (0, 1)}
    assert api.get(f"/jobs/{job['id']}/results/probabilities").json() == pytest.approx(expected, abs=1e-12)


@pytest.fixture(scope="module")
def small_memory_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One worker whose memory share fits a 29-qubit state in single precision (4 GiB) but
    not in double (8 GiB)."""
    srv = Server(["--data-dir", str(tmp_path_factory.mktemp("wide"))], workers=1,
                 env={"QHARBOR_ENGINE_MEMORY_BYTES": str(6 << 30)}).start()
    yield srv
    srv.stop()


def test_the_widest_registers_complete_within_the_worker_memory(small_memory_server: Server) -> None:
    """26 qubits in double precision, 29 (a dense state: 2^29 outcomes) in single, where
    double does not fit this worker's share: each result holds at most the shots asked, and
    follows the circuit's closed-form distribution."""
    with small_memory_server.client(small_memory_server.new_key()) as api:
        job = _done(api, _job(product_state.ionq_input(26)))
        assert job["output"] == {"probabilities": "sampled", "precision": "double"}
        histogram = api.get(f"/jobs/{job['id']}/results/histogram").json()
        assert sum(histogram.values()) == SHOTS and abs(_z_score(26, histogram)) < 5
        job = _done(api, _job(product_state.ionq_input(29)))  # 2^29 outcomes, each with weight
        assert job["output"] == {"probabilities": "sampled", "precision": "single"}
        probabilities = api.get(f"/jobs/{job['id']}/results/probabilities").json()
        assert len(probabilities) <= SHOTS and sum(probabilities.values()) == pytest.approx(1)
        assert len(api.get(f"/jobs/{job['id']}/results/shots").json()) == SHOTS
        assert abs(_z_score(29, {k: round(p * SHOTS) for k, p in probabilities.items()})) < 5


def test_wide_clifford_circuits_are_measured_exactly_from_a_tableau(api: httpx.Client) -> None:
    """A Clifford circuit's outcomes are uniform over an affine subspace: a stabilizer tableau
    gives them exactly at any width, with no state vector (``engine.ideal``)."""
    n = 29
    ghz = {"gateset": "qis", "qubits": n, "circuit": [{"gate": "h", "target": 0}] + [
        {"gate": "cnot", "control": q, "target": q + 1} for q in range(n - 1)] + [{"gate": "s", "target": 5}]}
    job = _done(api, _job(ghz))
    assert job["output"] == {"probabilities": "exact", "precision": "exact"}
    assert api.get(f"/jobs/{job['id']}/results/probabilities").json() == {"0": 0.5, str(2**n - 1): 0.5}
    dense = {"gateset": "qis", "qubits": n, "circuit": [{"gate": "h", "targets": list(range(n))}]}
    job = _done(api, _job(dense))  # uniform over 2^29: the shots, drawn from the subspace
    assert job["output"] == {"probabilities": "sampled", "precision": "exact"}
    probabilities = api.get(f"/jobs/{job['id']}/results/probabilities").json()
    assert len(probabilities) > 990 and sum(probabilities.values()) == pytest.approx(1)
    ones = np.array([[int(k) >> q & 1 for q in range(n)] for k in probabilities]).mean(axis=0)
    assert np.all(np.abs(ones - 0.5) < 0.1)  # every bit a fair coin
