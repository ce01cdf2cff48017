"""Every gate form means what IonQ says it means, checked against qiskit.

Matrices are compared with qiskit's ``Operator``; whole random circuits (every gate
form, controls, multi-controls, broadcasts, pauliexp, native gates; up to 12
qubits) with ``Statevector`` probabilities to 1e-10, on every execution path of
the engine: the compiled interpreter, fused parallel kernels, and the array-module
code the GPU path runs (here with NumPy).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import reference
import scipy.linalg
from qiskit import QuantumCircuit
from qiskit.quantum_info import Operator, Statevector

from qharbor import engine
from qharbor.engine import Circuit, Gate, gates, gpu, statevector

PARAMS = {"rx": (0.7,), "ry": (-1.3,), "rz": (2.1,), "phase": (0.4,), "xx": (0.9,), "yy": (-0.6,),
          "zz": (1.7,), "gpi": (0.13,), "gpi2": (0.37,), "ms": (0.11, 0.29, 0.17)}
TWO = {"swap", "xx", "yy", "zz", "ms"}
NATIVE = {"gpi", "gpi2", "ms"}
X = np.array([[0, 1], [1, 0]])
Y = np.array([[0, -1j], [1j, 0]])


def sigma(phi: float) -> np.ndarray:
    return math.cos(2 * math.pi * phi) * X + math.sin(2 * math.pi * phi) * Y


@pytest.mark.parametrize("name", sorted(engine.GATES - {"pauliexp"}))
def test_each_gate_matrix_equals_qiskits(name: str) -> None:
    # Targets (1, 0): big-endian over them is qiskit's little-endian over (0, 1).
    g = Gate(name, (1, 0) if name in TWO else (0,), (), PARAMS.get(name, ()))
    qc = QuantumCircuit(len(g.targets))
    reference.append(qc, g)
    np.testing.assert_allclose(gates.matrix(g), Operator(qc).data, atol=1e-12)


def test_native_gates_equal_their_closed_forms() -> None:
    phi, (p0, p1, theta) = 0.21, (0.11, 0.29, 0.17)
    gpi = np.array([[0, np.exp(-2j * np.pi * phi)], [np.exp(2j * np.pi * phi), 0]])
    np.testing.assert_allclose(gates.matrix(Gate("gpi", (0,), (), (phi,))), gpi, atol=1e-12)
    gpi2 = (np.eye(2) - 1j * sigma(phi)) / math.sqrt(2)
    np.testing.assert_allclose(gates.matrix(Gate("gpi2", (0,), (), (phi,))), gpi2, atol=1e-12)
    ms = scipy.linalg.expm(-1j * np.pi * theta * np.kron(sigma(p0), sigma(p1)))
    np.testing.assert_allclose(gates.matrix(Gate("ms", (0, 1), (), (p0, p1, theta))), ms, atol=1e-12)
    zz = scipy.linalg.expm(-1j * 0.8 * np.kron(np.diag([1, -1]), np.diag([1, -1])) / 2)
    np.testing.assert_allclose(gates.matrix(Gate("zz", (0, 1), (), (0.8,))), zz, atol=1e-12)


def test_pauliexp_term_character_k_acts_on_targets_n_minus_1_minus_k() -> None:
    # "XZ" on targets (0, 2): X on targets[1] = qubit 2, Z on targets[0] = qubit 0.
    g = Gate("pauliexp", (0, 2), (), (0.3,), ("XZ", "YY"), (0.8, -0.25))
    generator = 0.8 * np.kron(X, np.diag([1, -1])) - 0.25 * np.kron(Y, Y)  # big-endian over (2, 0)
    expected = scipy.linalg.expm(-1j * 0.3 * generator)
    # gates.matrix is big-endian over (0, 2): swap the factor order to compare.
    swap = np.eye(4)[[0, 2, 1, 3]]
    np.testing.assert_allclose(gates.matrix(g), swap @ expected @ swap, atol=1e-12)


def random_circuit(n: int, depth: int, rng: np.random.Generator) -> list[Gate]:
    """Every gate form: plain, controlled, multi-controlled, broadcast, pauliexp, native."""
    out: list[Gate] = []
    names = sorted(engine.GATES - {"pauliexp"} - (TWO if n < 2 else set()))
    for _ in range(depth):
        form = int(rng.integers(8))
        qubits = [int(q) for q in rng.permutation(n)]
        if form == 7:
            k = int(rng.integers(1, min(n, 4) + 1))
            terms = tuple("".join(rng.choice(list("IXYZ"), k)) for _ in range(int(rng.integers(1, 4))))
            coefficients = tuple(float(c) for c in rng.normal(size=len(terms)))
            controls = tuple(qubits[k:k + int(rng.integers(0, 2))])
            out.append(Gate("pauliexp", tuple(qubits[:k]), controls, (float(rng.uniform(-2, 2)),),
                            terms, coefficients))
            continue
        name = names[int(rng.integers(len(names)))]
        params = tuple(float(x) for x in rng.uniform(-3, 3, len(PARAMS.get(name, ()))))
        width = 2 if name in TWO else 1
        if width == 1 and form == 6 and n > 1:  # broadcast over several targets
            width = int(rng.integers(2, min(n, 4) + 1))
        max_controls = 0 if name in NATIVE | {"swap"} else min(3, n - width)
        controls = tuple(qubits[width:width + int(rng.integers(0, max_controls + 1))]) if form < 4 else ()
        out.append(Gate(name, tuple(qubits[:width]), controls, params))
    return out


@pytest.fixture(params=["interpreter", "fused", "array-module"])
def run(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch):
    """Probabilities of a circuit through one of the engine's execution paths."""
    if request.param == "interpreter":
        monkeypatch.setattr(statevector, "SMALL_QUBITS", 64)
        return engine.simulate
    if request.param == "fused":
        monkeypatch.setattr(statevector, "SMALL_QUBITS", 0)
        return engine.simulate
    return lambda c: np.abs(gpu.run(np, c, None, "double").reshape(-1)) ** 2


@pytest.mark.parametrize("n", [1, 2, 5, 8, 12])
def test_random_circuits_of_every_gate_form_match_qiskit(n: int, run) -> None:
    rng = np.random.default_rng(n)
    for _ in range(3 if n < 12 else 1):
        gs = random_circuit(n, 60, rng)
        expected = Statevector(reference.circuit(n, gs)).probabilities()
        np.testing.assert_allclose(run(Circuit(n, tuple(gs))), expected, atol=1e-10)


def test_fusion_with_three_qubit_blocks_matches_qiskit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(statevector, "SMALL_QUBITS", 0)
    monkeypatch.setattr(statevector, "FUSE_QUBITS", 3)
    gs = random_circuit(9, 80, np.random.default_rng(3))
    expected = Statevector(reference.circuit(9, gs)).probabilities()
    np.testing.assert_allclose(engine.simulate(Circuit(9, tuple(gs))), expected, atol=1e-10)


@pytest.mark.parametrize("small", [64, 0])
def test_single_precision_agrees_to_1e_6(small: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(statevector, "SMALL_QUBITS", small)
    gs = random_circuit(10, 80, np.random.default_rng(11))
    single = engine.simulate(Circuit(10, tuple(gs)), engine.Limits(precision="single"))
    assert single.dtype == np.float32
    np.testing.assert_allclose(single, engine.simulate(Circuit(10, tuple(gs))), atol=1e-6)


@pytest.mark.parametrize("high", [8, 2])
def test_diagonal_runs_match_qiskit(high: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs of diagonal gates (merged into one elementwise pass) on the fused path."""
    from qharbor.engine import fusion

    monkeypatch.setattr(statevector, "SMALL_QUBITS", 0)
    monkeypatch.setattr(fusion, "DIAG_HIGH", high)
    rng = np.random.default_rng(5)
    n = 11
    gs = [Gate("ry", (q,), (), (float(rng.uniform(0, 3)),)) for q in range(n)]
    for j in reversed(range(n)):
        gs.append(Gate("h", (j,)))
        for k in reversed(range(j)):
            gs.append(Gate("phase", (j,), (k,), (float(rng.uniform(-3, 3)),)))
        a, b, c = (int(x) for x in rng.choice(n, 3, replace=False))
        gs += [Gate("zz", (a, b), (), (0.7,)), Gate("rz", (a,), (), (0.3,)), Gate("z", (b,), (a, c)),
               Gate("s", (j,)), Gate("t", (b,), (a,))]
    expected = Statevector(reference.circuit(n, gs)).probabilities()
    np.testing.assert_allclose(engine.simulate(Circuit(n, tuple(gs))), expected, atol=1e-10)
    single = engine.simulate(Circuit(n, tuple(gs)), engine.Limits(precision="single"))
    np.testing.assert_allclose(single, expected, atol=1e-5)
