"""cirq-ionq 1.7.0, unmodified."""

from __future__ import annotations

import cirq
import cirq_ionq
import pytest
from support import Server


@pytest.fixture
def service(qharbor: Server, key: str) -> cirq_ionq.Service:
    # cirq-ionq keeps only scheme://host:port of remote_host and adds /v0.4 itself.
    return cirq_ionq.Service(remote_host=qharbor.url, api_key=key, default_target="simulator",
                             max_retry_seconds=10)


def bell() -> cirq.Circuit:
    a, b = cirq.LineQubit.range(2)
    return cirq.Circuit(cirq.H(a), cirq.CNOT(a, b), cirq.measure(a, b, key="m"))


def test_bell_result(service: cirq_ionq.Service) -> None:
    result = service.run(bell(), repetitions=500, seed=11)
    histogram = result.histogram(key="m")
    assert set(histogram) == {0, 3} and sum(histogram.values()) == 500


def test_bit_order_and_measurement_keys(service: cirq_ionq.Service) -> None:
    a, b, c = cirq.LineQubit.range(3)
    circuit = cirq.Circuit(cirq.X(a), cirq.measure(a, key="first"), cirq.measure(b, c, key="rest"))
    result = service.run(circuit, repetitions=50)
    assert result.histogram(key="first") == {1: 50} and result.histogram(key="rest") == {0: 50}


def test_job_lifecycle_by_id(service: cirq_ionq.Service) -> None:
    job = service.create_job(bell(), repetitions=100, name="lifecycle")
    results = job.results()
    again = service.get_job(job.job_id())
    assert again.status() == "completed" and again.name() == "lifecycle"
    assert again.num_qubits() == 2 and again.repetitions() == 100
    assert results.to_cirq_result().histogram(key="m").keys() <= {0, 3}
    assert job.job_id() in {j.job_id() for j in service.list_jobs()}
    job.cancel()
    job.delete()
    with pytest.raises(cirq_ionq.ionq_exceptions.IonQNotFoundException):
        service.get_job(job.job_id())


def test_native_gates(service: cirq_ionq.Service) -> None:
    a, b = cirq.LineQubit.range(2)
    circuit = cirq.Circuit(
        cirq_ionq.GPI2Gate(phi=0.25).on(a), cirq_ionq.GPIGate(phi=0.1).on(b),
        cirq_ionq.MSGate(phi0=0.0, phi1=0.0).on(a, b), cirq_ionq.ZZGate(theta=0.1).on(a, b),
        cirq.measure(a, b, key="m"),
    )
    result = service.run(circuit, repetitions=100)
    assert sum(result.histogram(key="m").values()) == 100


def test_batch(service: cirq_ionq.Service) -> None:
    a = cirq.LineQubit(0)
    flips = [cirq.Circuit(cirq.X(a) if flip else cirq.Z(a), cirq.measure(a, key="m")) for flip in (0, 1)]
    results = service.run_batch(flips, repetitions=20)
    assert [r.histogram(key="m") for r in results] == [{0: 20}, {1: 20}]


def test_current_calibration(service: cirq_ionq.Service) -> None:
    calibration = service.get_current_calibration()
    assert calibration.num_qubits() == 25 and calibration.target() == "qpu.aria-1"
    assert len(calibration.connectivity()) == 25 * 24  # all-to-all, both orders


def ghz(n: int) -> cirq.Circuit:
    qs = cirq.LineQubit.range(n)
    return cirq.Circuit(cirq.H(qs[0]), *(cirq.CNOT(a, b) for a, b in zip(qs, qs[1:])), cirq.measure(*qs, key="m"))


def all_ones() -> cirq.Circuit:
    """Ideally always 0b111; on an emulated QPU a few shots read otherwise."""
    a, b, c = cirq.LineQubit.range(3)
    return cirq.Circuit(cirq.X(a), cirq.X(c), cirq.CNOT(a, b), cirq.measure(a, b, c, key="m"))


def test_noise_model_and_seed_on_the_simulator(service: cirq_ionq.Service, qharbor: Server, key: str) -> None:
    noise = {"model": "aria-1", "seed": 42}
    job = service.create_job(ghz(5), repetitions=2000, noise=noise)
    probabilities = job.results().probabilities()
    assert set(probabilities) > {0, 31}, "noise puts weight outside the two ideal outcomes"
    assert all((p * 2000).is_integer() for p in probabilities.values())  # count / shots, like hardware
    with qharbor.client(key) as api:
        assert api.get(f"/jobs/{job.job_id()}").json()["noise"] == noise
    again = service.create_job(ghz(5), repetitions=2000, noise=noise).results().probabilities()
    assert again == probabilities  # the same seed: the same histogram
    other = service.create_job(ghz(5), repetitions=2000, noise={"model": "aria-1", "seed": 43})
    assert other.results().probabilities() != probabilities
    ideal = service.create_job(ghz(5), repetitions=2000, noise={"model": "ideal"}).results().probabilities()
    assert ideal == pytest.approx({0: 0.5, 31: 0.5})


def test_error_mitigation_and_sharpen_on_an_emulated_qpu(service: cirq_ionq.Service, qharbor: Server,
                                                          key: str) -> None:
    job = service.create_job(all_ones(), repetitions=1000, target="qpu.aria-1",
                             error_mitigation={"debiasing": True})
    averaged = job.results().counts(key="m")
    assert sum(averaged.values()) == 1000 and len(averaged) > 1 and averaged.most_common(1)[0][0] == 7
    assert job.results(sharpen=True).counts(key="m") == {7: 1000}  # each variant votes for 0b111
    with qharbor.client(key) as api:
        ran = api.get(f"/jobs/{job.job_id()}").json()
    assert ran["settings"]["error_mitigation"] == {"debiasing": True}
    assert len(ran["output"]["error_mitigation"]["debiasing"]["variants"]) == 4
    sharpened = service.run(all_ones(), repetitions=1000, target="qpu.aria-1", sharpen=True)
    assert sharpened.histogram(key="m") == {7: 1000}  # QIS with 1000 shots: debiased by default

    plain = service.create_job(all_ones(), repetitions=1000, target="qpu.aria-1",
                               error_mitigation={"debiasing": False})
    counts = plain.results().counts(key="m")
    assert len(counts) > 1 and plain.results(sharpen=True).counts(key="m") == counts
    with qharbor.client(key) as api:
        assert api.get(f"/jobs/{plain.job_id()}").json()["output"] == {"probabilities": "sampled"}  # no variants
