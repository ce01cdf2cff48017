"""Independent references: every canonical gate built from qiskit's own gates.

Nothing here uses the engine's matrices; qiskit (``quantum_info``) is the oracle.
Our matrices are big-endian over the target list, qiskit's little-endian over its
qargs, so gates are applied to ``reversed(targets)`` where the order matters.
"""

from __future__ import annotations

import math

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import library as lib
from qiskit.quantum_info import SparsePauliOp

from qharbor.engine import Gate

FIXED = {"x": lib.XGate, "y": lib.YGate, "z": lib.ZGate, "h": lib.HGate, "s": lib.SGate,
         "si": lib.SdgGate, "t": lib.TGate, "ti": lib.TdgGate, "v": lib.SXGate, "vi": lib.SXdgGate,
         "swap": lib.SwapGate}
ROTATIONS = {"rx": lib.RXGate, "ry": lib.RYGate, "rz": lib.RZGate, "phase": lib.PhaseGate,
             "xx": lib.RXXGate, "yy": lib.RYYGate, "zz": lib.RZZGate}


def _native(g: Gate) -> QuantumCircuit:
    """GPI, GPI2, MS from their definitions as rotations conjugated by Z phases."""
    k = len(g.targets)
    qc = QuantumCircuit(k)
    turn = lambda phi: 2 * math.pi * phi
    if g.name in {"gpi", "gpi2"}:
        qc.rz(-turn(g.params[0]), 0)
        qc.x(0) if g.name == "gpi" else qc.rx(math.pi / 2, 0)
        qc.rz(turn(g.params[0]), 0)
    else:  # ms: qarg 1 is targets[0] (big-endian), carrying phi0
        phi0, phi1, theta = g.params
        qc.rz(-turn(phi0), 1), qc.rz(-turn(phi1), 0)
        qc.rxx(2 * math.pi * theta, 0, 1)
        qc.rz(turn(phi0), 1), qc.rz(turn(phi1), 0)
    return qc


def gate_op(g: Gate):
    """The qiskit instruction of ``g`` without its controls, for qargs ``reversed(targets)``."""
    if g.name in FIXED:
        return FIXED[g.name]()
    if g.name in ROTATIONS:
        return ROTATIONS[g.name](g.params[0])
    if g.name == "pauliexp":
        # Term character k acts on targets[n-1-k]; qiskit's label character k acts on
        # qarg n-1-k, and the qargs here are reversed(targets): reverse the label.
        op = SparsePauliOp([t[::-1] for t in g.terms], np.array(g.coefficients))
        return lib.PauliEvolutionGate(op, time=g.params[0])
    return _native(g).to_gate(label=g.name)


def append(qc: QuantumCircuit, g: Gate) -> None:
    """Append ``g`` (with its controls, broadcast over several one-qubit targets) to ``qc``."""
    one_qubit_broadcast = len(g.targets) > 1 and g.name not in {"swap", "xx", "yy", "zz", "ms", "pauliexp"}
    groups = [(t,) for t in g.targets] if one_qubit_broadcast else [g.targets]
    for targets in groups:
        op = gate_op(Gate(g.name, targets, (), g.params, g.terms, g.coefficients))
        if g.controls:
            op = op.control(len(g.controls))
        qc.append(op, list(g.controls) + list(reversed(targets)))


def circuit(n: int, gates: list[Gate]) -> QuantumCircuit:
    qc = QuantumCircuit(n)
    for g in gates:
        append(qc, g)
    return qc
