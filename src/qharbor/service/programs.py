"""Validating a job-creation request and translating its program for the engine.

Every wire form real clients send (clients.md §8.1, §8.7) is accepted here and
turned into canonical :class:`qharbor.engine.Gate` records; every problem found is
reported at once with the path of the offending item.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass, field
from typing import Any

import orjson

from .. import engine
from ..core import backends, hamiltonians, qasm3, qir
from ..core.backends import noise_model
from ..core.codec import gate_counts, qasm3_gates
from ..core.problems import Problems
from ..core.results import schema_document
from ..engine.circuit import make_gate
from . import quantum_functions

QIS_GATES = frozenset(
    {"x", "y", "z", "rx", "ry", "rz", "h", "s", "si", "v", "vi", "t", "ti", "not", "cnot", "swap",
     "xx", "yy", "zz", "pauliexp"}
)
_NATIVE = ("gpi", "gpi2", "ms", "zz", "nop")
NATIVE_GATES = frozenset(_NATIVE)
JOB_TYPES = ("ionq.circuit.v1", "ionq.multi-circuit.v1", qasm3.JOB_TYPE, qir.JOB_TYPE, hamiltonians.JOB_TYPE)

MAX_SHOTS = 1_000_000
DEFAULT_SHOTS = 100
MAX_CIRCUITS = 5_000
MAX_GATES = 150_000
MAX_PAULIEXP_QUBITS = 10
METADATA_MAX_KEYS = 10
METADATA_MAX_NAME = 40
METADATA_MAX_VALUE = 40_000

_FIXED_QIS = {"x", "y", "z", "h", "s", "si", "t", "ti", "v", "vi", "not"}
_ROTATIONS = {"rx", "ry", "rz"}
_TWO_QUBIT_ROTATIONS = {"xx", "yy", "zz"}


@dataclass
class CircuitProgram:
    """One validated circuit: what the engine runs, and what the job reports about it."""

    name: str | None
    circuit: engine.Circuit
    gate_counts: dict[str, int]
    registers: dict[str, Any] | None = None  # a client's register map, stored and echoed (v0.3)


@dataclass
class JobRequest:
    """A validated ``POST /jobs`` body."""

    type: str
    backend: str
    name: str | None
    shots: int
    dry_run: bool
    session_id: str | None
    noise: dict[str, Any] | None
    settings: dict[str, Any]
    metadata: Any  # exactly as submitted (dict or None)
    seed: int  # noise.seed when given, else a clone's source's, else drawn (see draw_seed)
    debiasing: bool  # runs debiased: IonQ's defaults and limits, decided here once (engine/debias.py)
    circuits: list[CircuitProgram] = field(default_factory=list)
    registers: dict[str, Any] | None = None  # a client's register map, stored and echoed (v0.3)
    #: For ionq.qasm3.v1 and ionq.qir.v1: the translated program (``circuits`` then holds its gates, for stats).
    qasm3: qasm3.Qasm3Program | None = None
    #: For quantum-function: what it evaluates (``circuits`` then holds its bound ansatz).
    energy: hamiltonians.Observable | None = None

    @property
    def qubits(self) -> int:
        return max(c.circuit.qubits for c in self.circuits)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: Any) -> float | None:
    """A finite real from a JSON number or numeric string (qiskit may send either)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        result = float(value)
    elif isinstance(value, str):
        try:
            result = float(value)
        except ValueError:
            return None
    else:
        return None
    return result if math.isfinite(result) else None


def _qubit_list(gate: dict[str, Any], single: str, plural: str, path: str, p: Problems) -> list[int] | None:
    """Read ``target``/``targets`` (or ``control``/``controls``) into a list."""
    has_single, has_plural = single in gate, plural in gate
    if has_single and has_plural:
        p.add(f"{path}.{single}", f"give either '{single}' or '{plural}', not both")
        return None
    if has_single:
        value = gate[single]
        if not _is_int(value) or value < 0:
            p.add(f"{path}.{single}", "must be a non-negative integer qubit index")
            return None
        return [value]
    if has_plural:
        value = gate[plural]
        if not isinstance(value, list) or not all(_is_int(q) and q >= 0 for q in value):
            p.add(f"{path}.{plural}", "must be a list of non-negative integer qubit indices")
            return None
        if len(set(value)) != len(value):
            p.add(f"{path}.{plural}", "lists a qubit more than once")
            return None
        return list(value)
    return []


def _param(gate: dict[str, Any], key: str, path: str, p: Problems) -> float | None:
    if key not in gate or gate[key] is None:
        p.add(f"{path}.{key}", f"'{gate.get('gate')}' needs a numeric '{key}'")
        return None
    value = _number(gate[key])
    if value is None:
        p.add(f"{path}.{key}", "must be a finite number")
    return value


#: Gate names the fast path of :func:`_parse_gate` takes with no parameter, and their canonical names.
_PLAIN = {name: ("x" if name in ("not", "cnot") else name) for name in _FIXED_QIS | {"cnot"}}


def _common_gate(gate: Any) -> engine.Gate | None:
    """The QIS gates circuits are mostly made of, in their usual wire forms (``target``, an
    optional ``control`` and ``rotation``, nothing else), or None to take the full path:
    its checks, for the few shapes this recognises, come down to these."""
    if type(gate) is not dict:
        return None
    name, t, c, r = gate.get("gate"), gate.get("target"), gate.get("control"), gate.get("rotation")
    if type(t) is not int or t < 0 or len(gate) != 2 + (c is not None) + (r is not None):
        return None
    if c is None:
        controls: tuple[int, ...] = ()
    elif type(c) is int and 0 <= c != t:
        controls = (c,)
    else:
        return None
    if r is None:
        canonical = _PLAIN.get(name)  # type: ignore[arg-type]
        if canonical is None or (name == "cnot" and not controls):
            return None
        return make_gate((canonical, (t,), controls, (), (), ()))
    if (type(r) is not float and type(r) is not int) or not math.isfinite(r):
        return None
    if name in _ROTATIONS:
        return make_gate((name, (t,), controls, (float(r),), (), ()))
    if name == "z":
        return make_gate(("phase", (t,), controls, (float(r),), (), ()))
    return None


def _parse_gate(gate: Any, gateset: str, path: str, p: Problems) -> engine.Gate | None:
    """One wire gate to one canonical gate (``None`` for no-ops and after problems)."""
    if gateset == "qis" and (common := _common_gate(gate)) is not None:
        return common
    return _parse_any_gate(gate, gateset, path, p)


def _parse_any_gate(gate: Any, gateset: str, path: str, p: Problems) -> engine.Gate | None:
    """:func:`_parse_gate` for every form, with every check."""
    if not isinstance(gate, dict):
        p.add(path, "each gate must be an object")
        return None
    name = gate.get("gate")
    allowed = QIS_GATES if gateset == "qis" else NATIVE_GATES
    if not isinstance(name, str) or name not in allowed:
        p.add(f"{path}.gate", f"unknown gate {name!r} for gateset '{gateset}' (known: {', '.join(sorted(allowed))})")
        return None
    before = len(p.items)
    targets = _qubit_list(gate, "target", "targets", path, p)
    controls = _qubit_list(gate, "control", "controls", path, p)
    if targets is None or controls is None:
        return None
    if name == "nop":
        return None
    if gateset == "native" and controls:
        p.add(f"{path}.controls", "native gates cannot be controlled")
    if not targets:
        p.add(f"{path}.targets", f"'{name}' needs a target")
    if set(targets) & set(controls):
        p.add(f"{path}.controls", "a qubit cannot be both a control and a target")
    two_qubit = name in {"swap", "ms"} | _TWO_QUBIT_ROTATIONS
    if two_qubit and targets and len(targets) != 2:
        p.add(f"{path}.targets", f"'{name}' acts on exactly two targets")
    if name == "swap" and controls:
        p.add(f"{path}.controls", "'swap' cannot be controlled")
    if name == "cnot" and not controls:
        p.add(f"{path}.control", "'cnot' needs a control")

    params: tuple[float, ...] = ()
    terms: tuple[str, ...] = ()
    coefficients: tuple[float, ...] = ()
    canonical = name
    if gateset == "qis":
        if name in _FIXED_QIS or name == "cnot":
            canonical = "x" if name in {"not", "cnot"} else name
            if name == "z" and gate.get("rotation") is not None:
                canonical, params = "phase", (_param(gate, "rotation", path, p) or 0.0,)
        elif name in _ROTATIONS or name in _TWO_QUBIT_ROTATIONS:
            params = (_param(gate, "rotation", path, p) or 0.0,)
        elif name == "pauliexp":
            terms, coefficients, time = _pauliexp(gate, len(targets), path, p)
            params = (time,)
    else:
        if name in {"gpi", "gpi2"}:
            if len(targets) != 1:
                p.add(f"{path}.targets", f"'{name}' acts on exactly one target")
            params = (_param(gate, "phase", path, p) or 0.0,)
        elif name == "ms":
            phases = gate.get("phases")
            values = [_number(v) for v in phases] if isinstance(phases, list) else []
            if len(values) != 2 or None in values:
                p.add(f"{path}.phases", "'ms' needs 'phases': two numbers (turns)")
                values = [0.0, 0.0]
            angle = _number(gate.get("angle", 0.25))
            if angle is None:
                p.add(f"{path}.angle", "must be a finite number (turns)")
                angle = 0.0
            params = (values[0], values[1], angle)  # type: ignore[assignment]
        elif name == "zz":
            key = "angle" if gate.get("angle") is not None else "phase"
            # Native ZZ(θ) = exp(-iπθ Z⊗Z): the QIS zz rotation by 2πθ radians.
            params = (2 * math.pi * (_param(gate, key, path, p) or 0.0),)
    if len(p.items) > before:
        return None
    return engine.Gate(canonical, tuple(targets), tuple(controls), params, terms, coefficients)


def _pauliexp(gate: dict[str, Any], width: int, path: str, p: Problems) -> tuple[tuple[str, ...], tuple[float, ...], float]:
    terms, coefficients = gate.get("terms"), gate.get("coefficients")
    if width > MAX_PAULIEXP_QUBITS:
        p.add(f"{path}.targets", f"'pauliexp' supports at most {MAX_PAULIEXP_QUBITS} targets")
    if not isinstance(terms, list) or not terms or not all(
        isinstance(t, str) and len(t) == width and set(t) <= set("IXYZ") for t in terms
    ):
        p.add(f"{path}.terms", f"must be a non-empty list of Pauli strings (IXYZ) of length {width}")
        terms = []
    values = [_number(c) for c in coefficients] if isinstance(coefficients, list) else None
    if values is None or None in values or len(values) != len(terms):
        p.add(f"{path}.coefficients", "must be a list of numbers, one per term")
        values = []
    time = _param(gate, "time", path, p) or 0.0
    return tuple(terms), tuple(values), time  # type: ignore[arg-type]


def _parse_circuit(
    gates: Any, gateset: str, declared: Any, limit: int, path: str, p: Problems
) -> engine.Circuit | None:
    if not isinstance(gates, list):
        p.add(f"{path}.circuit", "must be a list of gates")
        return None
    if declared is not None and (not _is_int(declared) or declared < 1):
        p.add(f"{path}.qubits", "must be a positive integer")
        declared = None
    before = len(p.items)
    parsed = [_parse_gate(g, gateset, f"{path}.circuit[{i}]", p) for i, g in enumerate(gates)]
    if declared is not None:
        for i, g in enumerate(parsed):
            if g is not None and max(g.targets + g.controls) >= declared:
                p.add(f"{path}.circuit[{i}]",
                      f"uses qubit {max(g.targets + g.controls)} but '{path}.qubits' declares only {declared}")
    canonical = tuple(g for g in parsed if g is not None)
    qubits = declared if declared is not None else max(
        (max(g.targets + g.controls) for g in canonical), default=0) + 1
    if qubits > limit:
        p.add(f"{path}.qubits", f"{qubits} qubits is more than this backend's {limit}")
    if len(p.items) > before:
        return None
    return engine.Circuit(qubits, canonical)


def _validate_metadata(metadata: Any, p: Problems) -> None:
    if metadata is None:
        return
    if not isinstance(metadata, dict):
        p.add("metadata", "must be an object of string values")
        return
    if len(metadata) > METADATA_MAX_KEYS:
        p.add("metadata", f"has {len(metadata)} keys; at most {METADATA_MAX_KEYS} are allowed")
    for key, value in metadata.items():
        if len(key) > METADATA_MAX_NAME:
            p.add(f"metadata.{key}", f"key names are limited to {METADATA_MAX_NAME} characters")
        # Values are stored verbatim; non-strings (qiskit's extra_metadata) count as their JSON.
        size = len(value) if isinstance(value, str) else len(orjson.dumps(value))
        if size > METADATA_MAX_VALUE:
            p.add(f"metadata.{key}", f"values are limited to {METADATA_MAX_VALUE} characters (got {size})")


@dataclass
class _Options:
    """Everything in a job body but its program."""

    backend: backends.Backend | None
    name: str | None
    shots: int
    dry_run: bool
    session_id: str | None
    settings: dict[str, Any]
    noise: dict[str, Any] | None
    metadata: Any


def _options(body: dict[str, Any], p: Problems) -> _Options:
    backend = backends.for_new_work(body.get("backend"), p)
    shots = body.get("shots", DEFAULT_SHOTS)
    if shots is None:
        shots = DEFAULT_SHOTS
    if isinstance(shots, str) and shots.strip().isdigit():
        shots = int(shots)  # cirq sends shots as a string
    if not _is_int(shots) or not 1 <= shots <= MAX_SHOTS:
        p.add("shots", f"must be an integer from 1 to {MAX_SHOTS}" + (" (TooManyShots)" if _is_int(shots) and shots > MAX_SHOTS else ""))
        shots = DEFAULT_SHOTS
    name = body.get("name")
    if name is not None and not isinstance(name, str):
        p.add("name", "must be a string")
    dry_run = body.get("dry_run") or False
    if not isinstance(dry_run, bool):
        p.add("dry_run", "must be a boolean")
    session_id = body.get("session_id")
    if session_id is not None and not isinstance(session_id, str):
        p.add("session_id", "must be a string")
    settings = body.get("settings") or {}
    _check_settings(settings, p)
    noise = body.get("noise")
    if noise is not None:
        if not isinstance(noise, dict):
            p.add("noise", "must be an object with a 'model'")
            noise = None
        else:
            model = noise.get("model", "ideal")
            if not isinstance(model, str) or model not in backends.NOISE_MODELS:
                p.add("noise.model", f"must be one of {', '.join(sorted(backends.NOISE_MODELS))}")
            seed = noise.get("seed")
            if seed is not None and (not _is_int(seed) or not 0 <= seed < 2**31):
                p.add("noise.seed", "must be an integer from 0 to 2147483647")
            noise = {"model": noise.get("model", "ideal"), **({"seed": seed} if seed is not None else {})}
    metadata = body.get("metadata")
    _validate_metadata(metadata, p)
    return _Options(backend, name, shots, dry_run, session_id, settings, noise, metadata)


def _text(value: Any) -> bool:
    return isinstance(value, str)


def _flag(value: Any) -> bool:
    return isinstance(value, bool)


def _real(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


#: The job settings IonQ's spec defines (``CircuitJobSettings``): each group's keys, with the
#: check of a key's value and what it must be. A key outside them is refused, not ignored:
#: a typo must not silently mean the default.
_SETTINGS: dict[str, dict[str, tuple[Any, str]]] = {
    "compilation": {"precision": (_text, "a string"), "opt": (_real, "a number"),
                    "gate_basis": (_text, "a string"), "service_version": (_text, "a string")},
    "error_mitigation": {"debiasing": (_flag, "true or false"), "symmetry_verification": (_flag, "true or false")},
}


def _check_settings(settings: Any, p: Problems) -> None:
    """``settings``: only the spec's groups and keys, each of the right type."""
    if not isinstance(settings, dict):
        p.add("settings", "must be an object")
        return
    for group, value in settings.items():
        keys = _SETTINGS.get(group)
        if keys is None:
            p.add(f"settings.{group}", f"is not a job setting (known: {', '.join(_SETTINGS)})")
        elif value is not None and not isinstance(value, dict):
            p.add(f"settings.{group}", f"must be an object of {', '.join(keys)}")
        else:
            for key, item in (value or {}).items():
                check = keys.get(key)
                if check is None:
                    p.add(f"settings.{group}.{key}", f"is not a {group} setting (known: {', '.join(keys)})")
                elif item is not None and not check[0](item):
                    p.add(f"settings.{group}.{key}", f"must be {check[1]}")
    mitigation = settings.get("error_mitigation")
    if isinstance(mitigation, dict) and mitigation.get("symmetry_verification") is True:
        p.add("settings.error_mitigation.symmetry_verification",
              "symmetry verification is not emulated by qharbor's backends; leave it out or send false")


def _program(program: Any, job_type: Any, limit: int, name: str | None, p: Problems) -> list[CircuitProgram]:
    circuits: list[CircuitProgram] = []
    if not isinstance(program, dict):
        p.add("input", "must be an object with 'gateset' and 'circuit' (or 'circuits')")
        return circuits
    if job_type not in JOB_TYPES:  # still check the program, guessing its kind from its shape
        job_type = "ionq.multi-circuit.v1" if "circuits" in program else "ionq.circuit.v1"
    gateset = program.get("gateset", "qis")
    if gateset not in ("qis", "native"):
        p.add("input.gateset", "must be 'qis' or 'native'")
        gateset = "qis"
    declared = program.get("qubits")
    if job_type == "ionq.circuit.v1":
        if "circuits" in program:
            p.add("input.circuits", "a single-circuit job takes 'circuit'; use ionq.multi-circuit.v1 for several")
        elif "circuit" not in program:
            p.add("input.circuit", "is required")
        elif _too_many_gates([program], p):
            return circuits
        else:
            c = _parse_circuit(program["circuit"], gateset, declared, limit, "input", p)
            if c is not None:
                circuits.append(CircuitProgram(name, c, gate_counts(c)))
    else:
        items = program.get("circuits")
        if "circuit" in program:
            p.add("input.circuit", "a multi-circuit job takes 'circuits', not 'circuit'")
        elif not isinstance(items, list) or not items:
            p.add("input.circuits", "must be a non-empty list of circuits")
        elif len(items) > MAX_CIRCUITS:
            p.add("input.circuits", f"at most {MAX_CIRCUITS} circuits per job (got {len(items)})")
        elif not _too_many_gates(items, p):
            for i, item in enumerate(items):
                path = f"input.circuits[{i}]"
                if not isinstance(item, dict):
                    p.add(path, "each circuit must be an object with a 'circuit' list")
                    continue
                own = item.get("gateset", gateset)
                if own not in ("qis", "native"):
                    p.add(f"{path}.gateset", "must be 'qis' or 'native'")
                    continue
                registers = _registers(item, f"{path}.", p)
                c = _parse_circuit(item.get("circuit"), own, item.get("qubits", declared), limit, path, p)
                if c is not None:
                    circuits.append(CircuitProgram(item.get("name"), c, gate_counts(c), registers))
    _gate_limit(sum(len(c.circuit.gates) for c in circuits), p)
    return circuits


def _too_many_gates(items: list[Any], p: Problems) -> bool:
    """Refuse a job whose circuits list more than ``MAX_GATES`` gates before parsing them
    (a body near the size limit holds ~400,000: seconds of work for a refusal)."""
    return _gate_limit(sum(len(c["circuit"]) for c in items
                           if isinstance(c, dict) and isinstance(c.get("circuit"), list)), p)


def _gate_limit(total: int, p: Problems) -> bool:
    """The spec's per-job gate limit, named by its failure code; True when it is exceeded."""
    if total > MAX_GATES:
        p.add("input", f"{total} gates; at most {MAX_GATES} are allowed per job (TooManyGates)")
    return total > MAX_GATES


_SOURCES = {
    qasm3.JOB_TYPE: ("the OpenQASM 3 source", qasm3.parse),
    qir.JOB_TYPE: ("the QIR program (base64 LLVM bitcode, or LLVM text IR)", qir.parse),
}


def _compiled_program(
    job_type: str, program: Any, limit: int, name: str | None, p: Problems
) -> tuple[qasm3.Qasm3Program | None, list[CircuitProgram]]:
    """An ``ionq.qasm3.v1`` or ``ionq.qir.v1`` input: ``{"data": source, "qubits"?: n}``."""
    what, compile_program = _SOURCES[job_type]
    if not isinstance(program, dict):
        p.add("input", f"must be an object with 'data': {what}")
        return None, []
    declared = program.get("qubits")
    if declared is not None and (not _is_int(declared) or declared < 1):
        p.add("input.qubits", "must be a positive integer")
    if "data" not in program:
        p.add("input.data", f"is required: {what}")
        return None, []
    try:
        compiled = compile_program(program["data"], limit, MAX_GATES)
    except (qasm3.Qasm3Error, qir.QirError) as exc:
        p.add("input.data", str(exc))
        return None, []
    return compiled, [qasm3_circuit(name, compiled)]


def qasm3_circuit(name: str | None, compiled: qasm3.Qasm3Program) -> CircuitProgram:
    """A qasm3 program's gates as a circuit record (for the job's width and gate counts)."""
    circuit = qasm3_gates(compiled)
    return CircuitProgram(name, circuit, gate_counts(circuit))


def draw_seed() -> int:
    """A fresh seed for a job submitted without ``noise.seed``. It is stored and shown as the
    job's ``noise.seed`` so the job can be replayed; drawn from 1..2^31-1 because that is what
    every client can send back (pennylane-ionq refuses 0)."""
    return 1 + secrets.randbelow(2**31 - 1)


def _request(job_type: str, o: _Options, circuits: list[CircuitProgram],
             registers: dict[str, Any] | None = None, compiled: qasm3.Qasm3Program | None = None,
             seed: int | None = None) -> JobRequest:
    """``seed``: the one to keep when ``noise.seed`` is not given (a clone replays its source)."""
    assert o.backend is not None
    noise = o.noise
    if noise and noise.get("seed") is not None:
        seed = noise["seed"]
    return JobRequest(
        type=job_type,
        backend=o.backend.name,
        name=o.name,
        shots=o.shots,
        dry_run=o.dry_run,
        session_id=o.session_id,
        # Noise applies to the simulator only; IonQ reports ideal when none was asked for.
        noise=(noise or {"model": "ideal"}) if o.backend.name == "simulator" else None,
        settings=o.settings,
        metadata=o.metadata,
        seed=draw_seed() if seed is None else seed,
        debiasing=_debiasing(o, circuits, compiled),
        circuits=circuits,
        registers=registers,
        qasm3=compiled,
    )


def _debiasing(o: _Options, circuits: list[CircuitProgram], compiled: qasm3.Qasm3Program | None) -> bool:
    """Emulated QPUs only; a job counts as native when all its circuits do; an OpenQASM 3
    program only when static (``core/runs.py``: dynamic programs run their ideal statistics)."""
    assert o.backend is not None
    if not o.backend.name.startswith("qpu.") or not circuits or (compiled is not None and not compiled.static):
        return False
    setting = (o.settings.get("error_mitigation") or {}).get("debiasing") if isinstance(o.settings, dict) else None
    return engine.debias.enabled(setting, o.shots, all(engine.debias.native(c.circuit) for c in circuits))


def parse_job(body: Any) -> JobRequest:
    """Validate a job-creation body; raises :class:`InvalidRequest` naming every problem."""
    p = Problems()
    if not isinstance(body, dict):
        p.add("body", "the request body must be a JSON object")
        p.raise_if_any()
    job_type = body.get("type")
    if job_type == quantum_functions.QCTRL_QAOA:
        p.add("type", quantum_functions.QCTRL_REFUSAL)
        p.raise_if_any()
    elif job_type not in JOB_TYPES:
        p.add("type", f"must be one of {', '.join(JOB_TYPES)}")
    options = _options(body, p)
    limit = options.backend.qubits if options.backend else engine.MAX_QUBITS
    compiled = None
    if job_type == hamiltonians.JOB_TYPE:
        found = quantum_functions.energy_program(body.get("input"), limit, MAX_GATES, p)
        circuits = [] if found is None else [CircuitProgram(options.name, found[0], gate_counts(found[0]))]
        _check_noise_cap(options, circuits, p)
        p.raise_if_any()
        request = _request(job_type, options, circuits)
        request.energy = None if found is None else found[1]
        return request
    if isinstance(job_type, str) and job_type in _SOURCES:
        compiled, circuits = _compiled_program(job_type, body.get("input"), limit, options.name, p)
    else:
        circuits = _program(body.get("input"), job_type, limit, options.name, p)
    _check_noise_cap(options, circuits, p)
    registers = _registers(body, "", p)
    p.raise_if_any()
    return _request(job_type, options, circuits, registers, compiled)


def _check_noise_cap(options: _Options, circuits: list[CircuitProgram], p: Problems) -> None:
    if options.backend is None or options.backend.name != "simulator" or not options.noise or not circuits:
        return
    model = noise_model("simulator", options.noise)
    widest = max(c.circuit.qubits for c in circuits)
    if model is not None and widest > model.max_qubits:
        p.add("noise.model", f"noise model {model.name!r} simulates at most {model.max_qubits} qubits; "
                             f"this job has {widest}")


def parse_clone(source: dict[str, Any], overrides: Any, job_type: str, circuits: list[CircuitProgram],
                compiled: qasm3.Qasm3Program | None = None, *, seed: int) -> JobRequest:
    """A new job running ``circuits`` again: the source's options, with ``overrides`` applied.

    It keeps the source's effective ``seed`` (a replay) unless the overrides give ``noise.seed``."""
    p = Problems()
    if overrides is not None and not isinstance(overrides, dict):
        p.add("body", "the request body must be a JSON object of fields to change")
        p.raise_if_any()
    options = _options({**source, **(overrides or {})}, p)
    if options.backend is not None:
        widest = max(c.circuit.qubits for c in circuits)
        if widest > options.backend.qubits:
            p.add("backend", f"the job needs {widest} qubits; {options.backend.name} has {options.backend.qubits}")
    _check_noise_cap(options, circuits, p)
    p.raise_if_any()
    return _request(job_type, options, circuits, compiled=compiled, seed=seed)


def _registers(item: dict[str, Any], path: str, p: Problems) -> dict[str, Any] | None:
    """A job's or circuit's ``registers`` (old qiskit-ionq's ``{"meas_mapped": [...]}``), stored
    as given and echoed by the v0.3 view; the spec's ``Registers``, an object."""
    value = item.get("registers")
    if value is not None and not isinstance(value, dict):
        p.add(f"{path}registers", "must be an object, e.g. {\"meas_mapped\": [0, 1]}")
    return value if isinstance(value, dict) else None


#: JSON Schemas of the program formats clients may ask for (``GET /schemas/formats/{format}``).
SCHEMAS: dict[str, dict[str, Any]] = {
    "ionq.native.v1": schema_document(
        "ionq.native.v1", "A circuit in IonQ's native gateset (gpi, gpi2, ms, zz; phases in turns).",
        {"type": "object", "required": ["gateset", "circuit"], "properties": {
            "gateset": {"const": "native"}, "qubits": {"type": "integer", "minimum": 1},
            "circuit": {"type": "array", "items": {"type": "object", "required": ["gate"], "properties": {
                "gate": {"enum": list(_NATIVE)}}}}}}),
}


# --- the stored program, back in the wire vocabulary (GET /v0.4/jobs/{id}/program) -----------

#: Gates only the native gateset has: a circuit with one of them is shown as ``native``.
_NATIVE_ONLY = frozenset({"gpi", "gpi2", "ms"})


def gateset_of(circuit: engine.Circuit) -> str:
    """``native`` when the circuit uses a native-only gate, else ``qis`` (the stored form keeps
    canonical gates, not the gateset they came in; this is the one that reads them back)."""
    return "native" if any(g.name in _NATIVE_ONLY for g in circuit.gates) else "qis"


def wire_gate(gate: engine.Gate, gateset: str) -> dict[str, Any]:
    """One canonical gate in IonQ's wire form, so a stored circuit reads as what a client
    would submit for it (and resubmitted, runs the same gates): the inverse of :func:`_parse_gate`
    up to spelling (``cnot`` comes back as a controlled ``x``, ``z`` with a rotation as such)."""
    name = "z" if gate.name == "phase" else gate.name
    out: dict[str, Any] = {"gate": name}
    if len(gate.targets) == 1:
        out["target"] = gate.targets[0]
    else:
        out["targets"] = list(gate.targets)
    if len(gate.controls) == 1:
        out["control"] = gate.controls[0]
    elif gate.controls:
        out["controls"] = list(gate.controls)
    if gateset == "native" and gate.name in ("gpi", "gpi2"):
        out["phase"] = gate.params[0]
    elif gate.name == "ms":
        out["phases"], out["angle"] = [gate.params[0], gate.params[1]], gate.params[2]
    elif gateset == "native" and gate.name == "zz":
        out["angle"] = gate.params[0] / (2 * math.pi)  # turns, as parsed (radians stored)
    elif gate.name == "pauliexp":
        out.update(terms=list(gate.terms), coefficients=list(gate.coefficients), time=gate.params[0])
    elif gate.params:
        out["rotation"] = gate.params[0]
    return out


def wire_circuit(circuit: engine.Circuit) -> dict[str, Any]:
    """A stored circuit as ``{gateset, qubits, circuit}`` in the wire vocabulary."""
    gateset = gateset_of(circuit)
    return {"gateset": gateset, "qubits": circuit.qubits, "circuit": [wire_gate(g, gateset) for g in circuit.gates]}
