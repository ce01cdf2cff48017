"""Every gate form clients send gives the state qiskit's reference simulator gives.

All cases go in one multi-circuit job (native circuits override the gateset per
circuit), and each child's distribution is compared with
``qiskit.quantum_info.Statevector`` built from qiskit's own standard gates.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import httpx
import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.circuit.library import PauliEvolutionGate, RYGate
from qiskit.quantum_info import SparsePauliOp, Statevector
from support import wait_for

Builder = Callable[[QuantumCircuit], None]
N = 3
# A generic start state, so phases and axes all matter.
PREP = [{"gate": "ry", "targets": [q], "rotation": 0.4 + 0.5 * q} for q in range(N)] + [
    {"gate": "rz", "targets": [q], "rotation": 0.3 * q + 0.2} for q in range(N)
]


def _prep(qc: QuantumCircuit) -> None:
    for q in range(N):
        qc.ry(0.4 + 0.5 * q, q)
    for q in range(N):
        qc.rz(0.3 * q + 0.2, q)


def _turns(phi: float) -> float:
    return 2 * math.pi * phi


def _gpi(qc: QuantumCircuit, phi: float, q: int) -> None:
    qc.rz(-_turns(phi), q), qc.x(q), qc.rz(_turns(phi), q)


def _gpi2(qc: QuantumCircuit, phi: float, q: int) -> None:
    qc.rz(-_turns(phi), q), qc.rx(math.pi / 2, q), qc.rz(_turns(phi), q)


def _ms(qc: QuantumCircuit, phi0: float, phi1: float, theta: float, a: int, b: int) -> None:
    qc.rz(-_turns(phi0), a), qc.rz(-_turns(phi1), b)
    qc.rxx(2 * math.pi * theta, a, b)
    qc.rz(_turns(phi0), a), qc.rz(_turns(phi1), b)


QIS: list[tuple[list[dict], Builder]] = [
    ([{"gate": g, "targets": [1]}], lambda qc, q=q: getattr(qc, q)(1))  # type: ignore[misc]
    for g, q in [("x", "x"), ("y", "y"), ("z", "z"), ("h", "h"), ("s", "s"), ("si", "sdg"), ("t", "t"),
                 ("ti", "tdg"), ("v", "sx"), ("vi", "sxdg"), ("not", "x")]
] + [
    ([{"gate": "h", "target": 2}], lambda qc: qc.h(2)),
    ([{"gate": "rx", "targets": [0], "rotation": 0.7}], lambda qc: qc.rx(0.7, 0)),
    ([{"gate": "ry", "target": 2, "rotation": -1.1}], lambda qc: qc.ry(-1.1, 2)),
    ([{"gate": "rz", "targets": [1], "rotation": 2.5}], lambda qc: qc.rz(2.5, 1)),
    ([{"gate": "z", "targets": [1], "rotation": 0.9}], lambda qc: qc.p(0.9, 1)),
    ([{"gate": "xx", "targets": [0, 2], "rotation": 0.6}], lambda qc: qc.rxx(0.6, 0, 2)),
    ([{"gate": "yy", "targets": [1, 0], "rotation": -0.8}], lambda qc: qc.ryy(-0.8, 1, 0)),
    ([{"gate": "zz", "targets": [2, 1], "rotation": 1.3}], lambda qc: qc.rzz(1.3, 2, 1)),
    ([{"gate": "swap", "targets": [0, 2]}], lambda qc: qc.swap(0, 2)),
    ([{"gate": "cnot", "control": 2, "target": 0}], lambda qc: qc.cx(2, 0)),
    ([{"gate": "cnot", "controls": [0], "targets": [1]}], lambda qc: qc.cx(0, 1)),
    ([{"gate": "x", "targets": [2], "controls": [0, 1]}], lambda qc: qc.ccx(0, 1, 2)),
    ([{"gate": "x", "targets": [1], "controls": []}], lambda qc: qc.x(1)),
    ([{"gate": "y", "targets": [0], "controls": [2]}], lambda qc: qc.cy(2, 0)),
    ([{"gate": "h", "targets": [1], "controls": [0]}], lambda qc: qc.ch(0, 1)),
    ([{"gate": "v", "targets": [0], "controls": [1]}], lambda qc: qc.csx(1, 0)),
    ([{"gate": "z", "targets": [2], "controls": [0], "rotation": 0.7}], lambda qc: qc.cp(0.7, 0, 2)),
    ([{"gate": "rz", "targets": [2], "controls": [0], "rotation": 0.7}], lambda qc: qc.crz(0.7, 0, 2)),
    ([{"gate": "ry", "targets": [0], "controls": [1, 2], "rotation": 1.7}],
     lambda qc: qc.append(RYGate(1.7).control(2, annotated=False), [1, 2, 0])),
    ([{"gate": "pauliexp", "targets": [0, 1, 2], "terms": ["XZY", "ZZI"], "coefficients": [0.3, -0.7],
       "time": 0.9}],
     lambda qc: qc.append(PauliEvolutionGate(SparsePauliOp(["XZY", "ZZI"], [0.3, -0.7]), time=0.9), [0, 1, 2])),
    ([{"gate": "pauliexp", "targets": [2, 0], "terms": ["XY", "YX"], "coefficients": [0.5, 0.25], "time": 1.5}],
     lambda qc: qc.append(PauliEvolutionGate(SparsePauliOp(["XY", "YX"], [0.5, 0.25]), time=1.5), [2, 0])),
]

NATIVE: list[tuple[list[dict], Builder]] = [
    ([{"gate": "gpi", "target": 1, "phase": 0.13}], lambda qc: _gpi(qc, 0.13, 1)),
    ([{"gate": "gpi2", "target": 0, "phase": -0.31}], lambda qc: _gpi2(qc, -0.31, 0)),
    ([{"gate": "ms", "targets": [0, 2], "phases": [0.1, 0.35]}], lambda qc: _ms(qc, 0.1, 0.35, 0.25, 0, 2)),
    ([{"gate": "ms", "targets": [2, 1], "phases": [0.6, -0.2], "angle": 0.14}],
     lambda qc: _ms(qc, 0.6, -0.2, 0.14, 2, 1)),
    ([{"gate": "ms", "targets": [0, 1], "phases": [0.2, 0.3], "angle": "0.1"}],
     lambda qc: _ms(qc, 0.2, 0.3, 0.1, 0, 1)),
    ([{"gate": "zz", "targets": [0, 1], "angle": 0.17}], lambda qc: qc.rzz(2 * math.pi * 0.17, 0, 1)),
    ([{"gate": "zz", "targets": [1, 2], "phase": -0.09}], lambda qc: qc.rzz(2 * math.pi * -0.09, 1, 2)),
    ([{"gate": "nop", "targets": [0]}], lambda qc: None),
]
# Follow each native case with native mixing so phases show in the distribution.
MIX = [{"gate": "gpi2", "target": q, "phase": 0.05 * q} for q in range(N)]


def _mix(qc: QuantumCircuit) -> None:
    for q in range(N):
        _gpi2(qc, 0.05 * q, q)


def _reference(build: Builder) -> np.ndarray:
    qc = QuantumCircuit(N)
    _prep(qc)
    build(qc)
    for q in range(N):
        qc.h(q)
    return Statevector(qc).probabilities()


def test_every_gate_form_matches_qiskit(api: httpx.Client) -> None:
    circuits, expected = [], []
    finish = [{"gate": "h", "targets": [q]} for q in range(N)]
    for gates, build in QIS:
        circuits.append({"circuit": PREP + gates + finish})
        expected.append(_reference(build))
    for gates, build in NATIVE:
        # Native circuits (gateset overridden per circuit) prepare a generic state natively.
        prep = [{"gate": "gpi2", "target": q, "phase": 0.1 + 0.2 * q} for q in range(N)] + [
            {"gate": "ms", "targets": [0, 1], "phases": [0.05, 0.15], "angle": 0.2},
            {"gate": "gpi2", "target": 2, "phase": 0.4},
        ]
        circuits.append({"gateset": "native", "circuit": prep + gates + MIX})

        def build_all(qc: QuantumCircuit, build: Builder = build) -> None:
            for q in range(N):
                _gpi2(qc, 0.1 + 0.2 * q, q)
            _ms(qc, 0.05, 0.15, 0.2, 0, 1)
            _gpi2(qc, 0.4, 2)
            build(qc)
            _mix(qc)

        qc = QuantumCircuit(N)
        build_all(qc)
        expected.append(Statevector(qc).probabilities())
    body = {"type": "ionq.multi-circuit.v1", "backend": "simulator",
            "input": {"gateset": "qis", "qubits": N, "circuits": circuits}}
    r = api.post("/jobs", json=body)
    assert r.status_code == 201, r.text
    job = wait_for(api, r.json()["id"])
    assert job["status"] == "completed", job["failure"]
    nested = api.get(f"/jobs/{job['id']}/results/probabilities").json()
    labels = [c["circuit"][len(PREP)] for c in circuits[: len(QIS)]] + [g for g, _ in NATIVE]
    for label, got, want in zip(labels, nested.values(), expected, strict=True):
        vector = np.zeros(2**N)
        for k, p in got.items():
            vector[int(k)] = p
        np.testing.assert_allclose(vector, want, atol=1e-10, err_msg=str(label))


@pytest.mark.parametrize("qubits", [1, 4])
def test_empty_circuit_is_all_zeros(api: httpx.Client, qubits: int) -> None:
    body = {"type": "ionq.circuit.v1", "backend": "simulator", "input": {"qubits": qubits, "circuit": []}}
    job = wait_for(api, api.post("/jobs", json=body).json()["id"])
    assert job["stats"]["qubits"] == qubits
    assert api.get(f"/jobs/{job['id']}/results/probabilities").json() == {"0": 1.0}
