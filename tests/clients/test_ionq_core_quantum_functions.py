"""ionq-core 0.2.0, unmodified, driving hosted-hybrid ``quantum-function`` jobs the way its
``examples/quantum_function_qaoa.py`` does: typed models, ``create_job``, ``wait_for_job``, and
a classical optimiser (scipy) over ``params`` — here QAOA for maxcut on a 4-node ring."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import numpy as np
import pytest
import scipy.optimize
from ionq_core import IonQClient, wait_for_job
from ionq_core.api.default import create_job
from ionq_core.models import (
    Ansatz,
    HamiltonianEnergyData,
    HamiltonianEnergyInput,
    HamiltonianEnergyInputData,
    HamiltonianPauliTerm,
    QuantumFunctionJob,
    QuantumFunctionJobCreationPayload,
)
from qiskit import QuantumCircuit
from qiskit.quantum_info import Statevector

RING = [(0, 1), (1, 2), (2, 3), (3, 0)]
#: maxcut as energy: cut(x) = sum over edges (1 - Z_i Z_j) / 2 = 2 - <H>, H = sum 0.5 Z_i Z_j.
HAMILTONIAN = [HamiltonianPauliTerm(pauli_string=f"Z{i} Z{j}", coefficient=0.5) for i, j in RING]
QAOA_P1 = ('OPENQASM 3.0;\ninclude "stdgates.inc";\ninput float[64] gamma;\ninput float[64] beta;\nqubit[4] q;\n'
           + "".join(f"h q[{i}];\n" for i in range(4))
           + "".join(f"rzz(gamma) q[{i}], q[{j}];\n" for i, j in RING)
           + "".join(f"rx(beta) q[{i}];\n" for i in range(4)))


@pytest.fixture
def client(base_url: str, key: str) -> Iterator[object]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "not HTTPS": this is a local test server
        c = IonQClient(api_key=key, base_url=base_url, max_retries=0)
    yield c


def energy(client: object, params: list[float], cvar_alpha: float | None = None) -> float:
    data = HamiltonianEnergyData(hamiltonian=HAMILTONIAN, ansatz=Ansatz(data=QAOA_P1))
    if cvar_alpha is not None:
        data.cvar_alpha = cvar_alpha
    payload = QuantumFunctionJobCreationPayload(
        backend="simulator", type_="quantum-function",
        input_=HamiltonianEnergyInput(data=HamiltonianEnergyInputData(type_="hamiltonian-energy", data=data),
                                      params=[float(p) for p in params]))
    created = create_job.sync(client=client, body=payload)
    assert created is not None, "create_job must answer 201 with the job's id"
    done = wait_for_job(client, created.id, poll_interval=0.05, timeout=60)
    assert isinstance(done, QuantumFunctionJob) and done.status == "completed"
    value = done.results.value
    assert done.output["energy"] == value  # where IonQ's QAOA example reads it
    return float(value)


def qiskit_probabilities(gamma: float, beta: float) -> np.ndarray:
    qc = QuantumCircuit(4)
    qc.h(range(4))
    for i, j in RING:
        qc.rzz(gamma, i, j)
    for q in range(4):
        qc.rx(beta, q)
    return Statevector(qc).probabilities()


def test_qaoa_maxcut_with_cvar_finds_the_maximum_cut(client: object) -> None:
    """CVaR (alpha = 0.25) rewards putting a quarter of the weight on the best cuts: its minimum
    is the maxcut energy itself, -2, so the cut found is 4 (every edge of the ring)."""
    result = scipy.optimize.minimize(lambda x: energy(client, list(x), cvar_alpha=0.25), [0.5, 0.5],
                                     method="COBYLA", options={"maxiter": 40})
    assert result.fun == pytest.approx(-2.0, abs=1e-6)
    assert 2 - result.fun == pytest.approx(4.0, abs=1e-6)


def test_qaoa_maxcut_expectation_reaches_the_p1_optimum(client: object) -> None:
    """Depth-1 QAOA on a ring: the best expected cut is 3 (energy -1), and the optimised state's
    most likely outcomes are the two maximum cuts 0101 and 1010 (checked with qiskit)."""
    result = scipy.optimize.minimize(lambda x: energy(client, list(x)), [0.5, 0.5], method="COBYLA",
                                     options={"maxiter": 60})
    assert result.fun == pytest.approx(-1.0, abs=1e-4)
    best = np.argsort(qiskit_probabilities(*result.x))[-2:]
    assert sorted(best.tolist()) == [0b0101, 0b1010]
