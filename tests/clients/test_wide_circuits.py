"""Every v0.4 client, unmodified, on wide circuits (22 and 26 qubits): the server stores the
shots asked for (never 2^n probabilities), and each client turns them into the counts or
probabilities it offers. Results are checked against the circuit's closed-form distribution
(``product_state.py``). qiskit-ionq and cirq-ionq resample the stored map client-side on the
simulator, which widens the spread, so their bound is looser than a direct sample's."""

from __future__ import annotations

import math
import warnings

import cirq
import cirq_ionq
import numpy as np
import pennylane as qml
import product_state
import pytest
from ionq_core import IonQClient
from ionq_core.api.default import create_job, get_job_probabilities
from ionq_core.models.circuit_job_creation_payload import CircuitJobCreationPayload
from ionq_core.polling import wait_for_job
from pennylane_ionq import api_client
from qiskit import QuantumCircuit
from qiskit_ionq import IonQProvider
from support import Server

SHOTS = 1000
WIDTHS = [22, 26]


@pytest.mark.parametrize("n", WIDTHS)
def test_qiskit_ionq(n: int, base_url: str, key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IONQ_API_URL", base_url)
    backend = IonQProvider(token=key, url=base_url).get_backend("ionq_simulator")
    qc = QuantumCircuit(n, n)
    for q, a in enumerate(product_state.angles(n)):
        qc.ry(a, q)
    qc.measure(range(n), range(n))
    counts = backend.run(qc, shots=SHOTS, sampler_seed=3).get_counts()
    assert sum(counts.values()) == SHOTS
    assert abs(product_state.z_score(n, {int(k, 2): c for k, c in counts.items()})) < 7


@pytest.mark.parametrize("n", WIDTHS)
def test_cirq_ionq(n: int, qharbor: Server, key: str) -> None:
    service = cirq_ionq.Service(remote_host=qharbor.url, api_key=key, default_target="simulator")
    qubits = cirq.LineQubit.range(n)
    circuit = cirq.Circuit([cirq.ry(a)(q) for q, a in zip(qubits, product_state.angles(n))],
                           cirq.measure(*qubits, key="m"))
    bits = service.run(circuit, repetitions=SHOTS, seed=5).measurements["m"]  # column j = qubit j
    outcomes = bits @ (1 << np.arange(n))
    values, counts = np.unique(outcomes, return_counts=True)
    assert bits.shape == (SHOTS, n)
    assert abs(product_state.z_score(n, dict(zip(values.tolist(), counts.tolist())))) < 7


@pytest.mark.parametrize("n", WIDTHS)
def test_pennylane_ionq(n: int, base_url: str, key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api_client.APIClient, "BASE_URL", base_url)
    dev = qml.device("ionq.simulator", wires=n, api_key=key)

    @qml.set_shots(SHOTS)
    @qml.qnode(dev)
    def circuit():  # type: ignore[no-untyped-def]
        for q, a in enumerate(product_state.angles(n)):
            qml.RY(a, wires=q)
        return qml.probs(wires=[0, n - 1])  # read off the stored count/shots

    got = circuit()
    first, last = product_state.one(n, 0), product_state.one(n, n - 1)
    for bits, p in zip(range(4), got):  # pennylane: wire 0 is the most significant bit
        want = (first if bits >> 1 else 1 - first) * (last if bits & 1 else 1 - last)
        assert abs(p - want) < 5 * math.sqrt(want * (1 - want) / SHOTS)


@pytest.mark.parametrize("n", WIDTHS)
def test_ionq_core(n: int, base_url: str, key: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "not HTTPS": a local test server
        client = IonQClient(api_key=key, base_url=base_url, max_retries=0)
    body = {"type": "ionq.circuit.v1", "backend": "simulator", "shots": SHOTS, "input": product_state.ionq_input(n)}
    created = create_job.sync(client=client, body=CircuitJobCreationPayload.from_dict(body))
    job = wait_for_job(client, created.id, poll_interval=0.1, timeout=120)
    assert job.status == "completed"
    assert job.output.additional_properties["probabilities"] == "sampled"
    probabilities = get_job_probabilities.sync(created.id, client=client).additional_properties
    assert len(probabilities) <= SHOTS and sum(probabilities.values()) == pytest.approx(1)
    counts = {int(k): round(p * SHOTS) for k, p in probabilities.items()}
    assert sum(counts.values()) == SHOTS and abs(product_state.z_score(n, counts)) < 5
