"""A parameterised hardware-efficient ansatz written twice, independently: as the OpenQASM 3
``input float[64]`` program a ``quantum-function`` job sends, and as the qiskit circuit with
those parameters bound that references (``Statevector``, qiskit-aer) evaluate."""

from __future__ import annotations

from qiskit import QuantumCircuit


def qasm(n: int, layers: int) -> tuple[str, int]:
    """The program (layers of ry, rz on every qubit then a cx ladder; inputs t0, t1, ...) and
    its number of inputs."""
    lines, k = [], 0
    for _ in range(layers):
        for q in range(n):
            lines += [f"ry(t{k}) q[{q}];", f"rz(t{k + 1}) q[{q}];"]
            k += 2
        lines += [f"cx q[{q}], q[{q + 1}];" for q in range(n - 1)]
    inputs = "".join(f"input float[64] t{i};\n" for i in range(k))
    return 'OPENQASM 3.0;\ninclude "stdgates.inc";\n' + inputs + f"qubit[{n}] q;\n" + "\n".join(lines) + "\n", k


def circuit(n: int, layers: int, params: list[float]) -> QuantumCircuit:
    qc, k = QuantumCircuit(n), 0
    for _ in range(layers):
        for q in range(n):
            qc.ry(params[k], q)
            qc.rz(params[k + 1], q)
            k += 2
        for q in range(n - 1):
            qc.cx(q, q + 1)
    return qc
