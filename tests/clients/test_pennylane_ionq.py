"""pennylane-ionq 0.45.0, unmodified (it has no URL setting: the class attribute is the only knob)."""

from __future__ import annotations

import numpy as np
import pennylane as qml
import pytest
from pennylane_ionq import api_client


@pytest.fixture(autouse=True)
def _point_at_qharbor(base_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api_client.APIClient, "BASE_URL", base_url)


def test_bell_probabilities(key: str) -> None:
    dev = qml.device("ionq.simulator", wires=2, api_key=key)

    @qml.set_shots(1000)
    @qml.qnode(dev)
    def bell():  # type: ignore[no-untyped-def]
        qml.Hadamard(0)
        qml.CNOT([0, 1])
        return qml.probs(wires=[0, 1])

    np.testing.assert_allclose(bell(), [0.5, 0, 0, 0.5], atol=0.08)


def test_bit_order_and_rotations(key: str) -> None:
    dev = qml.device("ionq.simulator", wires=3, api_key=key)

    @qml.set_shots(200)
    @qml.qnode(dev)
    def circuit(theta: float):  # type: ignore[no-untyped-def]
        qml.PauliX(0)
        qml.RY(theta, wires=2)
        return qml.probs(wires=[0, 1, 2])

    probs = circuit(np.pi)
    assert probs[0b101] == pytest.approx(1.0, abs=1e-9)


def test_native_gates(key: str) -> None:
    from pennylane_ionq.ops import GPI, GPI2, MS

    dev = qml.device("ionq.simulator", wires=2, gateset="native", api_key=key)

    @qml.set_shots(100)
    @qml.qnode(dev)
    def circuit():  # type: ignore[no-untyped-def]
        GPI2(0.25, wires=0)
        GPI(0.1, wires=1)
        MS(0, 0, wires=[0, 1])
        return qml.probs(wires=[0, 1])

    assert sum(circuit()) == pytest.approx(1.0)


def test_batch_of_tapes(key: str) -> None:
    dev = qml.device("ionq.simulator", wires=1, api_key=key)
    tapes = []
    for flip in (False, True):
        ops = [qml.PauliX(0)] if flip else [qml.PauliZ(0)]
        tapes.append(qml.tape.QuantumScript(ops, [qml.probs(wires=[0])], shots=50))
    results = qml.execute(tapes, dev)
    np.testing.assert_allclose(np.array(results), [[1, 0], [0, 1]], atol=1e-9)
