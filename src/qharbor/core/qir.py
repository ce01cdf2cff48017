"""``ionq.qir.v1`` programs (v0.3: ``input.format: "qir"``): QIR base-profile modules to
the same compiled form as an OpenQASM 3 program (:class:`qasm3.Qasm3Program`).

The program is LLVM bitcode in base64 (what CUDA-Q sends) or LLVM text IR, either as
text or in base64; it is parsed by llvmlite (LLVM's own reader, so typed and opaque
pointers alike). What is accepted is the QIR *base profile*: one entry-point function
(attribute ``entry_point``; its blocks joined by unconditional branches only), qubits and
results named by constant addresses (``ptr null``, ``inttoptr (i64 n to ptr)``), and calls to

* the gates ``h x y z s t s__adj t__adj rx ry rz cnot cz swap`` (``__quantum__qis__<g>__body``
  or ``__adj``; angles in radians, constants only);
* ``__quantum__qis__mz__body(qubit, result)``;
* ``__quantum__rt__initialize``, ``__quantum__qis__barrier__body`` and the output-recording calls
  (``__quantum__rt__{result,array,tuple}_record_output``), which only label output.

The width is the entry point's ``requiredQubits`` (``required_num_qubits`` in QIR 2.0),
else the highest qubit used plus one. The classical record is the program's results, result
0 the least significant bit (as qubit 0 of an ``ionq.circuit.v1`` circuit); a program with no
``mz`` (CUDA-Q strips its measurements for IonQ) measures every qubit at its end, qubit q into
bit q. Anything else — a conditional branch or switch, dynamic qubit or result allocation,
reading a result, an unknown ``__quantum__qis__`` call, any other instruction — is refused
at submission with a message quoting the instruction.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
import struct
from typing import Any

from .. import engine
from ..engine.dynamic import Measure, Op, Program
from .qasm3 import Qasm3Program

JOB_TYPE = "ionq.qir.v1"
#: The v0.3 spelling: ``input: {"format": "qir", "data": ...}``.
V03_FORMAT = "qir"
MAX_SOURCE_CHARS = 10_000_000  # the request body limit (413) is the same size

#: QIR gate name -> (canonical gate, angle parameters, qubit operands, controls first).
_GATES: dict[str, tuple[str, int, int]] = {
    "h": ("h", 0, 1), "x": ("x", 0, 1), "y": ("y", 0, 1), "z": ("z", 0, 1),
    "s": ("s", 0, 1), "t": ("t", 0, 1), "s__adj": ("si", 0, 1), "t__adj": ("ti", 0, 1),
    "rx": ("rx", 1, 1), "ry": ("ry", 1, 1), "rz": ("rz", 1, 1),
    "cnot": ("x", 0, 2), "cz": ("z", 0, 2), "swap": ("swap", 0, 2),
}
_INERT = {"__quantum__rt__initialize", "__quantum__qis__barrier__body",
          "__quantum__rt__result_record_output",
          "__quantum__rt__array_record_output", "__quantum__rt__tuple_record_output"}
_OUTSIDE = {
    "__quantum__rt__qubit_allocate": "dynamic qubit allocation",
    "__quantum__rt__qubit_allocate_array": "dynamic qubit allocation",
    "__quantum__rt__qubit_release": "dynamic qubit management",
    "__quantum__rt__qubit_release_array": "dynamic qubit management",
    "__quantum__rt__result_get_one": "dynamic result management",
    "__quantum__rt__result_equal": "comparing results (feed-forward)",
    "__quantum__qis__read_result__body": "reading a result (feed-forward)",
}
# LLVM's canonical printout of the entry point, line by line (typed pointers read as ``ptr``).
_ADDRESS = re.compile(r"ptr (?:[a-z_]+ )*(?:null|inttoptr \(i64 (\d+) to ptr\))")
_DOUBLE = re.compile(r"double (?:[a-z_]+ )*([-+]?[0-9.]+(?:e[-+]?[0-9]+)?|0x[0-9A-Fa-f]{16})")
_CALL = re.compile(r'(?:%\S+ = )?(?:tail |musttail |notail )?call [^@%]*@([-\w.$]+|"[^"]*")\((.*)\)(?: #\d+)?')
_OPCODE = re.compile(r"(?:%\S+ = )?([a-z]+)")
_LABEL = re.compile(r'(?:"((?:[^"\\]|\\.)*)"|([-\w.$]+)):$')
_BRANCH = re.compile(r'br label %(?:"((?:[^"\\]|\\.)*)"|([-\w.$]+))')
_METADATA = re.compile(r"(?:, ![\w.]+ !\d+)+$")
_BITCODE_MAGIC = (b"BC\xc0\xde", b"\xde\xc0\x17\x0b")  # raw bitcode, and its wrapper header


class QirError(ValueError):
    """A program that is not LLVM IR, or uses something outside the QIR base profile."""


def parse(data: Any, limit: int = engine.MAX_QUBITS, max_gates: int = 150_000) -> Qasm3Program:
    """Translate a QIR program (base64 bitcode, or text IR); raises :class:`QirError`."""
    if not isinstance(data, str) or not data.strip():
        raise QirError("must be a non-empty string: base64 LLVM bitcode, or LLVM text IR")
    if len(data) > MAX_SOURCE_CHARS:
        raise QirError(f"is {len(data)} characters; at most {MAX_SOURCE_CHARS} are allowed")
    module = _module(data, max_gates)
    entry = _entry_point(module)
    attributes = _attributes(entry)
    declared = _count(attributes, ("requiredQubits", "required_num_qubits"))
    if declared is not None and declared > limit:
        raise QirError(f"the program requires {declared} qubits; at most {limit} are available")
    results_declared = _count(attributes, ("requiredResults", "required_num_results"))
    ops: list[Op] = []
    measured = False
    width = declared or 0
    results = results_declared or 0
    printed = str(entry)
    _check_calls(printed, max_gates)
    for text in _instructions(printed):
        call = _CALL.fullmatch(text)
        if call is None:
            opcode = _OPCODE.match(text)
            if opcode is not None and opcode.group(1) in ("ret", "br"):
                continue  # _instructions already refused conditional branches
            raise QirError(f"{text!r}: the instruction {opcode.group(1) if opcode else text!r} is outside the QIR "
                           "base profile (only calls to QIR gates, mz and output recording are)")
        name, args = call.group(1).strip('"'), _arguments(call.group(2))
        if name in _INERT:
            continue
        if name in _OUTSIDE:
            raise QirError(f"{text!r}: {_OUTSIDE[name]} ({name}) is outside the QIR base profile")
        if name == "__quantum__qis__mz__body":
            if len(args) != 2:
                raise QirError(f"{text!r}: mz takes a qubit and a result")
            qubit, result = _address(args[0], text), _address(args[1], text)
            if results_declared is not None and result >= results_declared:
                raise QirError(f"{text!r}: result {result} is beyond the program's {results_declared} results")
            ops.append(Measure(qubit, result))
            measured = True
            results = max(results, result + 1)
            width = _widen(width, qubit, declared, limit, text)
            continue
        gate = _gate_name(name)
        if gate not in _GATES:
            raise QirError(f"{text!r}: {name} is not a QIR base-profile gate (known: {', '.join(_GATES)}, mz)")
        canonical, nparams, nqubits = _GATES[gate]
        if len(args) != nparams + nqubits:
            raise QirError(f"{text!r}: {name} takes {nparams} angle(s) and {nqubits} qubit(s)")
        params = tuple(_angle(a, text) for a in args[:nparams])
        qubits = [_address(a, text) for a in args[nparams:]]
        if len(set(qubits)) != len(qubits):
            raise QirError(f"{text!r}: a gate's qubits must be distinct")
        for q in qubits:
            width = _widen(width, q, declared, limit, text)
        if canonical == "swap":
            ops.append(engine.Gate("swap", (qubits[0], qubits[1])))
        else:
            ops.append(engine.Gate(canonical, (qubits[-1],), tuple(qubits[:-1]), params))
        if len(ops) > max_gates:
            raise QirError(f"more than {max_gates} operations; at most {max_gates} gates are allowed per job")
    if width == 0:
        raise QirError("the program uses no qubits (and declares no requiredQubits)")
    if not measured:  # no measurement: every qubit, at the end (how CUDA-Q sends programs to IonQ)
        ops += [Measure(q, q) for q in range(width)]
        results = width
    return Qasm3Program(Program(width, results, tuple(ops)), [])


#: A call of a gate or ``mz`` (the operations counted against the gate limit).
_OPERATION = re.compile(r"\bcall\b[^\n]*@__quantum__qis__(?!barrier__)")


def _check_calls(text: str, max_gates: int) -> None:
    """Refuse a program with more gate and ``mz`` calls than the gate limit before it is
    parsed and translated (a 4 MB base64 program holds 300,000 calls: seconds of work)."""
    calls = len(_OPERATION.findall(text))
    if calls > max_gates:
        raise QirError(f"calls {calls} gates and measurements; at most {max_gates} gates are allowed per job")


def _module(data: str, max_gates: int) -> Any:
    import llvmlite.binding as llvm  # type: ignore[import-untyped]

    raw: bytes | None
    try:
        raw = base64.b64decode("".join(data.split()), validate=True)
    except (binascii.Error, ValueError):
        raw = None
    try:
        if raw is not None and raw.startswith(_BITCODE_MAGIC):
            return llvm.parse_bitcode(raw)
        text = data
        if raw is not None:
            try:
                text = raw.decode()
            except UnicodeDecodeError:
                raise QirError("is base64 but neither LLVM bitcode nor LLVM text IR") from None
        _check_calls(text, max_gates)
        return llvm.parse_assembly(text)
    except RuntimeError as exc:
        message = " ".join(str(exc).split())
        raise QirError(f"is not valid LLVM IR: {message[:300]}") from None


def _entry_point(module: Any) -> Any:
    defined = [f for f in module.functions if not f.is_declaration]
    entries = [f for f in defined if any(b'"entry_point"' in a for a in f.attributes)]
    if not entries and len(defined) == 1:
        entries = defined  # a hand-written module without the attribute
    if len(entries) != 1:
        raise QirError(f"must define exactly one entry point (a function with the 'entry_point' attribute); "
                       f"found {len(entries)}")
    if len(defined) > 1:
        others = ", ".join(f.name for f in defined if f is not entries[0])
        raise QirError(f"defines functions besides its entry point ({others}): calls to them are outside "
                       "the QIR base profile")
    return entries[0]


def _attributes(function: Any) -> dict[str, str]:
    text = b" ".join(function.attributes).decode(errors="replace")
    return {k: v for k, v in re.findall(r'"([^"]+)"="([^"]*)"', text)}


def _count(attributes: dict[str, str], names: tuple[str, ...]) -> int | None:
    for name in names:
        if name in attributes:
            value = attributes[name]
            if not value.isdigit():
                raise QirError(f"the entry point's {name!r} must be a whole number, not {value!r}")
            return int(value)
    return None


def _instructions(printed: str) -> list[str]:
    """The entry point's instructions in execution order, as LLVM prints them (one canonical
    line each: printing the function once costs far less than reading it value by value through
    the binding), its blocks followed through unconditional branches (a conditional branch,
    switch or loop is refused)."""
    blocks: dict[str | None, list[str]] = {}
    current: list[str] = blocks.setdefault(None, [])  # an unnamed entry block prints no label
    for raw in printed.splitlines()[1:]:
        line = raw.split(";", 1)[0].strip()  # `; preds = ...` comments
        if not line or line == "}":
            continue
        label = _LABEL.match(line)
        if label is not None:
            current = blocks.setdefault(label.group(1) or label.group(2), [])
        else:
            current.append(_METADATA.sub("", line))
    order = [name for name, lines in blocks.items() if lines or name is not None]
    name: str | None = order[0]
    seen, out = set(), []
    while True:
        if name in seen:
            raise QirError(f"the block {name!r} is entered twice (a loop): outside the QIR base profile")
        seen.add(name)
        following = None
        for line in blocks[name]:
            out.append(line)
            opcode = _OPCODE.match(line)
            word = opcode.group(1) if opcode else ""
            if word == "br":
                target = _BRANCH.fullmatch(line)
                if target is None:
                    raise QirError(f"{line!r}: branching on a value is outside the QIR base profile")
                following = target.group(1) or target.group(2)
                if following not in blocks:
                    raise QirError(f"{line!r}: no block {following!r}")
            elif word in ("switch", "indirectbr", "callbr", "invoke"):
                raise QirError(f"{line!r}: branching is outside the QIR base profile")
        if following is None:
            return out
        name = following


def _arguments(text: str) -> list[str]:
    """A call's arguments, split at the commas outside parentheses."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(text[start:i].strip())
            start = i + 1
    if text.strip():
        out.append(text[start:].strip())
    return out


def _gate_name(callee: str) -> str | None:
    match = re.fullmatch(r"__quantum__qis__(\w+?)__(body|adj)", callee or "")
    if match is None:
        return None
    name, kind = match.groups()
    return name + "__adj" if kind == "adj" else name


def _address(value: str, text: str) -> int:
    match = _ADDRESS.fullmatch(value)
    if match is None:
        raise QirError(f"{text!r}: {value!r} is not a constant qubit or result address "
                       "(dynamic qubit or result management is outside the QIR base profile)")
    return int(match.group(1) or 0)


def _angle(value: str, text: str) -> float:
    match = _DOUBLE.fullmatch(value)
    angle = math.nan
    if match is not None:
        literal = match.group(1)
        if literal.lower().startswith("0x"):  # LLVM prints a double it cannot write exactly in hex
            angle = struct.unpack(">d", bytes.fromhex(literal[2:]))[0]
        else:
            angle = float(literal)
    if not math.isfinite(angle):
        raise QirError(f"{text!r}: {value!r} is not a finite constant angle")
    return angle


def _widen(width: int, qubit: int, declared: int | None, limit: int, text: str) -> int:
    if declared is not None and qubit >= declared:
        raise QirError(f"{text!r}: qubit {qubit} is beyond the program's requiredQubits ({declared})")
    if qubit >= limit:
        raise QirError(f"{text!r}: qubit {qubit} is beyond the {limit} qubits available")
    return max(width, qubit + 1)
