"""qiskit-ionq 1.1.1, unmodified."""

from __future__ import annotations

import time

import httpx
import pytest
from qiskit import QuantumCircuit
from qiskit.quantum_info import Statevector
from qiskit_ionq import ErrorMitigation, IonQProvider


@pytest.fixture
def provider(base_url: str, key: str, monkeypatch: pytest.MonkeyPatch) -> IonQProvider:
    # qiskit-ionq sizes backends by an unauthenticated probe to IONQ_API_URL (clients.md §2.9).
    monkeypatch.setenv("IONQ_API_URL", base_url)
    return IonQProvider(token=key, url=base_url)


def bell() -> QuantumCircuit:
    qc = QuantumCircuit(2, 2, name="bell")
    qc.h(0)
    qc.cx(0, 1)
    qc.measure([0, 1], [0, 1])
    return qc


def ghz(n: int) -> QuantumCircuit:
    qc = QuantumCircuit(n, n, name="ghz")
    qc.h(0)
    for q in range(n - 1):
        qc.cx(q, q + 1)
    qc.measure(range(n), range(n))
    return qc


def all_ones() -> QuantumCircuit:
    """Ideally always ``111``; on an emulated QPU a few shots read otherwise."""
    qc = QuantumCircuit(3, 3, name="ones")
    qc.x([0, 2])
    qc.cx(0, 1)
    qc.measure(range(3), range(3))
    return qc


def stored(base_url: str, key: str, job_id: str) -> dict:
    """The job as the server reports it (what the client sent, and what it ran)."""
    return httpx.get(f"{base_url}/jobs/{job_id}", headers={"Authorization": f"apiKey {key}"}).json()


def test_bell_counts_on_the_ideal_simulator(provider: IonQProvider) -> None:
    backend = provider.get_backend("ionq_simulator")
    start = time.monotonic()
    job = backend.run(bell(), shots=1000, sampler_seed=7)
    counts = job.get_counts()
    assert set(counts) == {"00", "11"} and sum(counts.values()) == 1000
    assert time.monotonic() - start < 4, "the job should be done by the client's first poll"
    assert job.get_probabilities() == pytest.approx({"00": 0.5, "11": 0.5})


def test_bit_order(provider: IonQProvider) -> None:
    qc = QuantumCircuit(3, 3)
    qc.x(0)
    qc.measure(range(3), range(3))
    assert provider.get_backend("ionq_simulator").run(qc, shots=100).get_counts() == {"001": 100}


def test_multi_circuit_job(provider: IonQProvider) -> None:
    ghz = QuantumCircuit(3, 3, name="ghz")
    ghz.h(0), ghz.cx(0, 1), ghz.cx(1, 2)
    ghz.measure(range(3), range(3))
    job = provider.get_backend("ionq_simulator").run([bell(), ghz], shots=200, sampler_seed=3)
    counts = job.get_counts()
    assert set(counts[0]) == {"00", "11"} and set(counts[1]) == {"000", "111"}


def test_native_gates(provider: IonQProvider) -> None:
    from qiskit_ionq import GPI2Gate, GPIGate, MSGate

    qc = QuantumCircuit(2, 2)
    qc.append(GPI2Gate(0.1), [0])
    qc.append(GPIGate(0.3), [1])
    qc.append(MSGate(0.2, 0.05, 0.2), [0, 1])
    qc.append(GPI2Gate(0.7), [1])
    # The reference: qiskit-ionq's own matrices for its gates (phases in turns), not qharbor's.
    exact = Statevector(qc).probabilities_dict()
    assert max(exact.values()) - min(exact.values()) > 0.1  # a distribution a wrong phase would change
    qc.measure([0, 1], [0, 1])
    backend = provider.get_backend("ionq_simulator", gateset="native")
    # qiskit-ionq drops from get_probabilities() each outcome its own (unseeded) sampler drew no
    # shot of, so enough shots that none of these four is ever missed (p > 0.01 each).
    probs = backend.run(qc, shots=10_000).get_probabilities()
    assert probs == pytest.approx(exact, abs=1e-9)


def test_retrieve_cancel_and_status(provider: IonQProvider) -> None:
    backend = provider.get_backend("ionq_simulator")
    job = backend.run(bell(), shots=10)
    job.wait_for_final_state(timeout=30)
    again = backend.retrieve_job(job.job_id())
    assert again.status().name == "DONE"
    assert set(again.get_counts()) <= {"00", "11"}
    job.cancel()  # finished: a no-op that must not raise


def test_qpu_backend_runs(provider: IonQProvider) -> None:
    backend = provider.get_backend("ionq_qpu.aria-1")
    counts = backend.run(bell(), shots=100).get_counts()
    assert sum(counts.values()) == 100


def test_memory_on_an_emulated_qpu(provider: IonQProvider) -> None:
    job = provider.get_backend("ionq_qpu.aria-1").run(bell(), shots=40, memory=True)
    memory = job.result().get_memory()
    assert len(memory) == 40 and set(memory) <= {"00", "01", "10", "11"}
    assert {m: memory.count(m) for m in set(memory)} == job.get_counts()


def test_session(provider: IonQProvider, base_url: str, key: str) -> None:
    import httpx
    from qiskit_ionq.ionq_session import Session

    backend = provider.get_backend("ionq_simulator")
    with Session(backend, max_jobs=3) as session:
        counts = backend.run(bell(), shots=20).get_counts()
        assert sum(counts.values()) == 20
        assert session.status() in ("started", "created")
    details = httpx.get(f"{base_url}/sessions/{session.session_id}",
                        headers={"Authorization": f"apiKey {key}"}).json()
    assert details["status"] == "ended" and details["settings"]["job_count_limit"] == 3


def test_calibration_status_and_estimate(provider: IonQProvider) -> None:
    backend = provider.get_backend("ionq_qpu.aria-1")
    calibration = backend.calibration()
    assert calibration is not None and backend.status() is True
    estimate = backend.client.estimate_job(backend="ionq_qpu.aria-1", oneq_gates=10, twoq_gates=5, qubits=4,
                                           shots=100)
    assert estimate.cost == 0 and estimate.cost_unit == "usd" and estimate.qubits == 4
    # The spec (and ionq-core) give estimated_execution_time in ms; qiskit-ionq's comment says seconds.
    assert estimate.exec_time > 0


def test_mid_circuit_measurement_goes_through_qasm3(provider: IonQProvider) -> None:
    from qiskit import ClassicalRegister, QuantumRegister

    q, first, last = QuantumRegister(2, "q"), ClassicalRegister(1, "first"), ClassicalRegister(2, "last")
    qc = QuantumCircuit(q, first, last, name="mcm")
    qc.x(0)
    qc.measure(0, first[0])  # mid-circuit: q0 is used again below
    qc.reset(0)
    qc.h(0)
    qc.cx(0, 1)
    qc.measure([0, 1], [last[0], last[1]])
    backend = provider.get_backend("ionq_simulator")
    job = backend.run(qc, shots=400, sampler_seed=11)
    counts = job.get_counts()
    # qiskit keys: registers space-separated, last-declared first; bit 0 rightmost
    assert set(counts) == {"00 1", "11 1"} and sum(counts.values()) == 400
    assert backend.retrieve_job(job.job_id()).get_counts() == counts  # reproducible from the seed


def test_feed_forward_through_qasm3(provider: IonQProvider) -> None:
    qc = QuantumCircuit(2, 2)
    qc.h(0)
    qc.measure(0, 0)
    with qc.if_test((qc.clbits[0], 1)):
        qc.x(1)
    qc.measure(1, 1)
    counts = provider.get_backend("ionq_simulator").run(qc, shots=300).get_counts()
    assert set(counts) == {"00", "11"} and sum(counts.values()) == 300


def test_dry_run(provider: IonQProvider) -> None:
    job = provider.get_backend("ionq_simulator").run(bell(), shots=10, dry_run=True)
    job.wait_for_final_state(timeout=30)
    assert job.status().name == "DONE"
    with pytest.raises(Exception, match="(?i)dry"):
        job.result()


def test_a_twenty_qubit_job_is_done_by_the_first_poll(provider: IonQProvider) -> None:
    """qiskit-ionq polls once at once, then every 5 s: a 20-qubit job must not cost a 5 s sleep."""
    qc = QuantumCircuit(20, 20)
    qc.h(0)
    for q in range(19):
        qc.cx(q, q + 1)
    for layer in range(10):
        for q in range(20):
            qc.rz(0.1 * (layer + q), q)
    qc.measure(range(20), range(20))
    backend = provider.get_backend("ionq_simulator")
    start = time.monotonic()
    counts = backend.run(qc, shots=100).get_counts()
    assert time.monotonic() - start < 4.5
    assert set(counts) <= {"0" * 20, "1" * 20}


def test_noise_model_and_seed_on_the_simulator(provider: IonQProvider, base_url: str, key: str) -> None:
    """``noise_model`` (backend option or run kwarg); the noise seed is the backend's ``sampler_seed``
    option (qiskit-ionq 1.1.1 has no ``noise_seed``: it sends ``noise.seed = options.sampler_seed``)."""
    backend = provider.get_backend("ionq_simulator")
    backend.set_options(noise_model="aria-1", sampler_seed=42)
    job = backend.run(ghz(5), shots=2000)
    counts = job.get_counts()
    assert sum(counts.values()) == 2000
    assert set(counts) > {"00000", "11111"}, "noise puts shots outside the two ideal outcomes"
    assert stored(base_url, key, job.job_id())["noise"] == {"model": "aria-1", "seed": 42}
    assert backend.run(ghz(5), shots=2000).get_counts() == counts  # the same seed: the same histogram
    backend.set_options(sampler_seed=43)
    assert backend.run(ghz(5), shots=2000).get_counts() != counts
    harmony = backend.run(ghz(5), shots=2000, noise_model="harmony")
    assert stored(base_url, key, harmony.job_id())["noise"] == {"model": "harmony", "seed": 43}
    worse = harmony.get_counts()  # harmony's errors are ~3x aria-1's
    assert worse["00000"] + worse["11111"] < counts["00000"] + counts["11111"]


def test_a_run_without_a_seed_replays_from_the_seed_it_reports(provider: IonQProvider, base_url: str,
                                                                 key: str) -> None:
    """Without ``sampler_seed`` qiskit-ionq sends ``noise.seed: null``; the job reports the seed it
    drew as ``noise.seed``, and running again with ``sampler_seed`` set to it gives the same counts."""
    backend = provider.get_backend("ionq_simulator")
    backend.set_options(noise_model="aria-1")
    first = backend.run(ghz(5), shots=2000)
    counts = first.get_counts()
    seed = stored(base_url, key, first.job_id())["noise"]["seed"]
    assert isinstance(seed, int) and 1 <= seed < 2**31
    assert backend.retrieve_job(first.job_id()).get_counts() == counts  # the client reads the job back
    backend.set_options(sampler_seed=seed)
    again = backend.run(ghz(5), shots=2000)
    assert stored(base_url, key, again.job_id())["noise"] == {"model": "aria-1", "seed": seed}
    assert again.get_counts() == counts


def test_error_mitigation_and_sharpen_on_an_emulated_qpu(provider: IonQProvider, base_url: str, key: str) -> None:
    backend = provider.get_backend("ionq_qpu.aria-1")
    job = backend.run(all_ones(), shots=1000, error_mitigation=ErrorMitigation.DEBIASING)
    averaged = job.get_counts()
    assert sum(averaged.values()) == 1000 and len(averaged) > 1 and max(averaged, key=averaged.get) == "111"
    assert job.result(sharpen=True).get_counts() == {"111": 1000}  # each variant votes for 111
    assert job.result(sharpen=False).get_counts() == averaged
    ran = stored(base_url, key, job.job_id())
    assert ran["settings"]["error_mitigation"] == {"debiasing": True}
    variants = ran["output"]["error_mitigation"]["debiasing"]["variants"]
    assert len(variants) == 4 and sum(v["shots"] for v in variants) == 1000

    plain = backend.run(all_ones(), shots=1000, error_mitigation=ErrorMitigation.NO_DEBIASING)
    counts = plain.get_counts()
    assert len(counts) > 1 and plain.result(sharpen=True).get_counts() == counts  # nothing to vote over
    ran = stored(base_url, key, plain.job_id())
    assert ran["settings"]["error_mitigation"] == {"debiasing": False}
    assert ran["output"] == {"probabilities": "sampled"}  # shot counts, no variants
