"""Every result format: artifacts, legacy result paths, format schemas."""

from __future__ import annotations

import httpx
import pytest
from spec import RESULT_FORMATS as FORMATS
from spec import assert_valid
from support import Server, bell, wait_for


def _done(api: httpx.Client, body: dict) -> dict:
    job = wait_for(api, api.post("/jobs", json=body).json()["id"])
    assert job["status"] == "completed", job["failure"]
    return job


def test_single_circuit_offers_every_format(api: httpx.Client) -> None:
    job = _done(api, bell(shots=500))
    for fmt, schema in FORMATS.items():
        descriptor = job["results"][fmt]
        assert_valid(descriptor, "ArtifactDescriptor")
        body = api.get(f"/jobs/{job['id']}/artifacts/{descriptor['id']}").json()
        assert_valid(body, schema)
        assert api.get(f"/jobs/{job['id']}/artifacts/{descriptor['id']}").json() == body  # stable
    histogram = api.get(job["results"]["histogram"]["url"].removeprefix("/v0.4")).json()
    shots = api.get(job["results"]["shots"]["url"].removeprefix("/v0.4")).json()
    assert sum(histogram.values()) == 500 and set(histogram) <= {"0", "3"}
    assert len(shots) == 500 and {s: shots.count(s) for s in set(shots)} == histogram
    v2 = api.get(f"/jobs/{job['id']}/artifacts/ionq.result.histogram.json.v2").json()
    assert v2["histogram"]["registers"]["output_all"] == {format(int(k), "02b"): c for k, c in histogram.items()}
    per_shot = api.get(f"/jobs/{job['id']}/artifacts/ionq.result.shots.json.v2").json()["shots"]
    assert [s["registers"]["output_all"] for s in per_shot[:5]] == [
        [int(o) & 1, int(o) >> 1 & 1] for o in shots[:5]]


def test_bit_strings_put_qubit_zero_rightmost(api: httpx.Client) -> None:
    body = bell()
    body["input"] = {"gateset": "qis", "qubits": 3, "circuit": [{"gate": "x", "target": 0}]}
    job = _done(api, body)
    v2 = api.get(f"/jobs/{job['id']}/artifacts/ionq.result.probabilities.json.v2").json()
    assert v2 == {"probabilities": {"registers": {"output_all": {"001": 1.0}}}}


def test_a_seed_reproduces_the_histogram(api: httpx.Client) -> None:
    seeded = bell(shots=1000, noise={"model": "ideal", "seed": 1234})
    first, second = _done(api, seeded), _done(api, seeded)
    a, b = (api.get(f"/jobs/{j['id']}/results/histogram").json() for j in (first, second))
    assert a == b and sum(a.values()) == 1000


def _ghz5(**fields: object) -> dict:
    body = bell(shots=2000, **fields)
    body["input"] = {"gateset": "qis", "qubits": 5, "circuit": [{"gate": "h", "target": 0}] + [
        {"gate": "cnot", "control": q, "target": q + 1} for q in range(4)]}
    return body


def _clone(api: httpx.Client, job_id: str, overrides: dict) -> dict:
    r = api.post(f"/jobs/{job_id}/clone", json=overrides)
    assert r.status_code == 201, r.text
    return wait_for(api, r.json()["id"])


def _outcomes(api: httpx.Client, job: dict) -> tuple[dict, list]:
    return (api.get(f"/jobs/{job['id']}/results/histogram").json(),
            api.get(f"/jobs/{job['id']}/results/shots").json())


@pytest.mark.parametrize("fields", [{"noise": {"model": "aria-1"}},
                                    {"noise": {"model": "aria-1", "seed": None}},
                                    {"backend": "qpu.aria-1"}, {}],
                         ids=["noisy", "noisy-null-seed", "emulated-qpu", "ideal"])
def test_a_job_without_a_seed_shows_the_one_it_used_and_replays_with_it(
        server: Server, key: str, api: httpx.Client, fields: dict) -> None:
    """The effective seed is the job's ``noise.seed`` (both versions); sending that ``noise`` back with
    the same program gives the identical histogram and shot list; a clone keeps it too."""
    body = _ghz5(**fields)
    job = _done(api, body)
    assert_valid(job, "SingleCircuitJob")
    noise = job["noise"]
    model = "aria-1" if fields else "ideal"  # on qpu.aria-1 the machine's own model
    assert noise.keys() == {"model", "seed"} and noise["model"] == model
    assert isinstance(noise["seed"], int) and 1 <= noise["seed"] < 2**31
    with httpx.Client(base_url=server.url + "/v0.3", headers={"Authorization": f"apiKey {key}"}) as v3:
        assert v3.get(f"/jobs/{job['id']}").json()["noise"] == noise
    assert api.get("/jobs", params={"ids": job["id"]}).json()["jobs"][0]["noise"] == noise
    first = _outcomes(api, job)
    assert sum(first[0].values()) == 2000

    replay = _done(api, {**body, "noise": noise})
    assert replay["noise"] == noise and _outcomes(api, replay) == first
    clone = _clone(api, job["id"], {"name": "again"})
    assert clone["noise"] == noise and _outcomes(api, clone) == first

    other = _clone(api, job["id"], {"noise": {"model": model, "seed": noise["seed"] ^ 1}})
    assert other["noise"] == {"model": model, "seed": noise["seed"] ^ 1} and _outcomes(api, other) != first
    fresh = _done(api, body)
    assert fresh["noise"]["seed"] != noise["seed"]  # each unseeded submission draws its own


def test_emulated_qpu_answers_with_shot_statistics(api: httpx.Client) -> None:
    job = _done(api, bell(backend="qpu.aria-1", shots=64))
    probabilities = api.get(f"/jobs/{job['id']}/results/probabilities").json()
    histogram = api.get(f"/jobs/{job['id']}/results/histogram").json()
    assert {k: p * 64 for k, p in probabilities.items()} == histogram  # exact count/shots
    assert sum(histogram.values()) == 64


def test_multi_circuit_results(api: httpx.Client) -> None:
    body = {"type": "ionq.multi-circuit.v1", "backend": "simulator", "shots": 30,
            "input": {"gateset": "qis", "circuits": [{"circuit": [{"gate": "x", "target": 0}]},
                                                      {"qubits": 2, "circuit": [{"gate": "x", "target": 1}]}]}}
    job = _done(api, body)
    aggregate = api.get(f"/jobs/{job['id']}/artifacts/ionq.result.probabilities-aggregate.json.v1").json()
    assert_valid(aggregate, "IonqResultProbabilitiesAggregateJsonV1")
    assert list(aggregate) == job["child_job_ids"] and list(aggregate.values()) == [{"1": 1.0}, {"2": 1.0}]
    assert api.get(f"/jobs/{job['id']}/results/probabilities/aggregated").json() == aggregate
    nested = api.get(f"/jobs/{job['id']}/results/histogram").json()
    assert list(nested.values()) == [{"1": 30}, {"2": 30}]
    child = api.get(f"/jobs/{job['child_job_ids'][1]}").json()
    assert api.get(child["results"]["shots"]["url"].removeprefix("/v0.4")).json() == ["2"] * 30


def test_unknown_artifact_is_404(api: httpx.Client) -> None:
    job = _done(api, bell())
    r = api.get(f"/jobs/{job['id']}/artifacts/nope")
    assert r.status_code == 404 and "nope" in r.json()["message"]


@pytest.mark.parametrize("fmt", [*FORMATS, "ionq.result.probabilities-aggregate.json.v1", "ionq.native.v1"])
def test_format_schemas(api: httpx.Client, fmt: str) -> None:
    doc = api.get(f"/schemas/formats/{fmt}").json()
    assert_valid(doc, "FormatSchemaDocument")
    assert doc["$id"] == fmt


def test_unknown_format_schema_is_404(api: httpx.Client) -> None:
    assert api.get("/schemas/formats/ionq.result.nope").status_code == 404


def test_noise_models_on_the_simulator(api: httpx.Client) -> None:
    ghz = bell(shots=2000, noise={"model": "harmony", "seed": 42})
    ghz["input"] = {"gateset": "qis", "qubits": 5, "circuit": [{"gate": "h", "target": 0}] + [
        {"gate": "cnot", "control": q, "target": q + 1} for q in range(4)]}
    job = _done(api, ghz)
    histogram = api.get(f"/jobs/{job['id']}/results/histogram").json()
    assert sum(histogram.values()) == 2000
    assert histogram.keys() > {"0", "31"}  # errors show up beyond the two ideal outcomes
    assert histogram == api.get(f"/jobs/{_done(api, ghz)['id']}/results/histogram").json()  # same seed
    probabilities = api.get(f"/jobs/{job['id']}/results/probabilities").json()
    assert probabilities == {k: c / 2000 for k, c in histogram.items()}
    ideal = _done(api, {**ghz, "noise": {"model": "ideal", "seed": 42}})
    assert api.get(f"/jobs/{ideal['id']}/results/probabilities").json() == pytest.approx({"0": 0.5, "31": 0.5})


def test_noise_model_limits(api: httpx.Client) -> None:
    wide = bell(noise={"model": "harmony"})
    wide["input"] = {"gateset": "qis", "qubits": 12, "circuit": []}
    r = api.post("/jobs", json=wide)
    assert r.status_code == 400 and r.json()["validation"]["keys"] == ["noise.model"] and "11" in r.json()["message"]
    r = api.post("/jobs", json=bell(noise={"model": "loud"}))
    assert r.status_code == 400 and "aria-1" in r.json()["message"]


def test_emulated_qpu_readout_error_and_timing(api: httpx.Client) -> None:
    body = bell(backend="qpu.aria-1", shots=10_000)
    body["input"] = {"gateset": "qis", "qubits": 10, "circuit": []}
    job = _done(api, body)
    histogram = api.get(f"/jobs/{job['id']}/results/histogram").json()
    assert sum(histogram.values()) == 10_000
    # Readout is asymmetric around the characterization's SPAM error e = 0.4 % (engine/debias.py):
    # a 0 reads 1 with 0.5·e, so 0.998^10 ≈ 98.0 % of shots stay all-zero; a 1 reads 0 with 1.5·e.
    assert 9_740 < histogram["0"] < 9_860
    body["input"] = {"gateset": "qis", "qubits": 10, "circuit": [{"gate": "x", "targets": list(range(10))}]}
    ones = api.get(f"/jobs/{_done(api, body)['id']}/results/histogram").json()
    assert 9_300 < ones[str(2**10 - 1)] < 9_530  # 0.994^10 ≈ 94.2 % (and the gates' own errors)
    spam = api.get("/backends/qpu.aria-1/characterizations").json()["characterizations"][0]["fidelity"]["spam"]
    assert spam["median"] == pytest.approx(0.996)
    # The machine's time: 10,000 shots x (readout 300 us + reset 20 us), no gates.
    assert job["execution_duration_ms"] == job["predicted_execution_duration_ms"]
    assert abs(job["execution_duration_ms"] - 3200) <= 1


def test_debiased_qpu_job_records_variants_and_sharpens(api: httpx.Client) -> None:
    """QIS with ≥ 500 shots on a QPU: debiased by default, variants in ``output``; ``sharpen=true``
    reads the plurality vote over the variants, otherwise their average."""
    body = bell(backend="qpu.aria-1", shots=1000)
    body["input"] = {"gateset": "qis", "qubits": 3,
                     "circuit": [{"gate": "x", "targets": [0, 2]}, {"gate": "cnot", "control": 0, "target": 1}]}
    job = _done(api, body)
    assert_valid(job["output"], "CircuitJobOutput")
    debiasing = job["output"]["error_mitigation"]["debiasing"]
    assert debiasing["aggregation_method"] == "average"
    assert len(debiasing["variants"]) == 4 and sum(v["shots"] for v in debiasing["variants"]) == 1000
    assert all(len(set(v["qubit_map"])) == 3 for v in debiasing["variants"])
    averaged = api.get(f"/jobs/{job['id']}/results/probabilities").json()
    assert sum(averaged.values()) == pytest.approx(1) and 0.9 < averaged["7"] < 1
    assert api.get(f"/jobs/{job['id']}/results/probabilities", params={"sharpen": "true"}).json() == {"7": 1.0}
    assert api.get(f"/jobs/{job['id']}/results/probabilities", params={"sharpen": "False"}).json() == averaged
    junk = api.get(f"/jobs/{job['id']}/results/probabilities", params={"sharpen": "yes"})
    assert junk.status_code == 400 and junk.json()["validation"] == {"keys": ["sharpen"], "source": "query"}
    # Off: explicitly, below 500 shots, and always on the simulator.
    for change in ({"settings": {"error_mitigation": {"debiasing": False}}}, {"shots": 499},
                   {"backend": "simulator", "noise": {"model": "aria-1"}}):
        other = _done(api, {**body, **change})
        assert other["output"] == {"probabilities": "sampled"}  # shot counts, no error mitigation
        plain = api.get(f"/jobs/{other['id']}/results/probabilities").json()
        assert api.get(f"/jobs/{other['id']}/results/probabilities", params={"sharpen": "true"}).json() == plain
