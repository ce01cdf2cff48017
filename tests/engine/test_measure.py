"""Measuring a final state (engine/measure.py): the exact map while small, seeded shots beyond."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.quantum_info import Statevector

from qharbor import engine
from qharbor.engine import Circuit, Gate
from qharbor.engine.measure import BLOCK, marginal, measure


def _random_probs(n: int, dtype: type, seed: int = 1) -> np.ndarray:
    p = np.random.default_rng(seed).exponential(size=1 << n)  # Porter-Thomas, like a random circuit
    return (p / p.sum()).astype(dtype)


def _z(probs: np.ndarray, indices: np.ndarray, counts: np.ndarray) -> float:
    """How many standard errors the samples' mean probability is from its expectation Σp²."""
    p = probs.astype(np.float64)
    shots = counts.sum()
    mean = float((p[indices] * counts).sum() / shots)
    expected, second = float((p * p).sum()), float((p**3).sum())
    return (mean - expected) / np.sqrt((second - expected**2) / shots)


def test_a_small_distribution_is_kept_exact() -> None:
    probs = engine.simulate(Circuit(12, (Gate("h", (0,)), Gate("x", (11,), (0,)))))
    found = measure(probs, 1000, np.random.default_rng(0), max_exact=4)
    assert not found.sampled and found.indices.tolist() == [0, 2049]
    np.testing.assert_allclose(found.values, [0.5, 0.5], atol=1e-15)
    assert found.as_map(1000) == pytest.approx({"0": 0.5, "2049": 0.5})


def test_the_exact_map_matches_qiskit_entry_for_entry() -> None:
    qc, gates = QuantumCircuit(13), []
    for q in range(13):
        qc.ry(0.3 + q / 7, q)
        gates.append(Gate("ry", (q,), (), (0.3 + q / 7,)))
    found = measure(engine.simulate(Circuit(13, tuple(gates))), 100, np.random.default_rng(0), 1 << 13)
    assert not found.sampled and len(found.indices) == 1 << 13
    np.testing.assert_allclose(found.values, Statevector(qc).probabilities()[found.indices], atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_wide_distribution_is_sampled_to_the_shots_asked(dtype: type) -> None:
    probs = _random_probs(20, dtype)
    found = measure(probs, 1000, np.random.default_rng(5), max_exact=4096)
    assert found.sampled and int(found.values.sum()) == 1000 and len(found.indices) <= 1000
    assert list(found.indices) == sorted(set(found.indices.tolist()))
    assert abs(_z(probs, found.indices, found.values)) < 5


def test_samples_follow_the_distribution() -> None:
    """A distribution the samples could get wrong in many ways: uneven blocks, zero
    blocks, weights concentrated at block edges. Frequencies per group agree with the
    exact masses within 5 standard errors."""
    p = np.zeros(1 << 18)
    rng = np.random.default_rng(3)
    p[rng.choice(p.size, 5000, replace=False)] = rng.exponential(size=5000)
    p[BLOCK - 1], p[BLOCK], p[-1] = 3.0, 2.0, 1.0  # around a block boundary, and the very end
    p /= p.sum()
    shots = 200_000
    found = measure(p, shots, np.random.default_rng(11), max_exact=100)
    assert found.sampled and (p[found.indices] > 0).all()  # never an outcome of probability zero
    groups = np.arange(p.size) % 7
    observed = np.bincount(groups[found.indices], weights=found.values, minlength=7) / shots
    expected = np.bincount(groups, weights=p, minlength=7)
    assert np.all(np.abs(observed - expected) < 5 * np.sqrt(expected * (1 - expected) / shots))
    for k in (BLOCK - 1, BLOCK, p.size - 1):
        count = int(found.values[found.indices == k].sum())
        assert abs(count - p[k] * shots) < 5 * np.sqrt(p[k] * shots)


def test_the_same_seed_draws_the_same_shots_on_any_thread_count() -> None:
    probs = _random_probs(18, np.float32)
    first = measure(probs, 500, np.random.default_rng(9), 10)
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        alone = measure(probs, 500, np.random.default_rng(9), 10)
    finally:
        numba.set_num_threads(threads)
    other = measure(probs, 500, np.random.default_rng(10), 10)
    assert first.indices.tolist() == alone.indices.tolist() and first.values.tolist() == alone.values.tolist()
    assert first.indices.tolist() != other.indices.tolist()


def test_a_marginal_sums_over_the_unmeasured_qubits() -> None:
    probs = _random_probs(14, np.float64)
    got = marginal(probs, [3, 0, 9])
    tensor = probs.reshape((2,) * 14)  # axis a is qubit 13 - a
    want = tensor.sum(axis=tuple(a for a in range(14) if 13 - a not in (3, 0, 9)))  # axes: qubits 9, 3, 0
    # column bit j is qubits[j]: bit 0 = qubit 3, bit 1 = qubit 0, bit 2 = qubit 9
    expected = np.array([want[(j >> 2) & 1, j & 1, (j >> 1) & 1] for j in range(8)])
    np.testing.assert_allclose(got, expected, atol=1e-14)


def test_a_wide_clifford_circuit_is_measured_as_its_state_vector_would_be() -> None:
    """``engine.ideal`` takes a stabilizer tableau for wide Clifford circuits: the same exact
    map as the state vector's, and samples from the same distribution."""
    rng = np.random.default_rng(4)
    n, gates = 18, []
    for _ in range(60):
        a, b = (int(q) for q in rng.choice(n, 2, replace=False))
        kind = rng.integers(5)
        gates.append(Gate("x", (b,), (a,)) if kind == 0 else Gate("z", (b,), (a,)) if kind == 1
                     else Gate(("h", "s", "v")[kind - 2], (a,)))
    circuit = Circuit(n, tuple(gates))
    exact, how = engine.ideal(circuit, 100, np.random.default_rng(0), engine.Limits(max_exact=1 << n))
    assert how == "exact" and not exact.sampled
    reference = measure(engine.simulate(circuit), 100, np.random.default_rng(0), max_exact=1 << n)
    assert exact.indices.tolist() == reference.indices.tolist()
    np.testing.assert_allclose(exact.values, reference.values, atol=1e-12)
    shots = 20_000
    drawn, _ = engine.ideal(circuit, shots, np.random.default_rng(1), engine.Limits(max_exact=1))
    assert drawn.sampled and set(drawn.indices.tolist()) <= set(reference.indices.tolist())
    k = len(reference.indices)
    counts = np.bincount(np.searchsorted(reference.indices, drawn.indices), weights=drawn.values, minlength=k)
    assert np.all(np.abs(counts / shots - 1 / k) < 5 * np.sqrt((1 / k) / shots))  # uniform over the support
