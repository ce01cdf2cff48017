"""Validating a ``quantum-function`` job's input (``hamiltonian-energy``): the ansatz compiled
with its ``params`` bound, and the observable (``core/hamiltonians.py`` says what each field
means). Every problem is reported with the path of the offending item."""

from __future__ import annotations

import math
from typing import Any

from .. import engine
from ..core import hamiltonians, qasm3
from ..core.problems import Problems
from ..engine.dynamic import static_part

#: The exact evaluation makes one pass over the 2^n-amplitude state per term: a job may ask
#: for at most this many amplitude visits (20 qubits: 16,384 terms; 29 qubits: 32).
MAX_TERM_PASSES = 2**34
QCTRL_QAOA = "qctrl.qaoa.v1"
QCTRL_REFUSAL = ("qctrl.qaoa.v1 runs Q-CTRL's QAOA solver in Q-CTRL's cloud, with your Q-CTRL credentials; "
                 "qharbor cannot run it. Use type 'quantum-function' with a 'hamiltonian-energy' input "
                 "(a QAOA ansatz and its cost Hamiltonian) and optimise its params yourself")


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        v = float(value)
    except OverflowError:  # an integer beyond any float
        return None
    return v if math.isfinite(v) else None


def _vector(value: Any, n: int, path: str, p: Problems) -> tuple[float, ...] | None:
    if not isinstance(value, list) or len(value) != n:
        p.add(path, f"must be a list of {n} numbers (one per qubit of the ansatz)")
        return None
    out = [_finite(v) for v in value]
    if any(v is None for v in out):
        p.add(path, "must hold finite numbers only")
        return None
    return tuple(v for v in out if v is not None)


def energy_program(program: Any, limit: int, max_gates: int,
                   p: Problems) -> tuple[engine.Circuit, hamiltonians.Observable] | None:
    """``input``: ``{"data": {"type": "hamiltonian-energy", "data": {...}}, "params": [...]}``
    (ionq-core's ``HamiltonianEnergyInput``; the flat ``{"type", "data", "params"}`` of the
    spec's discriminator is read the same way)."""
    if not isinstance(program, dict):
        p.add("input", "must be an object with 'data' (type 'hamiltonian-energy' and its data) and 'params'")
        return None
    inner, base = program.get("data"), "input.data"
    if program.get("type") is not None:  # the flat form
        inner, base = {"type": program.get("type"), "data": program.get("data")}, "input"
    if not isinstance(inner, dict):
        p.add("input.data", "must be an object with 'type': 'hamiltonian-energy' and 'data'")
        return None
    if inner.get("type") != hamiltonians.INPUT_TYPE:
        p.add(f"{base}.type", f"must be '{hamiltonians.INPUT_TYPE}' (the quantum function qharbor runs)")
        return None
    data, at = inner.get("data"), f"{base}.data"
    if not isinstance(data, dict):
        p.add(at, "must be an object with 'hamiltonian' and 'ansatz'")
        return None
    params = program.get("params")
    if params is None:
        params = []
    values = [_finite(v) for v in params] if isinstance(params, list) else None
    if values is None or any(v is None for v in values):
        p.add("input.params", "must be a list of finite numbers (the ansatz's input parameters, in order)")
        return None
    ansatz = data.get("ansatz")
    source = ansatz.get("data") if isinstance(ansatz, dict) else None
    if not isinstance(source, str):
        p.add(f"{at}.ansatz.data", "is required: the OpenQASM 3 ansatz")
        return None
    try:
        compiled = qasm3.parse(source, limit, max_gates, [v for v in values if v is not None])
    except qasm3.Qasm3InputError as exc:
        p.add("input.params", str(exc))
        return None
    except qasm3.Qasm3Error as exc:
        p.add(f"{at}.ansatz.data", str(exc))
        return None
    static = static_part(compiled.program)
    if static is None:
        p.add(f"{at}.ansatz.data", "must prepare a state: no mid-circuit measurement, reset or classical control "
                                   "(final measurements are ignored)")
        return None
    circuit = static[0]
    n = circuit.qubits
    observable = _observable(data, n, at, p)
    return None if observable is None else (circuit, observable)


def _observable(data: dict[str, Any], n: int, at: str, p: Problems) -> hamiltonians.Observable | None:
    before = len(p.items)
    terms: list[hamiltonians.Term] = []
    raw = data.get("hamiltonian")
    if not isinstance(raw, list) or not raw:
        p.add(f"{at}.hamiltonian", "must be a non-empty list of {pauli_string, coefficient} terms")
        raw = []
    elif len(raw) * (1 << n) > MAX_TERM_PASSES:
        p.add(f"{at}.hamiltonian", f"{len(raw)} terms on {n} qubits is more than qharbor evaluates in one job "
                                   f"(terms x 2^qubits <= 2^{MAX_TERM_PASSES.bit_length() - 1})")
        raw = []
    for i, item in enumerate(raw):
        path = f"{at}.hamiltonian[{i}]"
        if not isinstance(item, dict):
            p.add(path, "must be an object with 'pauli_string' and 'coefficient'")
            continue
        coefficient = _finite(item.get("coefficient"))
        if coefficient is None:
            p.add(f"{path}.coefficient", "must be a finite number")
        try:
            x, z = hamiltonians.pauli(item.get("pauli_string"), n)
        except hamiltonians.PauliError as exc:
            p.add(f"{path}.pauli_string", str(exc))
            continue
        if coefficient is not None:
            terms.append(hamiltonians.Term(x, z, coefficient))
    linear = []
    for i, item in enumerate(_list(data, "linear_constraints", at, p)):
        path = f"{at}.linear_constraints[{i}]"
        a = _vector(item.get("coeffs") if isinstance(item, dict) else None, n, f"{path}.coeffs", p)
        b = _finite(item.get("rhs")) if isinstance(item, dict) else None
        if b is None:
            p.add(f"{path}.rhs", "must be a finite number")
        if a is not None and b is not None:
            linear.append((a, b))
    quadratic = []
    for i, item in enumerate(_list(data, "quadratic_constraints", at, p)):
        path = f"{at}.quadratic_constraints[{i}]"
        item = item if isinstance(item, dict) else {}
        rows = item.get("quadratic_coeff")
        matrix = None
        if not isinstance(rows, list) or len(rows) != n:
            p.add(f"{path}.quadratic_coeff", f"must be a {n} x {n} matrix (one row and column per qubit)")
        else:
            got = [_vector(row, n, f"{path}.quadratic_coeff[{j}]", p) for j, row in enumerate(rows)]
            matrix = tuple(r for r in got if r is not None) if all(r is not None for r in got) else None
        r = _vector(item.get("linear_coeff"), n, f"{path}.linear_coeff", p)
        c = _finite(item.get("rhs"))
        if c is None:
            p.add(f"{path}.rhs", "must be a finite number")
        if matrix is not None and r is not None and c is not None:
            quadratic.append((matrix, r, c))
    penalty = data.get("penalty")
    penalty = 0.0 if penalty is None else _finite(penalty)
    if penalty is None or penalty < 0:
        p.add(f"{at}.penalty", "must be a finite number >= 0 (the cost per unit of constraint violation)")
        penalty = 0.0
    alpha = data.get("cvar_alpha")
    if alpha is not None:
        alpha = _finite(alpha)
        if alpha is None or not 0 < alpha <= 1:
            p.add(f"{at}.cvar_alpha", "must be a number in (0, 1]: the share of lowest-energy outcomes averaged")
            alpha = None
        elif any(not t.diagonal for t in terms):
            p.add(f"{at}.cvar_alpha", "needs a diagonal Hamiltonian (only I and Z): CVaR averages the energies "
                                      "of measured basis states")
            alpha = None
    if len(p.items) > before:
        return None
    return hamiltonians.Observable(n, tuple(terms), tuple(linear), tuple(quadratic), penalty, alpha)


def _list(data: dict[str, Any], key: str, at: str, p: Problems) -> list[Any]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        p.add(f"{at}.{key}", "must be a list")
        return []
    return value
