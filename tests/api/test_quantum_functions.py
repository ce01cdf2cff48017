"""``quantum-function`` jobs (``hamiltonian-energy``) over HTTP: exact energies against qiskit's
``Statevector.expectation_value``, the semantics of Pauli strings, params, constraints and CVaR
pinned by worked examples, shot estimates and their variance, and bad input as 400s."""

from __future__ import annotations

import math

import httpx
import numpy as np
import pytest
from ansatz import circuit as ansatz_circuit
from ansatz import qasm as ansatz_qasm
from qiskit import QuantumCircuit
from qiskit.quantum_info import SparsePauliOp, Statevector
from spec import assert_valid
from support import run_job as run
from support import wait_for

HEADER = 'OPENQASM 3.0;\ninclude "stdgates.inc";\n'


def body(terms: list[tuple[str, float]], ansatz: str, params: list[float] | None = None, *,
         backend: str = "simulator", shots: int | None = None, **data: object) -> dict:
    job: dict = {"type": "quantum-function", "backend": backend,
                 "input": {"data": {"type": "hamiltonian-energy",
                                    "data": {"hamiltonian": [{"pauli_string": s, "coefficient": c} for s, c in terms],
                                             "ansatz": {"data": ansatz if ansatz.startswith("OPENQASM") else HEADER + ansatz}, **data}},
                           "params": params or []}}
    if shots is not None:
        job["shots"] = shots
    return job


def energy(api: httpx.Client, job: dict) -> float:
    return run(api, job)["results"]["value"]


# --- references, built with qiskit alone (tests/ansatz.py)

#: H2 (STO-3G, 0.735 Å, Jordan-Wigner, 4 qubits), qiskit labels (rightmost letter: qubit 0).
H2 = [("IIII", -0.8105479805373266), ("IIIZ", 0.1721839326191554), ("IIZI", -0.2257534922240251),
      ("IZII", 0.1721839326191554), ("ZIII", -0.2257534922240251), ("IIZZ", 0.1209126326177663),
      ("IZIZ", 0.1689275387008791), ("YYYY", 0.0452327999460578), ("XXYY", 0.0452327999460578),
      ("YYXX", 0.0452327999460578), ("XXXX", 0.0452327999460578), ("ZIIZ", 0.1661454325638242),
      ("IZZI", 0.1661454325638242), ("ZIZI", 0.1744128761226159), ("ZZII", 0.1209126326177663)]


def test_h2_energies_equal_qiskit_statevector(api: httpx.Client) -> None:
    ansatz, k = ansatz_qasm(4, 2)
    reference_op = SparsePauliOp([s for s, _ in H2], [c for _, c in H2])
    rng = np.random.default_rng(7)
    for _ in range(3):
        params = rng.uniform(-math.pi, math.pi, k).tolist()
        expected = Statevector(ansatz_circuit(4, 2, params)).expectation_value(reference_op).real
        job = run(api, body(H2, ansatz, params))
        assert abs(job["results"]["value"] - expected) < 1e-10
        assert job["results"]["variance"] == 0.0  # exact: the value has no shot noise
        assert job["output"]["estimator"] == "exact" and job["output"]["energy"] == job["results"]["value"]
        assert_valid(job, "QuantumFunctionJob")


def test_tfim_in_sparse_form_equals_qiskit(api: httpx.Client) -> None:
    n, j, h = 6, 1.0, 0.7
    terms = [(f"Z{q} Z{q + 1}", -j) for q in range(n - 1)] + [(f"X{q}", -h) for q in range(n)]
    reference_op = SparsePauliOp.from_sparse_list(
        [("ZZ", [q, q + 1], -j) for q in range(n - 1)] + [("X", [q], -h) for q in range(n)], n)
    ansatz, k = ansatz_qasm(n, 3)
    params = np.random.default_rng(3).uniform(-math.pi, math.pi, k).tolist()
    expected = Statevector(ansatz_circuit(n, 3, params)).expectation_value(reference_op).real
    assert abs(energy(api, body(terms, ansatz, params)) - expected) < 1e-10


def test_random_pauli_strings_with_y_equal_qiskit(api: httpx.Client) -> None:
    """Every letter in every position, dense and sparse spellings of the same operator."""
    rng = np.random.default_rng(11)
    n = 5
    labels = ["".join(rng.choice(list("IXYZ"), n)) for _ in range(40)]
    coefficients = rng.normal(size=40).tolist()
    reference_op = SparsePauliOp(labels, coefficients)
    ansatz, k = ansatz_qasm(n, 2)
    params = rng.uniform(-math.pi, math.pi, k).tolist()
    expected = Statevector(ansatz_circuit(n, 2, params)).expectation_value(reference_op).real
    dense = list(zip(labels, coefficients))
    sparse = [(" ".join(f"{p}{q}" for q, p in enumerate(reversed(s)) if p != "I") or "I", c) for s, c in dense]
    assert abs(energy(api, body(dense, ansatz, params)) - expected) < 1e-10
    assert abs(energy(api, body(sparse, ansatz, params)) - expected) < 1e-10


# --- worked examples of the semantics

def test_dense_labels_read_right_to_left_and_identity_adds_its_coefficient(api: httpx.Client) -> None:
    flipped = "qubit[2] q;\nx q[0];\n"  # |q1 q0> = |01>
    assert energy(api, body([("IZ", 1.0)], flipped)) == pytest.approx(-1.0, abs=1e-12)  # Z on qubit 0
    assert energy(api, body([("ZI", 1.0)], flipped)) == pytest.approx(1.0, abs=1e-12)
    assert energy(api, body([("Z0", 1.0)], flipped)) == pytest.approx(-1.0, abs=1e-12)
    assert energy(api, body([("Z", 2.0)], flipped)) == pytest.approx(-2.0, abs=1e-12)  # short label: qubit 0
    assert energy(api, body([("II", 0.25), ("Z1", 1.0)], flipped)) == pytest.approx(1.25, abs=1e-12)


def test_params_bind_inputs_in_declaration_order(api: httpx.Client) -> None:
    ansatz = "input float[64] a;\ninput float b;\nqubit[2] q;\nrx(a) q[0];\nrx(b) q[1];\n"
    value = energy(api, body([("Z0", 1.0), ("Z1", 10.0)], ansatz, [0.3, 1.1]))
    assert value == pytest.approx(math.cos(0.3) + 10 * math.cos(1.1), abs=1e-12)


def test_penalty_adds_penalty_times_violation(api: httpx.Client) -> None:
    # |01>: x0 = 1, x1 = 0. x0 + x1 <= 0 is violated by 1; penalty 3 adds 3 to <Z1> = +1.
    flipped = "qubit[2] q;\nx q[0];\n"
    linear = {"linear_constraints": [{"coeffs": [1, 1], "rhs": 0}], "penalty": 3}
    assert energy(api, body([("Z1", 1.0)], flipped, **linear)) == pytest.approx(4.0, abs=1e-12)
    # x0 + x1 <= 1 holds: no penalty.
    holds = {"linear_constraints": [{"coeffs": [1, 1], "rhs": 1}], "penalty": 3}
    assert energy(api, body([("Z1", 1.0)], flipped, **holds)) == pytest.approx(1.0, abs=1e-12)
    # Uniform superposition; x.P.x with P = [[0,1],[1,0]] is 2 x0 x1, so 2 <= 1 fails only on |11>
    # (probability 1/4, violation 1): penalty 2 adds 2 * 1/4.
    uniform = "qubit[2] q;\nh q[0];\nh q[1];\n"
    quadratic = {"quadratic_constraints": [{"quadratic_coeff": [[0, 1], [1, 0]], "linear_coeff": [0, 0], "rhs": 1}],
                 "penalty": 2}
    assert energy(api, body([("Z0", 1.0)], uniform, **quadratic)) == pytest.approx(0.5, abs=1e-12)
    # penalty 0 (ionq-core's default) leaves constraints without effect
    assert energy(api, body([("Z1", 1.0)], flipped, **{**linear, "penalty": 0})) == pytest.approx(1.0, abs=1e-12)


def test_cvar_averages_the_lowest_share_of_outcomes(api: httpx.Client) -> None:
    # h: energies -1 (|1>) and +1 (|0>), each with probability 1/2.
    plus = "qubit[1] q;\nh q[0];\n"
    assert energy(api, body([("Z0", 1.0)], plus, cvar_alpha=0.5)) == pytest.approx(-1.0, abs=1e-12)
    assert energy(api, body([("Z0", 1.0)], plus, cvar_alpha=0.75)) == pytest.approx(-1 / 3, abs=1e-12)
    assert energy(api, body([("Z0", 1.0)], plus, cvar_alpha=1.0)) == pytest.approx(0.0, abs=1e-12)
    assert energy(api, body([("Z0", 1.0)], plus, cvar_alpha=None)) == pytest.approx(0.0, abs=1e-12)


# --- estimated from shots

def test_noisy_estimate_is_within_standard_errors_and_reports_its_variance(api: httpx.Client) -> None:
    """X, Y and Z of one qubit share no basis: three groups, each the job's shots, so the
    estimator's variance is sum c² (1 - <P>²) / shots, from qiskit's exact values. With
    single-qubit gates only, the model's bias (~1e-4) is far below the standard error."""
    theta, phi, shots = 1.1, 0.4, 20_000
    terms = [("X0", 0.8), ("Y0", -0.5), ("Z0", 0.3), ("I", 0.1)]
    qc = QuantumCircuit(1)
    qc.ry(theta, 0)
    qc.rz(phi, 0)
    state = Statevector(qc)
    means = {p: state.expectation_value(SparsePauliOp(p)).real for p in "XYZ"}
    exact = 0.1 + sum(c * means[s[0]] for s, c in terms[:3])
    expected_variance = sum(c**2 * (1 - means[s[0]] ** 2) for s, c in terms[:3]) / shots
    ansatz = "input float a;\ninput float b;\nqubit[1] q;\nry(a) q[0];\nrz(b) q[0];\n"
    job = body(terms, ansatz, [theta, phi], shots=shots)
    job["noise"] = {"model": "aria-1", "seed": 5}
    done = run(api, job)
    value, variance = done["results"]["value"], done["results"]["variance"]
    assert done["output"]["estimator"] == "sampled" and done["output"]["measurement_groups"] == 3
    assert done["output"]["shots_per_group"] == shots
    assert variance == pytest.approx(expected_variance, rel=0.05)
    assert abs(value - exact) < 4 * math.sqrt(expected_variance)
    assert run(api, job)["results"] == done["results"]  # seeded: replayable


def test_commuting_terms_share_a_group_and_qpu_runs_like_hardware(api: httpx.Client) -> None:
    ansatz, _ = ansatz_qasm(2, 1)
    params = [0.3, 0.2, 1.2, -0.4]
    expected = Statevector(ansatz_circuit(2, 1, params)).expectation_value(
        SparsePauliOp(["ZZ", "IZ", "ZI", "XX"], [1.0, 0.5, 0.5, 0.25])).real
    terms = [("ZZ", 1.0), ("IZ", 0.5), ("ZI", 0.5), ("XX", 0.25)]
    done = run(api, body(terms, ansatz, params, backend="qpu.aria-1", shots=4000))
    assert done["output"]["measurement_groups"] == 2  # {ZZ, IZ, ZI} and {XX}
    assert done["results"]["variance"] > 0 and done["execution_duration_ms"] > 0
    assert abs(done["results"]["value"] - expected) < 0.15  # readout and gate errors bias it a little
    assert_valid(done, "QuantumFunctionJob")


def test_penalty_from_shots(api: httpx.Client) -> None:
    """The penalty is read off the all-Z group's shots: |01> violates x0 + x1 <= 0 by 1."""
    job = body([("Z1", 1.0), ("X0", 0.5)], "qubit[2] q;\nx q[0];\n", shots=5000,
               linear_constraints=[{"coeffs": [1, 1], "rhs": 0}], penalty=3)
    job["noise"] = {"model": "aria-1", "seed": 3}
    done = run(api, job)
    assert done["output"]["measurement_groups"] == 2  # {penalty, Z1} in Z, {X0} in X
    # 1 + 3 + 0.5 <X0> (= 0 on |1>, estimated): within 4 standard errors
    assert abs(done["results"]["value"] - 4.0) < 4 * math.sqrt(done["results"]["variance"]) + 0.01


def test_cvar_from_shots(api: httpx.Client) -> None:
    plus = "qubit[1] q;\nh q[0];\n"
    job = body([("Z0", 1.0)], plus, shots=10_000, cvar_alpha=0.25)
    job["noise"] = {"model": "aria-1", "seed": 9}
    done = run(api, job)
    assert done["results"]["value"] == pytest.approx(-1.0, abs=1e-9)  # the lowest quarter is all |1>


# --- refusals

def problems(api: httpx.Client, job: dict) -> dict:
    response = api.post("/jobs", json=job)
    assert response.status_code == 400, response.text
    return response.json()


def test_bad_input_is_a_400_naming_the_field(api: httpx.Client) -> None:
    two = "qubit[2] q;\nh q[0];\n"
    at = "input.data.data"
    cases = [
        (body([("Q0", 1.0)], two), f"{at}.hamiltonian[0].pauli_string", "not a Pauli letter"),
        (body([("Z5", 1.0)], two), f"{at}.hamiltonian[0].pauli_string", "out of range"),
        (body([("ZZZ", 1.0)], two), f"{at}.hamiltonian[0].pauli_string", "3 qubits"),
        (body([("Z0 X0", 1.0)], two), f"{at}.hamiltonian[0].pauli_string", "twice"),
        (body([("Z0", "inf")], two), f"{at}.hamiltonian[0].coefficient", "finite"),
        (body([("Z0", 1.0)], "input float a;\n" + two, [1.0, 2.0]), "input.params", "declares 1"),
        (body([("Z0", 1.0)], "input float a;\ninput float b;\n" + two, [1.0]), "input.params", "params has 1"),
        (body([("X0", 1.0)], two, cvar_alpha=0.5), f"{at}.cvar_alpha", "diagonal"),
        (body([("Z0", 1.0)], two, cvar_alpha=1.5), f"{at}.cvar_alpha", "(0, 1]"),
        (body([("Z0", 1.0)], two, penalty=-1), f"{at}.penalty", ">= 0"),
        (body([("Z0", 1.0)], two, linear_constraints=[{"coeffs": [1], "rhs": 0}]),
         f"{at}.linear_constraints[0].coeffs", "2 numbers"),
        (body([("Z0", 1.0)], "qubit[1] q;\nbit c;\nc = measure q[0];\nif (c) x q[0];\n"), f"{at}.ansatz.data",
         "mid-circuit"),
        (body([], two), f"{at}.hamiltonian", "non-empty"),
    ]
    for job, key, words in cases:
        found = problems(api, job)
        assert found["statusCode"] == 400 and key in found["validation"]["keys"], (key, found)
        assert words in found["message"], (words, found["message"])


def test_qctrl_qaoa_is_refused_saying_why(api: httpx.Client) -> None:
    found = problems(api, {"type": "qctrl.qaoa.v1", "backend": "simulator",
                           "input": {"problem_type": "maxcut", "problem": {}},
                           "external_settings": {"api_credentials": "x"}})
    assert found["validation"]["keys"] == ["type"] and "Q-CTRL's cloud" in found["message"]


def test_results_are_the_job_itself_not_an_artifact(api: httpx.Client) -> None:
    done = run(api, body([("Z0", 1.0)], "qubit[1] q;\n"))
    assert done["results"] == {"value": 1.0, "variance": 0.0}
    response = api.get(f"/jobs/{done['id']}/results/probabilities")
    assert response.status_code == 404 and "quantum-function" in response.json()["message"]
    clone = api.post(f"/jobs/{done['id']}/clone", json={})
    assert clone.status_code in (200, 201), clone.text
    assert wait_for(api, clone.json()["id"])["results"] == {"value": 1.0, "variance": 0.0}
