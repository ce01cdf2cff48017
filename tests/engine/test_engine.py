"""The engine's narrow interface: exact probabilities, refusals, the precision that fits."""

from __future__ import annotations

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.quantum_info import Statevector

from qharbor import engine
from qharbor.engine import Circuit, Gate, gates


def test_qubit_zero_is_the_least_significant_bit() -> None:
    probs = engine.simulate(Circuit(3, (Gate("x", (1,)),)))
    assert engine.measure.measure(probs, 10, np.random.default_rng(0), 10).as_map(10) == {"2": 1.0}


@pytest.mark.parametrize("name", sorted(engine.GATES - {"pauliexp"}))
def test_every_gate_matrix_is_unitary(name: str) -> None:
    width = 2 if name in engine.TWO_QUBIT else 1
    params = {"ms": (0.1, 0.2, 0.15), "gpi": (0.3,), "gpi2": (0.3,)}.get(name, (0.7,))
    u = gates.matrix(Gate(name, tuple(range(width)), (), params))
    np.testing.assert_allclose(u @ u.conj().T, np.eye(2**width), atol=1e-12)


def test_random_circuits_match_qiskit() -> None:
    rng = np.random.default_rng(7)
    n = 6
    for _ in range(5):
        ours, ref = [], QuantumCircuit(n)
        for _ in range(60):
            a, b, c = (int(x) for x in rng.choice(n, 3, replace=False))
            theta = float(rng.uniform(-3, 3))
            kind = rng.integers(5)
            if kind == 0:
                ours.append(Gate("ry", (a,), (), (theta,))), ref.ry(theta, a)
            elif kind == 1:
                ours.append(Gate("x", (b,), (a, c))), ref.ccx(a, c, b)
            elif kind == 2:
                ours.append(Gate("phase", (b,), (a,), (theta,))), ref.cp(theta, a, b)
            elif kind == 3:
                ours.append(Gate("yy", (a, b), (), (theta,))), ref.ryy(theta, a, b)
            else:
                ours.append(Gate("h", (c,))), ref.h(c)
        got = engine.simulate(Circuit(n, tuple(ours)))
        np.testing.assert_allclose(got, Statevector(ref).probabilities(), atol=1e-10)


def test_refuses_more_qubits_than_it_supports() -> None:
    with pytest.raises(engine.TooComplex):
        engine.simulate(Circuit(engine.MAX_QUBITS + 1, ()))


def test_time_limit_stops_a_run() -> None:
    slow = Circuit(16, tuple(Gate("h", (q % 16,)) for q in range(5000)))
    with pytest.raises(engine.SimulationTimeout):
        engine.simulate(slow, engine.Limits(time_s=0.01))


def test_a_run_over_the_memory_budget_is_refused_before_allocating() -> None:
    need = engine.memory_needed(20, "single")
    with pytest.raises(engine.TooComplex) as err:
        engine.simulate(Circuit(20, ()), engine.Limits(memory_budget=need - 1))
    assert err.value.code == "QuantumCircuitComplexityError" and "GiB" in str(err.value)
    assert engine.simulate(Circuit(20, ()), engine.Limits(memory_budget=need))[0] == 1.0


def test_single_precision_needs_less_memory() -> None:
    assert engine.memory_needed(24, "single") < engine.memory_needed(24, "double")


def test_a_register_too_wide_for_double_precision_runs_in_single() -> None:
    circuit = Circuit(20, tuple(Gate("h", (q,)) for q in range(20)))
    budget = engine.memory_needed(20, "single")
    probs = engine.simulate(circuit, engine.Limits(memory_budget=budget))
    assert probs.dtype == np.float32 and abs(float(probs.sum()) - 1) < 1e-5
    assert engine.simulate(circuit, engine.Limits(memory_budget=engine.memory_needed(20, "double"))).dtype == np.float64
    with pytest.raises(engine.TooComplex) as err:
        engine.simulate(circuit, engine.Limits(memory_budget=budget - 1))
    assert "even in single precision" in str(err.value)


def test_a_result_the_caller_holds_is_never_reused() -> None:
    """Runs reuse kept state vectors (``statevector._zeros``), but only ones nobody holds."""
    first = engine.simulate(Circuit(14, (Gate("x", (3,)),)))
    view = first[:8]
    second = engine.simulate(Circuit(14, (Gate("x", (5,)),)))
    assert second is not first and first[8] == 1.0 and second[32] == 1.0
    del first
    assert view[0] == 0.0  # the view still holds its base
    address = second.__array_interface__["data"][0]
    del second
    again = engine.simulate(Circuit(14, (Gate("x", (6,)),)))
    assert again.__array_interface__["data"][0] == address and again[64] == 1.0 and again.sum() == 1.0
