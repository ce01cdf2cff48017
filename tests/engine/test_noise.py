"""Noisy simulation against an independent reference: qiskit-aer's density matrix with
qiskit's own depolarizing channels placed where IonQ's models put them."""

from __future__ import annotations

import math

import numpy as np
import pytest
from noise_reference import documented_sites
from qiskit import QuantumCircuit
from qiskit_aer import AerSimulator
from qiskit_aer.noise import depolarizing_error

from qharbor import engine
from qharbor.engine import Circuit, Gate, dynamic
from qharbor.engine.noise import MODELS, NoiseModel, conjugate, error_sites, plan

SHOTS = 20_000


def _reference(circuit: Circuit, model: NoiseModel, build) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Exact noisy distribution: each gate, then its channels where the documented rule puts
    them (``noise_reference.documented_sites``, not the engine's own ``error_sites``)."""
    qc = QuantumCircuit(circuit.qubits)
    for gate in circuit.gates:
        build(qc, gate)
        for qubits in documented_sites(gate):
            r = model.r1 if len(qubits) == 1 else model.r2
            qc.append(depolarizing_error(r, len(qubits)).to_instruction(), list(qubits))
    qc.save_probabilities()
    result = AerSimulator(method="density_matrix").run(qc).result()
    return np.asarray(result.data()["probabilities"])


def _qiskit_gate(qc: QuantumCircuit, g: Gate) -> None:
    if g.name == "h":
        qc.h(g.targets[0])
    elif g.name == "x" and len(g.controls) == 1:
        qc.cx(g.controls[0], g.targets[0])
    elif g.name == "x" and len(g.controls) == 2:
        qc.ccx(g.controls[0], g.controls[1], g.targets[0])
    elif g.name == "ry":
        qc.ry(g.params[0], g.targets[0])
    elif g.name == "zz":
        qc.rzz(g.params[0], *g.targets)
    else:
        raise AssertionError(g)


def _tvd(counts: dict[str, int], exact: np.ndarray) -> float:
    empirical = np.zeros_like(exact)
    for k, c in counts.items():
        empirical[int(k)] = c / SHOTS
    return 0.5 * float(np.abs(empirical - exact).sum())


def _bound(exact: np.ndarray) -> float:
    """Four times the expected total variation distance of SHOTS samples from ``exact``."""
    return 4 * 0.5 * sum(math.sqrt(2 * p * (1 - p) / (math.pi * SHOTS)) for p in exact)


def _random_circuit(n: int, depth: int, seed: int) -> Circuit:
    rng = np.random.default_rng(seed)
    gates: list[Gate] = []
    for _ in range(depth):
        for q in range(n):
            gates.append(Gate("ry", (q,), (), (float(rng.uniform(0, math.pi)),)))
        a, b, c = (int(x) for x in rng.choice(n, 3, replace=False))
        gates += [Gate("x", (b,), (a,)), Gate("zz", (a, c), (), (float(rng.uniform(0, 3)),)),
                  Gate("x", (c,), (a, b))]
    return Circuit(n, tuple(gates))


CASES = {
    "bell": Circuit(2, (Gate("h", (0,)), Gate("x", (1,), (0,)))),
    "ghz6": Circuit(6, (Gate("h", (0,)), *(Gate("x", (q + 1,), (q,)) for q in range(5)))),
    "random5": _random_circuit(5, 8, 3),
}


@pytest.mark.parametrize("model", ["aria-1", "harmony"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_histograms_match_the_density_matrix_reference(case: str, model: str) -> None:
    circuit, noise_model = CASES[case], MODELS[model]
    exact = _reference(circuit, noise_model, _qiskit_gate)
    counts = engine.noisy_counts(circuit, noise_model, SHOTS, seed=11)
    assert sum(counts.values()) == SHOTS
    assert _tvd(counts, exact) < _bound(exact)
    if model == "harmony" and case != "bell":  # the test can see the noise: beyond the sampling bound
        ideal = engine.simulate(circuit)
        assert 0.5 * np.abs(ideal - exact).sum() > 2 * _bound(exact)


def test_same_seed_same_histogram_and_ideal_is_untouched() -> None:
    circuit = CASES["random5"]
    a = engine.noisy_counts(circuit, MODELS["aria-1"], 1000, seed=5)
    assert a == engine.noisy_counts(circuit, MODELS["aria-1"], 1000, seed=5)
    assert a != engine.noisy_counts(circuit, MODELS["aria-1"], 1000, seed=6)
    zero = NoiseModel("none", 0.0, 0.0, 29)
    exact = engine.simulate(circuit)
    counts = engine.noisy_counts(circuit, zero, SHOTS, seed=1)
    assert _tvd(counts, exact) < _bound(exact)


def test_error_sites_follow_the_documented_rule() -> None:
    circuit = Circuit(4, (Gate("h", (0, 1)), Gate("x", (3,), (0, 1)), Gate("zz", (2, 3), (), (0.1,))))
    assert error_sites(circuit) == [(0, (0,)), (0, (1,)), (1, (0, 1)), (1, (1, 3)), (2, (2, 3))]


def _unitary(gate: Gate, n: int) -> np.ndarray:
    cols = []
    for k in range(1 << n):
        re, im = np.zeros(1 << n), np.zeros(1 << n)
        re[k] = 1.0
        engine.evolve(re, im, [gate])
        cols.append(re + 1j * im)
    return np.array(cols).T


def _pauli_matrix(n: int, x: int, z: int) -> np.ndarray:
    m = np.ones((1, 1), dtype=complex)
    single = {(0, 0): np.eye(2), (1, 0): np.array([[0, 1], [1, 0]]), (0, 1): np.diag([1, -1]),
              (1, 1): np.array([[0, -1j], [1j, 0]])}
    for q in reversed(range(n)):  # index bit q = qubit q: qubit n-1 is the most significant factor
        m = np.kron(m, single[((x >> q) & 1, (z >> q) & 1)])
    return m


PROPAGATION_GATES = [
    Gate("h", (0,)), Gate("h", (0, 2)), Gate("s", (1,)), Gate("si", (1,)), Gate("v", (2,)), Gate("vi", (0,)),
    Gate("x", (1,)), Gate("y", (2,)), Gate("z", (0,)), Gate("rx", (1,), (), (0.3,)), Gate("ry", (1,), (), (0.3,)),
    Gate("rz", (1,), (), (0.3,)), Gate("t", (2,)), Gate("phase", (0,), (), (0.7,)), Gate("gpi", (1,), (), (0.1,)),
    Gate("gpi2", (1,), (), (0.1,)), Gate("x", (2,), (0,)), Gate("z", (1,), (2,)), Gate("swap", (0, 2)),
    Gate("xx", (0, 1), (), (0.4,)), Gate("yy", (1, 2), (), (0.4,)), Gate("zz", (0, 2), (), (0.4,)),
    Gate("ms", (0, 1), (), (0.1, 0.2, 0.25)), Gate("x", (2,), (0, 1)), Gate("rz", (2,), (0,), (0.5,)),
    Gate("y", (0,), (1,)),
]


@pytest.mark.parametrize("gate", PROPAGATION_GATES, ids=lambda g: f"{g.name}{g.controls}{g.targets}")
def test_pauli_propagation_is_exact(gate: Gate) -> None:
    """U P U† equals the propagated Pauli up to phase whenever ``conjugate`` claims one."""
    n = 3
    u = _unitary(gate, n)
    claimed = 0
    for x in range(8):
        for z in range(8):
            moved = conjugate(gate, x, z)
            if moved is None:
                continue
            claimed += 1
            lhs = u @ _pauli_matrix(n, x, z) @ u.conj().T
            rhs = _pauli_matrix(n, *moved)
            phase = np.vdot(rhs.ravel(), lhs.ravel()) / (1 << n)
            assert abs(abs(phase) - 1) < 1e-9 and np.allclose(lhs, phase * rhs), (x, z, moved)
    assert claimed >= 4 ** (n - len(gate.controls + gate.targets))  # at least the Paulis away from the gate


def test_wide_evolve_continues_a_prefix_exactly() -> None:
    """The fused (wide-register) path of ``evolve`` continues a state like one whole run."""
    from qharbor.engine import statevector

    circuit = _random_circuit(14, 6, 9)
    whole_re, whole_im = statevector.run(circuit)
    cut = len(circuit.gates) // 3
    re, im = statevector.run(Circuit(14, circuit.gates[:cut]))
    engine.evolve(re, im, circuit.gates[cut:])
    assert np.allclose(re, whole_re) and np.allclose(im, whole_im)


def test_clifford_circuits_need_only_the_ideal_run() -> None:
    """All errors of a GHZ circuit reach the end as bit flips: one group, the ideal run."""
    ghz = Circuit(12, (Gate("h", (0,)), *(Gate("x", (q + 1,), (q,)) for q in range(11))))
    groups = plan(ghz, MODELS["aria-1"], 5000, np.random.default_rng(1))
    assert list(groups) == [()] and groups[()].size == 5000 and np.count_nonzero(groups[()]) > 0


WIDE_CASES = {
    "clifford_mix": Circuit(5, (Gate("h", (0, 1, 2)), Gate("s", (1,)), Gate("v", (3,)), Gate("z", (4,), (0,)),
                                 Gate("swap", (1, 4)), Gate("x", (3,), (2,)), Gate("rz", (3,), (), (0.4,)),
                                 Gate("xx", (0, 3), (), (0.9,)), Gate("yy", (2, 4), (), (1.1,)),
                                 Gate("rx", (0,), (), (0.5,)), Gate("h", (4,)))),
}


@pytest.mark.parametrize("case", sorted(WIDE_CASES))
def test_propagated_histograms_match_the_reference(case: str) -> None:
    circuit, model = WIDE_CASES[case], MODELS["harmony"]

    def build(qc: QuantumCircuit, g: Gate) -> None:
        if g.name in ("h", "s", "rz", "rx") and not g.controls:
            for t in g.targets:
                getattr(qc, g.name)(*g.params, t)
        elif g.name == "v":
            qc.sx(g.targets[0])
        elif g.name == "z":
            qc.cz(g.controls[0], g.targets[0])
        elif g.name == "x":
            qc.cx(g.controls[0], g.targets[0])
        elif g.name == "swap":
            qc.swap(*g.targets)
        elif g.name == "xx":
            qc.rxx(g.params[0], *g.targets)
        elif g.name == "yy":
            qc.ryy(g.params[0], *g.targets)
        else:
            raise AssertionError(g)

    exact = _reference(circuit, model, build)
    counts = engine.noisy_counts(circuit, model, SHOTS, seed=3)
    assert sum(counts.values()) == SHOTS
    assert _tvd(counts, exact) < _bound(exact)


def test_clifford_tableau_support_matches_the_state_vector() -> None:
    """Random Clifford circuits: the tableau's affine support, uniform, is the exact distribution."""
    from qharbor.engine.stabilizer import clifford_sampler, is_clifford

    rng = np.random.default_rng(0)
    names = ["x", "y", "z", "h", "s", "si", "v", "vi"]
    for _ in range(200):
        n = int(rng.integers(1, 7))
        gates: list[Gate] = []
        for _ in range(int(rng.integers(0, 25))):
            if n == 1 or rng.integers(4) <= 1:
                gates.append(Gate(names[rng.integers(8)], (int(rng.integers(n)),)))
            else:
                a, b = (int(v) for v in rng.choice(n, 2, replace=False))
                gates.append([Gate("x", (b,), (a,)), Gate("z", (b,), (a,)), Gate("swap", (a, b))][rng.integers(3)])
        circuit = Circuit(n, tuple(gates))
        assert is_clifford(circuit)
        x0, basis = clifford_sampler(circuit)
        support = {x0}
        for v in basis.tolist():
            support |= {s ^ v for s in support}
        expected = np.zeros(1 << n)
        expected[list(support)] = 1 / len(support)
        assert np.allclose(engine.simulate(circuit), expected, atol=1e-9)


def test_dynamic_programs_take_the_same_channels() -> None:
    """Shot branching under a noise model (forced here on a program that only measures at
    the end, so the density-matrix reference applies) matches the exact noisy distribution."""
    circuit, model = CASES["random5"], MODELS["harmony"]
    program = dynamic.Program(5, 5, circuit.gates + tuple(dynamic.Measure(q, q) for q in range(5)))
    weights, exact = dynamic.outcomes(program, SHOTS, np.random.default_rng(3), noise=model)
    assert not exact and sum(round(w * SHOTS) for w in weights.values()) == SHOTS
    reference = _reference(circuit, model, _qiskit_gate)
    assert _tvd({str(k): round(w * SHOTS) for k, w in weights.items()}, reference) < _bound(reference)


def test_gates_in_a_taken_branch_get_the_channel() -> None:
    """x q0; c0 = measure q0; if (c0 == 1) x q1; c1 = measure q1 — with a one-qubit error
    rate r, each x is flipped back with probability r/2 and the second x only runs when
    the first one held, so record 0b11 has (1 - r/2)^2, 0b01 (1 - r/2) r/2, 0b00 r/2."""
    r = 0.3
    program = dynamic.Program(2, 2, (
        Gate("x", (0,)), dynamic.Measure(0, 0),
        dynamic.IfElse(dynamic.Condition((0,), "==", 1), (Gate("x", (1,)),)), dynamic.Measure(1, 1)))
    model = NoiseModel("strong", r, 0.0, 29)
    weights, _ = dynamic.outcomes(program, SHOTS, np.random.default_rng(8), noise=model)
    flip = r / 2
    expected = {3: (1 - flip) ** 2, 1: (1 - flip) * flip, 0: flip}
    assert set(weights) == set(expected)
    for record, p in expected.items():
        assert abs(weights[record] - p) < 4 * math.sqrt(p * (1 - p) / SHOTS)
    assert weights == dynamic.outcomes(program, SHOTS, np.random.default_rng(8), noise=model)[0]


def test_small_and_wide_noisy_paths_draw_the_same_shots(monkeypatch: pytest.MonkeyPatch) -> None:
    """A small register's patterns run as encoded stretches with the Paulis between; a wide
    one's take their first error while copying the shared state (an X on qubits 0-5 as a
    gate, above as a reversed axis) and reuse fused tails. Same seed, double precision:
    the same histogram, shot for shot, with errors on every qubit and patterns of several."""
    from qharbor.engine import statevector

    circuit = _random_circuit(10, 6, 21)
    model = NoiseModel("strong", 0.02, 0.05, 20)
    groups = plan(circuit, model, 4000, np.random.default_rng([5, 0, 0x6E6F697365]))
    touched = {q for key in groups for _, x, z in key for q in range(10) if ((x | z) >> q) & 1}
    assert touched == set(range(10)) and sum(len(key) > 1 for key in groups) > 50
    small = engine.noisy_counts(circuit, model, 4000, seed=5, limits=engine.Limits(precision="double"))
    monkeypatch.setattr(statevector, "SMALL_QUBITS", 0)
    wide = engine.noisy_counts(circuit, model, 4000, seed=5, limits=engine.Limits(precision="double"))
    assert small == wide
