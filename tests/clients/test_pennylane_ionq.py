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
        GPI2(0.1, wires=0)
        GPI(0.3, wires=1)
        MS(0.2, 0.05, 0.2, wires=[0, 1])
        GPI2(0.7, wires=1)
        return qml.probs(wires=[0, 1])

    # The reference: the same gates as qiskit-ionq defines them (its matrices, phases in turns).
    from qiskit import QuantumCircuit
    from qiskit.quantum_info import Statevector
    from qiskit_ionq import GPI2Gate, GPIGate, MSGate

    qc = QuantumCircuit(2)
    qc.append(GPI2Gate(0.1), [0])
    qc.append(GPIGate(0.3), [1])
    qc.append(MSGate(0.2, 0.05, 0.2), [0, 1])
    qc.append(GPI2Gate(0.7), [1])
    exact = Statevector(qc).probabilities()  # index bit 0 = qubit 0; pennylane's wire 0 is the high bit
    assert np.asarray(circuit()) == pytest.approx([exact[0], exact[2], exact[1], exact[3]], abs=1e-9)


def test_batch_of_tapes(key: str) -> None:
    dev = qml.device("ionq.simulator", wires=1, api_key=key)
    tapes = []
    for flip in (False, True):
        ops = [qml.PauliX(0)] if flip else [qml.PauliZ(0)]
        tapes.append(qml.tape.QuantumScript(ops, [qml.probs(wires=[0])], shots=50))
    results = qml.execute(tapes, dev)
    np.testing.assert_allclose(np.array(results), [[1, 0], [0, 1]], atol=1e-9)


def _ghz_probs(dev) -> np.ndarray:  # type: ignore[no-untyped-def]
    @qml.set_shots(2000)
    @qml.qnode(dev)
    def ghz():  # type: ignore[no-untyped-def]
        qml.Hadamard(0)
        for q in range(4):
            qml.CNOT([q, q + 1])
        return qml.probs(wires=range(5))

    return ghz()


def test_noise_model_and_seed(key: str) -> None:
    noisy = _ghz_probs(qml.device("ionq.simulator", wires=5, api_key=key, noise_model="aria-1", noise_seed=42))
    assert np.count_nonzero(noisy) > 2 and noisy[0] + noisy[31] < 1, "noise puts weight outside 0 and 31"
    np.testing.assert_array_equal(np.rint(noisy * 2000), noisy * 2000)  # count / shots, like hardware
    again = _ghz_probs(qml.device("ionq.simulator", wires=5, api_key=key, noise_model="aria-1", noise_seed=42))
    np.testing.assert_array_equal(again, noisy)  # the same seed: the same histogram
    other = _ghz_probs(qml.device("ionq.simulator", wires=5, api_key=key, noise_model="aria-1", noise_seed=43))
    assert not np.array_equal(other, noisy)


@pytest.mark.parametrize("sharpen", [False, True])
def test_error_mitigation_and_sharpen_on_an_emulated_qpu(key: str, sharpen: bool) -> None:
    dev = qml.device("ionq.qpu", backend="aria-1", wires=3, api_key=key,
                     error_mitigation={"debiasing": True}, sharpen=sharpen)

    @qml.set_shots(1000)
    @qml.qnode(dev)
    def ones():  # type: ignore[no-untyped-def]
        qml.PauliX(0)
        qml.PauliX(2)
        qml.CNOT([0, 1])
        return qml.probs(wires=range(3))

    probs = ones()
    if sharpen:  # each debiasing variant votes for 0b111
        np.testing.assert_array_equal(probs, [0, 0, 0, 0, 0, 0, 0, 1])
    else:  # the variants' average: mostly 0b111, with readout and gate errors elsewhere
        assert 0.9 < probs[7] < 1 and np.count_nonzero(probs) > 1
