"""OpenQASM 3 translation (service.qasm3) against qiskit's own operators, and the dynamic simulator."""

from __future__ import annotations

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.circuit import library
from qiskit.qasm3 import dumps
from qiskit.quantum_info import Operator

from qharbor.core import qasm3
from qharbor.engine import Gate, dynamic


def _unitary(program: qasm3.Qasm3Program) -> np.ndarray:
    n = program.qubits
    columns = []
    for i in range(2**n):
        state = np.zeros(2**n, dtype=complex)
        state[i] = 1
        state = state.reshape((2,) * n)
        for gate in program.gates():
            dynamic._apply(state, n, gate)
        columns.append(state.reshape(-1))
    return np.array(columns).T


def _circuit(width: int, build) -> QuantumCircuit:  # type: ignore[no-untyped-def]
    qc = QuantumCircuit(width)
    qc.h(0)
    qc.rx(0.3, width - 1)
    build(qc)
    return qc


CASES = {
    **{name: (2, lambda qc, n=name: getattr(qc, n)(0)) for name in
       ["x", "y", "z", "h", "s", "sdg", "t", "tdg", "sx", "id"]},
    **{name: (2, lambda qc, n=name: getattr(qc, n)(0.37, 0)) for name in ["rx", "ry", "rz", "p"]},
    **{name: (2, lambda qc, n=name: getattr(qc, n)(0, 1)) for name in
       ["cx", "cy", "cz", "ch", "swap", "dcx", "iswap", "csx", "cs"]},
    **{name: (2, lambda qc, n=name: getattr(qc, n)(0.41, 0, 1)) for name in
       ["rxx", "rzz", "cp", "crx", "cry", "crz", "rzx"]},
    "cu": (2, lambda qc: qc.cu(0.1, 0.2, 0.3, 0.4, 0, 1)),
    "ccx": (3, lambda qc: qc.ccx(0, 1, 2)),
    "cswap": (3, lambda qc: qc.cswap(0, 1, 2)),
    "mcx": (4, lambda qc: qc.mcx([0, 1, 2], 3)),
    "c-rzz": (3, lambda qc: qc.append(library.RZZGate(0.3).control(1), [0, 1, 2])),
    "c-ryy": (3, lambda qc: qc.append(library.RYYGate(0.3).control(1), [0, 1, 2])),
    "c-rxx": (3, lambda qc: qc.append(library.RXXGate(0.3).control(1), [0, 1, 2])),
    "cc-u": (3, lambda qc: qc.append(library.UGate(0.3, 0.2, 0.1).control(2), [0, 1, 2])),
    "negctrl-h": (3, lambda qc: qc.append(library.HGate().control(2, ctrl_state=1), [0, 1, 2])),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_gates_match_qiskit_exactly(name: str) -> None:
    width, build = CASES[name]
    qc = _circuit(width, build)
    assert np.allclose(_unitary(qasm3.parse(dumps(qc))), Operator(qc).data, atol=1e-9)


@pytest.mark.parametrize("name", ["u", "ryy", "sxdg", "ecr"])
def test_gates_match_qiskit_up_to_global_phase(name: str) -> None:
    qc = QuantumCircuit(2)
    qc.h(0)
    {"u": lambda: qc.u(0.1, 0.2, 0.3, 0), "ryy": lambda: qc.ryy(0.4, 0, 1), "sxdg": lambda: qc.sxdg(0),
     "ecr": lambda: qc.ecr(0, 1)}[name]()
    ours, theirs = _unitary(qasm3.parse(dumps(qc))), Operator(qc).data
    overlap = np.vdot(ours.reshape(-1), theirs.reshape(-1)) / ours.shape[0]
    assert abs(abs(overlap) - 1) < 1e-9


def test_stored_form_round_trips() -> None:
    source = ('OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[2] q;\nbit[2] c;\nh q[0];\n'
              "c[0] = measure q[0];\nif (c[0] == 1) { x q[1]; } else { reset q[1]; }\nmeasure q[1];\n")
    program = qasm3.parse(source)
    assert qasm3.decode(qasm3.encode(program)) == program


def test_terminal_measurements_are_deferred() -> None:
    ops = (Gate("h", (0,)), dynamic.Measure(0, 0), Gate("h", (1,)), dynamic.Measure(1, 1))
    kept, deferred = dynamic.split_deferred(ops)
    assert kept == [Gate("h", (0,)), Gate("h", (1,))] and deferred == [ops[1], ops[3]]
    # a measured qubit used again, or a bit read by a condition, stays in place
    cond = dynamic.IfElse(dynamic.Condition((0,), "==", 1), (Gate("x", (1,)),))
    kept, deferred = dynamic.split_deferred((dynamic.Measure(0, 0), cond, dynamic.Measure(1, 1)))
    assert kept == [dynamic.Measure(0, 0), cond] and deferred == [dynamic.Measure(1, 1)]


def test_static_programs_are_exact_and_dynamic_ones_seeded() -> None:
    bell = dynamic.Program(2, 2, (Gate("h", (0,)), Gate("x", (1,), (0,)), dynamic.Measure(0, 0), dynamic.Measure(1, 1)))
    assert dynamic.outcomes(bell, 10, np.random.default_rng(0)) == (pytest.approx({0: 0.5, 3: 0.5}), True)
    flip = dynamic.Program(1, 2, (Gate("h", (0,)), dynamic.Measure(0, 0), dynamic.Reset(0), dynamic.Measure(0, 1)))
    first = dynamic.outcomes(flip, 1000, np.random.default_rng(5))
    assert first == dynamic.outcomes(flip, 1000, np.random.default_rng(5))
    distribution, exact = first
    assert not exact and set(distribution) == {0, 1} and sum(distribution.values()) == pytest.approx(1)
