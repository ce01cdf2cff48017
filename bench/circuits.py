"""Benchmark circuits in qharbor's canonical form, shared by the bench scripts."""

from __future__ import annotations

import math

import numpy as np

from qharbor.engine import Circuit, Gate


def ghz(n: int) -> Circuit:
    return Circuit(n, (Gate("h", (0,)),) + tuple(Gate("x", (q + 1,), (q,)) for q in range(n - 1)))


def qft(n: int) -> Circuit:
    """QFT without the final swaps, on a random product input so no amplitude is trivial."""
    rng = np.random.default_rng(n)
    gates = [Gate("ry", (q,), (), (float(rng.uniform(0, math.pi)),)) for q in range(n)]
    for j in reversed(range(n)):
        gates.append(Gate("h", (j,)))
        for k in reversed(range(j)):
            gates.append(Gate("phase", (j,), (k,), (math.pi / 2 ** (j - k),)))
    return Circuit(n, tuple(gates))


def random_layers(n: int, layers: int = 20, seed: int = 1) -> Circuit:
    """Each layer: rx, ry or rz (random angle) on every qubit, then cnots on a random matching."""
    rng = np.random.default_rng(seed)
    gates = []
    for _ in range(layers):
        for q in range(n):
            gates.append(Gate(("rx", "ry", "rz")[rng.integers(3)], (q,), (), (float(rng.uniform(0, 2 * math.pi)),)))
        perm = rng.permutation(n)
        gates += [Gate("x", (int(perm[i + 1]),), (int(perm[i]),)) for i in range(0, n - 1, 2)]
    return Circuit(n, tuple(gates))


def inverse(circuit: Circuit) -> Circuit:
    """The inverse of a circuit of the gates above (self-inverse h and cnot; rotations
    and controlled phases with the angle negated), gates in reverse order."""
    gates = []
    for g in reversed(circuit.gates):
        gates.append(Gate(g.name, g.targets, g.controls, tuple(-p for p in g.params)) if g.params else g)
    return Circuit(circuit.qubits, tuple(gates))


def mirror(n: int, layers: int, seed: int = 1) -> Circuit:
    """``random_layers(n, layers)`` followed by its inverse: ideally every shot returns to
    |0...0>, so the noisy return probability is one number any two simulators of the same
    noise model must agree on (within sampling error), at any width."""
    forward = random_layers(n, layers, seed)
    return Circuit(n, forward.gates + inverse(forward).gates)


def small_batch(count: int, n: int = 5, depth: int = 50, seed: int = 2) -> list[Circuit]:
    """``count`` random ``n``-qubit circuits of ``depth`` gates (cnot, h, rx, ry, rz)."""
    rng = np.random.default_rng(seed)
    batch = []
    for _ in range(count):
        gates = []
        for _ in range(depth):
            a, b = (int(x) for x in rng.choice(n, 2, replace=False))
            kind = int(rng.integers(5))
            if kind == 4:
                gates.append(Gate("x", (b,), (a,)))
            elif kind == 3:
                gates.append(Gate("h", (a,)))
            else:
                gates.append(Gate(("rx", "ry", "rz")[kind], (a,), (), (float(rng.uniform(0, 2 * math.pi)),)))
        batch.append(Circuit(n, tuple(gates)))
    return batch


def cases(sizes: list[int], small: int, only: list[str] | None = None) -> list[tuple[str, list[Circuit]]]:
    """The bench scripts' cases, named ``ghz-N``, ``qft-N``, ``random-N`` per size and
    ``small-Kx5q`` (``small_batch(small)``), kept when a name starts with one of ``only``."""
    out: list[tuple[str, list[Circuit]]] = []
    for n in sizes:
        out += [(f"ghz-{n}", [ghz(n)]), (f"qft-{n}", [qft(n)]), (f"random-{n}", [random_layers(n)])]
    out.append((f"small-{small}x5q", small_batch(small)))
    return [c for c in out if any(c[0].startswith(p) for p in only)] if only else out


# --- converters: the gates above (h, rx/ry/rz, cnot as x with one control, controlled phase) ---

def to_cirq(circuit: Circuit, measure: bool = False, reverse: bool = False):  # type: ignore[no-untyped-def]
    """A cirq circuit on ``LineQubit.range(n)``; with ``measure``, a terminal measurement of
    every qubit under key ``"m"``, column q = qubit q. Cirq's state vectors put the first
    qubit in the most significant bit (qharbor: the least), so reverse their axes to compare
    — or build with ``reverse``: qubit q on ``LineQubit(n - 1 - q)``, whose state vector (in
    cirq's default qubit order) is then indexed exactly like qharbor's."""
    import cirq

    qs = cirq.LineQubit.range(circuit.qubits)
    if reverse:
        qs = qs[::-1]
    ops = []
    for g in circuit.gates:
        t = qs[g.targets[0]]
        if g.name == "x" and g.controls:
            ops.append(cirq.CNOT(qs[g.controls[0]], t))
        elif g.name == "phase":
            ops.append(cirq.CZPowGate(exponent=g.params[0] / math.pi)(qs[g.controls[0]], t))
        elif g.name == "h":
            ops.append(cirq.H(t))
        else:
            ops.append(getattr(cirq, g.name)(g.params[0])(t))
    if measure:
        ops.append(cirq.measure(*qs, key="m"))
    return cirq.Circuit(ops)


def to_qulacs(circuit: Circuit):  # type: ignore[no-untyped-def]
    """A qulacs ``QuantumCircuit`` (qulacs, like qharbor, puts qubit 0 in the least
    significant bit of a state's index)."""
    import qulacs
    from qulacs.gate import DenseMatrix

    qc = qulacs.QuantumCircuit(circuit.qubits)
    for g in circuit.gates:
        t = g.targets[0]
        if g.name == "x" and g.controls:
            qc.add_CNOT_gate(g.controls[0], t)
        elif g.name == "phase":
            gate = DenseMatrix(t, np.diag([1, np.exp(1j * g.params[0])]))
            gate.add_control_qubit(g.controls[0], 1)
            qc.add_gate(gate)
        elif g.name == "h":
            qc.add_H_gate(t)
        else:  # qulacs' add_RX_gate(q, a) is exp(+i a X / 2): the opposite sign
            getattr(qc, f"add_{g.name.upper()}_gate")(t, -g.params[0])
    return qc


def to_qiskit(circuit: Circuit, measure: bool = False):  # type: ignore[no-untyped-def]
    """A qiskit circuit (qubit q = qiskit's qubit q, so counts' bitstrings read as binary
    are qharbor's keys); with ``measure``, ``measure_all()``."""
    from qiskit import QuantumCircuit

    qc = QuantumCircuit(circuit.qubits)
    for g in circuit.gates:
        t = g.targets[0]
        if g.name == "x" and g.controls:
            qc.cx(g.controls[0], t)
        elif g.name == "phase":
            qc.cp(g.params[0], g.controls[0], t)
        elif g.name == "h":
            qc.h(t)
        else:
            getattr(qc, g.name)(g.params[0], t)
    if measure:
        qc.measure_all()
    return qc


def to_ionq(circuit: Circuit) -> list[dict[str, object]]:
    """The circuit as IonQ JSON ``qis`` gates (qharbor's own wire form)."""
    out: list[dict[str, object]] = []
    for g in circuit.gates:
        t = g.targets[0]
        if g.name == "x" and g.controls:
            out.append({"gate": "cnot", "control": g.controls[0], "target": t})
        elif g.name == "phase":
            out.append({"gate": "z", "rotation": g.params[0], "control": g.controls[0], "target": t})
        elif g.name == "h":
            out.append({"gate": "h", "target": t})
        elif g.name in ("rx", "ry", "rz") and not g.controls:
            out.append({"gate": g.name, "target": t, "rotation": g.params[0]})
        else:
            raise ValueError(f"no IonQ form for {g}")
    return out


def ionq_job(circuit: Circuit, shots: int) -> dict[str, object]:
    """An ``ionq.circuit.v1`` job on the ideal simulator."""
    return {"type": "ionq.circuit.v1", "backend": "simulator", "shots": shots,
            "input": {"gateset": "qis", "qubits": circuit.qubits, "circuit": to_ionq(circuit)}}


def ionq_multi_job(circuits: list[Circuit], shots: int) -> dict[str, object]:
    """One ``ionq.multi-circuit.v1`` job holding ``circuits`` (how qiskit-ionq and cirq-ionq
    submit a list), children named c0, c1, ..."""
    return {"type": "ionq.multi-circuit.v1", "backend": "simulator", "shots": shots,
            "input": {"gateset": "qis", "qubits": max(c.qubits for c in circuits),
                      "circuits": [{"circuit": to_ionq(c), "name": f"c{i}"} for i, c in enumerate(circuits)]}}
