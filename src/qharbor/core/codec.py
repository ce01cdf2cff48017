"""The stored form of programs: what the service writes once a request is validated, and
what a worker reads back to run (canonical gates, so workers never validate again).

A JSON circuit (``ionq.circuit.v1``, each circuit of ``ionq.multi-circuit.v1``) is stored
as its canonical gate list; an OpenQASM 3 program (``ionq.qasm3.v1``) as its compiled form
(``qasm3.encode``/``qasm3.decode``), as is a QIR program (``ionq.qir.v1``, ``qir.parse``); a
``quantum-function`` job as its bound ansatz circuit and its observable
(``hamiltonians.Observable``). New job types add their codec here.
"""

from __future__ import annotations

import orjson

from .. import engine
from ..engine.circuit import make_gate
from . import hamiltonians, qasm3, qir

#: Job types stored in compiled form (``qasm3.encode``), with results per classical record.
COMPILED_TYPES = frozenset({qasm3.JOB_TYPE, qir.JOB_TYPE})


def encode_circuit(circuit: engine.Circuit) -> str:
    """The stored form of a validated circuit (canonical gates, so workers skip validation)."""
    return orjson.dumps(
        {
            "qubits": circuit.qubits,
            "gates": [
                [g.name, g.targets, g.controls, g.params, g.terms, g.coefficients] for g in circuit.gates
            ],
        }
    ).decode()


def decode_circuit(text: str) -> engine.Circuit:
    data = orjson.loads(text)
    empty = ()
    return engine.Circuit(
        data["qubits"],
        tuple(
            make_gate((n, tuple(t), tuple(c) if c else empty, tuple(pr) if pr else empty,
                       tuple(te) if te else empty, tuple(co) if co else empty))
            for n, t, c, pr, te, co in data["gates"]
        ),
    )


def encode_energy(ansatz: engine.Circuit, observable: hamiltonians.Observable) -> str:
    """The stored form of a hamiltonian-energy job: the ansatz with its ``params`` bound, and
    the observable."""
    return orjson.dumps({"ansatz": orjson.loads(encode_circuit(ansatz)),
                         "observable": observable.to_json()}).decode()


def decode_energy(text: str) -> tuple[engine.Circuit, hamiltonians.Observable]:
    data = orjson.loads(text)
    return decode_circuit(orjson.dumps(data["ansatz"]).decode()), hamiltonians.Observable.from_json(data["observable"])


def qasm3_gates(compiled: qasm3.Qasm3Program) -> engine.Circuit:
    """An OpenQASM 3 program's gates as one circuit (measurements and control flow aside):
    what ``stats.gate_counts`` and emulated times count."""
    return engine.Circuit(compiled.qubits, tuple(compiled.gates()))


def gate_counts(circuit: engine.Circuit) -> dict[str, int]:
    """One-qubit gates (per target), and two-qubit gates, a gate on k qubits counting k − 1
    (the same accounting as the noise models' error channels, ``engine/noise.py``)."""
    counts = {"1q": 0, "2q": 0}
    for g in circuit.gates:
        if g.name in engine.ONE_QUBIT and not g.controls:
            counts["1q"] += len(g.targets)
        else:
            counts["2q"] += len(g.controls) + len(g.targets) - 1
    return counts
