"""``ionq.qasm3.v1`` programs: OpenQASM 3 source to an :class:`engine.dynamic.Program`.

The source is parsed by the reference ``openqasm3`` package (its ANTLR grammar), and
the AST is translated here into canonical engine gates plus measure / reset /
if-else operations. What is accepted:

* ``OPENQASM 3[.x];``, ``include "stdgates.inc";`` (the standard gates are always
  known; no other include), qubit registers (``qubit[n] q;``, ``qubit q;``,
  ``qreg q[n];``) or physical qubits ``$n`` (not both), and classical bit registers
  (``bit[n] c;``, ``bit c;``, ``creg c[n];``, ``output bit[n] c;``).
  Registers are flattened: qubits in declaration order; the *classical record* is
  every declared bit, registers concatenated in declaration order (bit 0 of the
  first register is record bit 0). Results are reported per named register and as
  ``output_all`` (the whole record). A program declaring no bits at all measures
  every qubit at its end, as ``ionq.circuit.v1`` does.
* Gates: ``U``, ``gphase``, every stdgates.inc gate (p x y z h s sdg t tdg sx rx
  ry rz cx cy cz cp crx cry crz ch swap ccx cswap cu CX phase cphase id u1 u2 u3),
  plus ``sxdg rxx ryy rzz`` without a definition; user ``gate`` definitions (expanded
  where called, which is how qiskit exports anything outside stdgates.inc); the
  modifiers ``ctrl @``, ``negctrl @``, ``inv @`` and integer ``pow(k) @``.
  Global phase is tracked so that controlled versions are exact. ``cu`` follows
  qiskit's CUGate (``p(γ)`` on the control, then controlled ``U``).
* ``c[i] = measure q[j];``, ``c = measure q;``, ``measure q -> c;``, ``measure q;``
  anywhere (mid-circuit), ``reset``, ``barrier`` (ignored), ``delay`` and durations
  (ignored: the simulator is ideal), ``box`` (its body runs), pragmas (ignored).
* ``if (cond) {...} else {...}`` where ``cond`` compares a register or one bit with
  an integer (``==  !=  <  <=  >  >=``), or is a bit / ``!bit``.
* Angles: numeric literals, ``pi``/``π``, ``tau``/``τ``, ``euler``/``ℇ``, gate
  parameters, ``+ - * / % **`` and ``sin cos tan arcsin arccos arctan exp log sqrt``.

Anything else (loops, ``switch``, subroutines, classical variables and assignments,
``let``, ``extern``, calibration, non-integer ``pow``, ...) is refused when the job
is submitted, with a message naming the construct and its line.

The stored form of a program is JSON (:func:`encode` / :func:`decode`), so workers
never parse OpenQASM.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from .. import engine
from ..engine.dynamic import Condition, IfElse, Measure, Op, Program, Reset, static_part

JOB_TYPE = "ionq.qasm3.v1"
MAX_SOURCE_CHARS = 1_000_000  # the reference parser takes ~15 s for this much
#: The register holding the whole classical record in every v2 result.
ALL = "output_all"


class Qasm3Error(ValueError):
    """A program outside the supported subset (or not OpenQASM 3 at all)."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(f"line {line}: {message}" if line else message)


class Qasm3InputError(Qasm3Error):
    """``input`` parameters and the values given for them disagree (count or type)."""


@dataclass
class Qasm3Program:
    """A translated program plus the classical register layout its results use."""

    program: Program
    registers: list[tuple[str, int]]  # (name, size) in record order; empty: implicit measure-all

    @property
    def qubits(self) -> int:
        return self.program.qubits

    @property
    def static(self) -> bool:
        """No mid-circuit measurement, reset or feed-forward: one circuit, measured at its end
        (so it can run under noise, and on an emulated QPU debiased, like a JSON circuit)."""
        return static_part(self.program) is not None

    def gates(self) -> list[engine.Gate]:
        found: list[engine.Gate] = []

        def walk(ops: tuple[Op, ...]) -> None:
            for op in ops:
                if isinstance(op, engine.Gate):
                    found.append(op)
                elif isinstance(op, IfElse):
                    walk(op.then)
                    walk(op.orelse)

        walk(self.program.ops)
        return found


# --- the stored form ------------------------------------------------------------------------

def _encode_ops(ops: tuple[Op, ...]) -> list[Any]:
    out: list[Any] = []
    for op in ops:
        if isinstance(op, engine.Gate):
            out.append(["g", op.name, op.targets, op.controls, op.params])
        elif isinstance(op, Measure):
            out.append(["m", op.qubit, op.bit])
        elif isinstance(op, Reset):
            out.append(["r", op.qubit])
        else:
            c = op.condition
            out.append(["if", [c.bits, c.op, c.value], _encode_ops(op.then), _encode_ops(op.orelse)])
    return out


def _decode_ops(items: list[Any]) -> tuple[Op, ...]:
    out: list[Op] = []
    for item in items:
        kind = item[0]
        if kind == "g":
            out.append(engine.Gate(item[1], tuple(item[2]), tuple(item[3]), tuple(item[4])))
        elif kind == "m":
            out.append(Measure(item[1], item[2]))
        elif kind == "r":
            out.append(Reset(item[1]))
        else:
            bits, op, value = item[1]
            out.append(IfElse(Condition(tuple(bits), op, value), _decode_ops(item[2]), _decode_ops(item[3])))
    return tuple(out)


def encode(program: Qasm3Program) -> str:
    p = program.program
    return orjson.dumps({
        "format": JOB_TYPE, "qubits": p.qubits, "clbits": p.clbits,
        "registers": program.registers, "ops": _encode_ops(p.ops),
    }).decode()


def decode(text: str) -> Qasm3Program:
    data = orjson.loads(text)
    program = Program(data["qubits"], data["clbits"], _decode_ops(data["ops"]))
    return Qasm3Program(program, [(name, size) for name, size in data["registers"]])


# --- gates ----------------------------------------------------------------------------------

G = engine.Gate
#: A gate's expansion: canonical gates in order, and the global phase they leave out.
Seq = tuple[list[engine.Gate], float]

_HALF_PI = math.pi / 2


def _u(theta: float, phi: float, lam: float, q: int) -> Seq:
    # U(θ,φ,λ) = e^{i(φ+λ)/2} Rz(φ) Ry(θ) Rz(λ)
    return [G("rz", (q,), (), (lam,)), G("ry", (q,), (), (theta,)), G("rz", (q,), (), (phi,))], (phi + lam) / 2


def _fixed(name: str) -> Callable[[list[float], list[int]], Seq]:
    return lambda a, q: ([G(name, (q[-1],), tuple(q[:-1]))], 0.0)


def _rot(name: str) -> Callable[[list[float], list[int]], Seq]:
    return lambda a, q: ([G(name, (q[-1],), tuple(q[:-1]), (a[0],))], 0.0)


def _two(name: str) -> Callable[[list[float], list[int]], Seq]:
    return lambda a, q: ([G(name, (q[0], q[1]), (), (a[0],) if a else ())], 0.0)


def _cu(a: list[float], q: list[int]) -> Seq:
    """qiskit's CUGate: e^{iγ} U(θ,φ,λ) controlled by q[0], i.e. p(γ) on the control, then ctrl-U."""
    controlled, _ = _controlled(_u(a[0], a[1], a[2], q[1]), [q[0]])
    return [G("phase", (q[0],), (), (a[3],))] + controlled, 0.0


#: name -> (parameters, qubits, expansion). Controlled names take their controls first.
BUILTIN: dict[str, tuple[int, int, Callable[[list[float], list[int]], Seq]]] = {
    "U": (3, 1, lambda a, q: _u(a[0], a[1], a[2], q[0])),
    "u3": (3, 1, lambda a, q: _u(a[0], a[1], a[2], q[0])),
    "u": (3, 1, lambda a, q: _u(a[0], a[1], a[2], q[0])),
    "u2": (2, 1, lambda a, q: _u(_HALF_PI, a[0], a[1], q[0])),
    "u1": (1, 1, _rot("phase")),
    "p": (1, 1, _rot("phase")),
    "phase": (1, 1, _rot("phase")),
    "id": (0, 1, lambda a, q: ([], 0.0)),
    "x": (0, 1, _fixed("x")),
    "y": (0, 1, _fixed("y")),
    "z": (0, 1, _fixed("z")),
    "h": (0, 1, _fixed("h")),
    "s": (0, 1, _fixed("s")),
    "sdg": (0, 1, _fixed("si")),
    "t": (0, 1, _fixed("t")),
    "tdg": (0, 1, _fixed("ti")),
    "sx": (0, 1, _fixed("v")),
    "sxdg": (0, 1, _fixed("vi")),
    "rx": (1, 1, _rot("rx")),
    "ry": (1, 1, _rot("ry")),
    "rz": (1, 1, _rot("rz")),
    "cx": (0, 2, _fixed("x")),
    "CX": (0, 2, _fixed("x")),
    "cy": (0, 2, _fixed("y")),
    "cz": (0, 2, _fixed("z")),
    "ch": (0, 2, _fixed("h")),
    "cp": (1, 2, _rot("phase")),
    "cphase": (1, 2, _rot("phase")),
    "crx": (1, 2, _rot("rx")),
    "cry": (1, 2, _rot("ry")),
    "crz": (1, 2, _rot("rz")),
    "ccx": (0, 3, _fixed("x")),
    "swap": (0, 2, _two("swap")),
    "cswap": (0, 3, lambda a, q: _controlled(([G("swap", (q[1], q[2]))], 0.0), [q[0]])),
    "cu": (4, 2, _cu),
    "rxx": (1, 2, _two("xx")),
    "ryy": (1, 2, _two("yy")),
    "rzz": (1, 2, _two("zz")),
}

_INVERSE_NAME = {"s": "si", "si": "s", "t": "ti", "ti": "t", "v": "vi", "vi": "v"}
_SELF_INVERSE = {"x", "y", "z", "h", "swap"}
_ANGLE = {"rx", "ry", "rz", "phase", "xx", "yy", "zz"}


def _inverse(seq: Seq) -> Seq:
    gates, phase = seq
    out = []
    for g in reversed(gates):
        if g.name in _SELF_INVERSE:
            out.append(g)
        elif g.name in _INVERSE_NAME:
            out.append(G(_INVERSE_NAME[g.name], g.targets, g.controls))
        else:
            assert g.name in _ANGLE, g.name
            out.append(G(g.name, g.targets, g.controls, (-g.params[0],)))
    return out, -phase


def _single_target(g: engine.Gate) -> list[engine.Gate]:
    """A two-target gate as one-target gates with controls (exact, no global phase)."""
    a, b = g.targets
    if g.name == "swap":
        return [G("x", (b,), (a,)), G("x", (a,), (b,)), G("x", (b,), (a,))]
    theta = g.params[0]
    zz = [G("x", (b,), (a,)), G("rz", (b,), (), (theta,)), G("x", (b,), (a,))]
    if g.name == "zz":
        return zz
    if g.name == "xx":  # (H⊗H) ZZ (H⊗H)
        return [G("h", (a,)), G("h", (b,))] + zz + [G("h", (a,)), G("h", (b,))]
    # yy: (S⊗S) XX (S†⊗S†), since S X S† = Y
    return [G("si", (a,)), G("si", (b,)), G("h", (a,)), G("h", (b,))] + zz + [
        G("h", (a,)), G("h", (b,)), G("s", (a,)), G("s", (b,))]


def _controlled(seq: Seq, controls: list[int]) -> Seq:
    if not controls:
        return seq
    gates, phase = seq
    out = []
    for g in gates:
        parts = _single_target(g) if len(g.targets) > 1 else [g]
        out += [G(p.name, p.targets, tuple(controls) + p.controls, p.params) for p in parts]
    if phase:
        out.append(G("phase", (controls[-1],), tuple(controls[:-1]), (phase,)))
    return out, 0.0


# --- expressions ----------------------------------------------------------------------------

_CONSTANTS = {"pi": math.pi, "π": math.pi, "tau": math.tau, "τ": math.tau, "euler": math.e, "ℇ": math.e}
_FUNCTIONS: dict[str, Callable[[float], float]] = {
    "sin": math.sin, "cos": math.cos, "tan": math.tan, "arcsin": math.asin, "arccos": math.acos,
    "arctan": math.atan, "exp": math.exp, "log": math.log, "sqrt": math.sqrt,
}


def _line(node: Any) -> int | None:
    span = getattr(node, "span", None)
    return span.start_line if span is not None else None


_CONSTRUCTS = {
    "ForInLoop": "'for' loops",
    "WhileLoop": "'while' loops",
    "SwitchStatement": "'switch' statements",
    "SubroutineDefinition": "subroutine definitions ('def')",
    "ReturnStatement": "'return' statements",
    "ExternDeclaration": "'extern' declarations",
    "AliasStatement": "'let' aliases",
    "ClassicalAssignment": "classical assignments",
    "ConstantDeclaration": "'const' declarations",
    "CalibrationDefinition": "'defcal' calibrations",
    "CalibrationStatement": "'cal' blocks",
    "CalibrationGrammarDeclaration": "'defcalgrammar' declarations",
    "BreakStatement": "'break' statements",
    "ContinueStatement": "'continue' statements",
    "EndStatement": "'end' statements",
    "ExpressionStatement": "expression statements",
    "QuantumGateDefinition": "gate definitions inside blocks",
    "QubitDeclaration": "qubit declarations inside blocks",
    "ClassicalDeclaration": "classical declarations inside blocks",
    "IODeclaration": "'input'/'output' declarations inside blocks",
    "Include": "includes inside blocks",
    "BranchingStatement": "'if' statements inside gate definitions",
    "QuantumMeasurementStatement": "measurements inside gate definitions",
    "QuantumReset": "resets inside gate definitions",
    "DurationLiteral": "durations",
    "ImaginaryLiteral": "imaginary numbers",
    "BitstringLiteral": "bit-string literals",
    "Cast": "type casts",
    "Concatenation": "register concatenations ('++')",
}


def _unsupported(node: Any, what: str | None = None) -> Qasm3Error:
    name = type(node).__name__
    what = what or _CONSTRUCTS.get(name, f"'{name}' statements")
    return Qasm3Error(f"{what} are not supported", _line(node))


class _Translator:
    def __init__(self, limit: int, max_gates: int, inputs: Sequence[float] | None = None) -> None:
        from openqasm3 import ast

        self.inputs = inputs  # values for `input float` parameters, in declaration order (None: refused)
        self.bound: dict[str, float] = {}

        self.ast = ast
        self.limit = limit
        self.max_gates = max_gates
        self.qregs: dict[str, list[int]] = {}
        self.physical: set[int] = set()
        self.width = 0
        self.cregs: dict[str, tuple[int, int]] = {}  # name -> (offset, size)
        self.order: list[tuple[str, int]] = []
        self.clbits = 0
        self.gates: dict[str, Any] = {}  # user definitions
        self.count = 0

    # ---- expressions
    def value(self, node: Any, env: dict[str, float] | None = None) -> float:
        a = self.ast
        env = env or {}
        if isinstance(node, (a.IntegerLiteral, a.FloatLiteral)):
            return float(node.value)
        if isinstance(node, a.BooleanLiteral):
            return 1.0 if node.value else 0.0
        if isinstance(node, a.Identifier):
            if node.name in env:
                return env[node.name]
            if node.name in self.bound:
                return self.bound[node.name]
            if node.name in _CONSTANTS:
                return _CONSTANTS[node.name]
            raise Qasm3Error(f"unknown identifier {node.name!r} in an expression", _line(node))
        if isinstance(node, a.UnaryExpression):
            v = self.value(node.expression, env)
            if node.op.name == "-":
                return -v
            raise _unsupported(node, f"unary '{node.op.name}' operators in angles")
        if isinstance(node, a.BinaryExpression):
            lhs, rhs = self.value(node.lhs, env), self.value(node.rhs, env)
            op = node.op.name
            try:
                if op == "+":
                    return lhs + rhs
                if op == "-":
                    return lhs - rhs
                if op == "*":
                    return lhs * rhs
                if op == "/":
                    return lhs / rhs
                if op == "%":
                    return math.fmod(lhs, rhs)
                if op == "**":
                    return float(lhs**rhs)
            except (ZeroDivisionError, OverflowError, ValueError) as exc:
                raise Qasm3Error(f"cannot evaluate an expression ({exc})", _line(node)) from None
            raise _unsupported(node, f"'{op}' operators in angles")
        if isinstance(node, a.FunctionCall):
            fn = _FUNCTIONS.get(node.name.name)
            if fn is None or len(node.arguments) != 1:
                raise Qasm3Error(f"the function '{node.name.name}' is not supported", _line(node))
            try:
                return fn(self.value(node.arguments[0], env))
            except (ValueError, OverflowError) as exc:
                raise Qasm3Error(f"cannot evaluate {node.name.name}() ({exc})", _line(node)) from None
        raise _unsupported(node, _CONSTRUCTS.get(type(node).__name__, f"'{type(node).__name__}' expressions"))

    def integer(self, node: Any, what: str) -> int:
        v = self.value(node)
        if not float(v).is_integer():
            raise Qasm3Error(f"{what} must be an integer", _line(node))
        return int(v)

    # ---- declarations
    def declare_qubits(self, node: Any) -> None:
        name = node.qubit.name
        size = 1 if node.size is None else self.integer(node.size, "a register size")
        if size < 1:
            raise Qasm3Error(f"qubit register {name!r} must have at least one qubit", _line(node))
        if name in self.qregs or name in self.cregs:
            raise Qasm3Error(f"{name!r} is declared twice", _line(node))
        self.qregs[name] = list(range(self.width, self.width + size))
        self.width += size
        self.check_width(node)

    def check_width(self, node: Any) -> None:
        if self.qregs and self.physical:
            raise Qasm3Error("mixing physical qubits ($n) with declared qubit registers is not supported", _line(node))
        if max(self.width, max(self.physical, default=-1) + 1) > self.limit:
            raise Qasm3Error(f"the program uses more qubits than this backend's {self.limit}", _line(node))

    def declare_bits(self, node: Any, identifier: Any, type_: Any) -> None:
        a = self.ast
        if not isinstance(type_, a.BitType):
            kind = type(type_).__name__.removesuffix("Type").lower()
            raise Qasm3Error(f"classical variables of type '{kind}' are not supported (only bit registers)", _line(node))
        if getattr(node, "init_expression", None) is not None:
            raise _unsupported(node, "initialized bit declarations")
        name = identifier.name
        size = 1 if type_.size is None else self.integer(type_.size, "a register size")
        if size < 1:
            raise Qasm3Error(f"bit register {name!r} must have at least one bit", _line(node))
        if name in self.cregs or name in self.qregs:
            raise Qasm3Error(f"{name!r} is declared twice", _line(node))
        self.cregs[name] = (self.clbits, size)
        self.order.append((name, size))
        self.clbits += size

    def declare_input(self, node: Any) -> None:
        """``input float[64] theta;``: bound to the next of ``inputs`` (quantum functions' params)."""
        if self.inputs is None:
            raise _unsupported(node, "'input' declarations")
        if not isinstance(node.type, (self.ast.FloatType, self.ast.AngleType)):
            raise Qasm3InputError(f"input {node.identifier.name!r} must be a float (or angle) parameter", _line(node))
        name = node.identifier.name
        if name in self.bound or name in self.qregs or name in self.cregs:
            raise Qasm3Error(f"{name!r} is declared twice", _line(node))
        if len(self.bound) >= len(self.inputs):
            raise Qasm3InputError(f"the ansatz declares input {name!r} (its input #{len(self.bound) + 1}) but "
                                  f"params has {len(self.inputs)} value(s)", _line(node))
        self.bound[name] = float(self.inputs[len(self.bound)])

    # ---- operands
    def indices(self, node: Any, size: int) -> list[int]:
        a = self.ast
        if len(node.indices) != 1:
            raise _unsupported(node, "multi-dimensional indexes")
        index = node.indices[0]
        if isinstance(index, a.DiscreteSet):
            items = list(index.values)
        elif len(index) != 1:
            raise _unsupported(node, "multi-dimensional indexes")
        else:
            items = list(index)
        out: list[int] = []
        for item in items:
            if isinstance(item, a.RangeDefinition):
                start = 0 if item.start is None else self.integer(item.start, "a range start")
                end = size - 1 if item.end is None else self.integer(item.end, "a range end")
                step = 1 if item.step is None else self.integer(item.step, "a range step")
                if step == 0:
                    raise Qasm3Error("a range step cannot be zero", _line(node))
                start, end = start % size if start < 0 else start, end % size if end < 0 else end
                out += list(range(start, end + (1 if step > 0 else -1), step))
            else:
                out.append(self.integer(item, "an index"))
        result = []
        for i in out:
            if not -size <= i < size:
                raise Qasm3Error(f"index {i} is out of range for {node.name.name!r} (size {size})", _line(node))
            result.append(i % size)
        return result

    def qubits(self, node: Any, local: dict[str, int] | None = None) -> list[int]:
        a = self.ast
        if isinstance(node, a.Identifier):
            if local is not None:
                if node.name in local:
                    return [local[node.name]]
                raise Qasm3Error(f"unknown qubit {node.name!r} in a gate body", _line(node))
            if node.name.startswith("$"):
                q = int(node.name[1:])
                self.physical.add(q)
                self.check_width(node)
                return [q]
            if node.name in self.qregs:
                return list(self.qregs[node.name])
            raise Qasm3Error(f"unknown qubit register {node.name!r}", _line(node))
        if isinstance(node, a.IndexedIdentifier) and local is None:
            reg = self.qregs.get(node.name.name)
            if reg is None:
                raise Qasm3Error(f"unknown qubit register {node.name.name!r}", _line(node))
            return [reg[i] for i in self.indices(node, len(reg))]
        raise _unsupported(node, "qubit operands of this kind")

    def bits(self, node: Any) -> list[int]:
        a = self.ast
        name = node.name if isinstance(node, a.Identifier) else getattr(getattr(node, "name", None), "name", None)
        if isinstance(node, a.IndexExpression) and isinstance(node.collection, a.Identifier):
            name = node.collection.name
        if name not in self.cregs:
            raise Qasm3Error(f"unknown bit register {name!r}", _line(node))
        offset, size = self.cregs[name]
        if isinstance(node, a.Identifier):
            return list(range(offset, offset + size))
        if isinstance(node, a.IndexExpression):
            node = a.IndexedIdentifier(name=node.collection, indices=[node.index])
            node.span = None
        return [offset + i for i in self.indices(node, size)]

    # ---- gates
    def expand(self, node: Any, env: dict[str, float] | None, local: dict[str, int] | None) -> list[Seq]:
        """One gate call (broadcast over registers) as expansions, one per application."""
        a = self.ast
        operands = [self.qubits(q, local) for q in node.qubits]
        controls_needed = 0
        for m in node.modifiers:
            if m.modifier in (a.GateModifierName.ctrl, a.GateModifierName.negctrl):
                controls_needed += 1 if m.argument is None else self.integer(m.argument, "a ctrl count")
        if isinstance(node, a.QuantumPhase):
            name, args = "gphase", [self.value(node.argument, env)]
        else:
            name, args = node.name.name, [self.value(x, env) for x in node.arguments]
        widths = {len(o) for o in operands if len(o) != 1}
        if len(widths) > 1:
            raise Qasm3Error(f"'{name}' is applied to registers of different sizes", _line(node))
        repeat = widths.pop() if widths else 1
        out = []
        for r in range(repeat):
            qs = [o[r] if len(o) > 1 else o[0] for o in operands]
            if len(set(qs)) != len(qs):
                raise Qasm3Error(f"'{name}' is applied to the same qubit more than once", _line(node))
            out.append(self.apply(name, args, qs, node.modifiers, controls_needed, node))
            self.count += len(out[-1][0])
            if self.count > self.max_gates:
                raise Qasm3Error(f"the program expands to more than {self.max_gates} gates", _line(node))
        return out

    def apply(self, name: str, args: list[float], qs: list[int], modifiers: list[Any], nctrl: int, node: Any) -> Seq:
        a = self.ast
        base_qubits = qs[nctrl:]
        if name == "gphase":
            if base_qubits:
                raise Qasm3Error("'gphase' takes no qubits (except as controls)", _line(node))
            seq: Seq = ([], args[0])
        elif name in self.gates:
            seq = self.call(self.gates[name], args, base_qubits, node)
        elif name in BUILTIN:
            nargs, nq, build = BUILTIN[name]
            if len(args) != nargs or len(base_qubits) != nq:
                raise Qasm3Error(
                    f"'{name}' takes {nargs} parameter(s) and {nq} qubit(s), got {len(args)} and {len(base_qubits)}",
                    _line(node))
            seq = build(args, base_qubits)
        else:
            raise Qasm3Error(f"the gate '{name}' is not defined (and not in stdgates.inc)", _line(node))
        # Modifiers apply innermost (rightmost) first; ctrl counts take qubits from the front.
        position = nctrl
        for m in reversed(modifiers):
            kind = m.modifier
            if kind == a.GateModifierName.inv:
                seq = _inverse(seq)
            elif kind == a.GateModifierName.pow:
                k = self.value(m.argument)
                if not float(k).is_integer():
                    raise Qasm3Error("non-integer 'pow' modifiers are not supported", _line(node))
                k = int(k)
                base = _inverse(seq) if k < 0 else seq
                seq = (base[0] * abs(k), base[1] * abs(k))
            else:
                n = 1 if m.argument is None else self.integer(m.argument, "a ctrl count")
                controls = qs[position - n:position]
                position -= n
                seq = _controlled(seq, controls)
                if kind == a.GateModifierName.negctrl:
                    flips = [G("x", (c,)) for c in controls]
                    seq = (flips + seq[0] + flips, seq[1])
        return seq

    def call(self, definition: Any, args: list[float], qs: list[int], node: Any) -> Seq:
        if len(args) != len(definition.arguments) or len(qs) != len(definition.qubits):
            raise Qasm3Error(
                f"'{definition.name.name}' takes {len(definition.arguments)} parameter(s) and "
                f"{len(definition.qubits)} qubit(s), got {len(args)} and {len(qs)}", _line(node))
        env = {p.name: v for p, v in zip(definition.arguments, args)}
        local = {q.name: v for q, v in zip(definition.qubits, qs)}
        gates: list[engine.Gate] = []
        phase = 0.0
        for stmt in definition.body:
            if isinstance(stmt, (self.ast.QuantumGate, self.ast.QuantumPhase)):
                for g, p in self.expand(stmt, env, local):
                    gates += g
                    phase += p
            elif isinstance(stmt, self.ast.QuantumBarrier):
                continue
            else:
                raise _unsupported(stmt, _CONSTRUCTS.get(type(stmt).__name__) if not isinstance(
                    stmt, (self.ast.QuantumMeasurementStatement, self.ast.QuantumReset, self.ast.BranchingStatement))
                    else None)
        return gates, phase

    # ---- conditions
    def condition(self, node: Any) -> Condition:
        a = self.ast
        negate = False
        while isinstance(node, a.UnaryExpression) and node.op.name == "!":
            negate, node = not negate, node.expression
        if isinstance(node, (a.Identifier, a.IndexExpression, a.IndexedIdentifier)):
            cond = Condition(tuple(self.bits(node)), "!=", 0)
        elif isinstance(node, a.BinaryExpression) and node.op.name in ("==", "!=", "<", "<=", ">", ">="):
            op, lhs, rhs = node.op.name, node.lhs, node.rhs
            if isinstance(lhs, (a.IntegerLiteral, a.BooleanLiteral)):
                op = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}.get(op, op)
                lhs, rhs = rhs, lhs
            if not isinstance(lhs, (a.Identifier, a.IndexExpression, a.IndexedIdentifier)):
                raise _unsupported(node, "'if' conditions other than a register or bit compared with an integer")
            cond = Condition(tuple(self.bits(lhs)), op, self.integer(rhs, "a comparison value"))
        else:
            raise _unsupported(node, "'if' conditions other than a register or bit compared with an integer")
        if negate:
            inverse = {"==": "!=", "!=": "==", "<": ">=", ">=": "<", ">": "<=", "<=": ">"}
            cond = Condition(cond.bits, inverse[cond.op], cond.value)
        return cond

    # ---- statements
    def block(self, statements: list[Any], top: bool) -> list[Op]:
        a = self.ast
        ops: list[Op] = []
        for s in statements:
            if isinstance(s, a.Include):
                if s.filename not in ("stdgates.inc",):
                    raise Qasm3Error(f"include {s.filename!r} is not supported (only \"stdgates.inc\")", _line(s))
                if not top:
                    raise _unsupported(s)
            elif isinstance(s, a.QubitDeclaration) and top:
                self.declare_qubits(s)
            elif isinstance(s, a.ClassicalDeclaration) and top:
                self.declare_bits(s, s.identifier, s.type)
            elif isinstance(s, a.IODeclaration) and top:
                if s.io_identifier.name != "output":
                    self.declare_input(s)
                else:
                    self.declare_bits(s, s.identifier, s.type)
            elif isinstance(s, a.QuantumGateDefinition) and top:
                self.gates[s.name.name] = s
            elif isinstance(s, (a.QuantumGate, a.QuantumPhase)):
                for gates, _ in self.expand(s, None, None):
                    ops += gates
            elif isinstance(s, a.QuantumMeasurementStatement):
                qs = self.qubits(s.measure.qubit)
                if s.target is None:
                    ops += [Measure(q, None) for q in qs]
                    continue
                bits = self.bits(s.target)
                if len(bits) != len(qs):
                    raise Qasm3Error(f"measuring {len(qs)} qubit(s) into {len(bits)} bit(s)", _line(s))
                ops += [Measure(q, b) for q, b in zip(qs, bits)]
            elif isinstance(s, a.QuantumReset):
                ops += [Reset(q) for q in self.qubits(s.qubits)]
            elif isinstance(s, (a.QuantumBarrier, a.DelayInstruction, a.Pragma)):
                if isinstance(s, a.QuantumBarrier):
                    for q in s.qubits:
                        self.qubits(q)
            elif isinstance(s, a.Box):
                ops += self.block(s.body, False)
            elif isinstance(s, a.BranchingStatement):
                cond = self.condition(s.condition)
                then, orelse = self.block(s.if_block, False), self.block(s.else_block, False)
                ops.append(IfElse(cond, tuple(then), tuple(orelse)))
            else:
                raise _unsupported(s)
            self.count += 1
        return ops


def _syntax_error(exc: Exception) -> Qasm3Error:
    text = str(exc)
    cause = exc.__cause__
    token = None
    while cause is not None and token is None:
        token = getattr(cause, "offendingToken", None)
        cause = cause.__cause__ or (cause.args[0] if cause.args and isinstance(cause.args[0], Exception) else None)
    if token is not None:
        return Qasm3Error(f"syntax error at {token.text!r}", token.line)
    return Qasm3Error(f"syntax error{': ' + text if text else ''} (not valid OpenQASM 3)")


#: Deepest nesting of brackets (expressions, blocks, indices) a program may have: the reference
#: parser recurses on them and takes seconds to fail on thousands (measured: 3.7 s for 5,000).
MAX_NESTING = 100
#: Statements a program may have beyond its gate limit (declarations, measurements, resets):
#: the parser takes ~15 s per million characters, so a program that cannot be within the gate
#: limit is refused before it is parsed.
EXTRA_STATEMENTS = 20_000
_BRACKETS = re.compile(r"[][(){}]")
_OPENING = frozenset("([{")


def _check_shape(source: str, max_gates: int) -> None:
    """Refuse, before parsing, a program too long or too deeply nested to be one we would run
    (comments count: a cheap bound, not a parse)."""
    statements = source.count(";")
    if statements > max_gates + EXTRA_STATEMENTS:
        raise Qasm3Error(f"has {statements} statements; at most {max_gates + EXTRA_STATEMENTS} are allowed "
                         f"({max_gates} gates per job)")
    depth = deepest = 0
    for bracket in _BRACKETS.findall(source):
        depth += 1 if bracket in _OPENING else -1
        deepest = max(deepest, depth)
    if deepest > MAX_NESTING:
        raise Qasm3Error(f"nests brackets {deepest} deep; at most {MAX_NESTING} levels are allowed")


def parse(source: Any, limit: int = engine.MAX_QUBITS, max_gates: int = 150_000,
          inputs: Sequence[float] | None = None) -> Qasm3Program:
    """Translate an OpenQASM 3 source; raises :class:`Qasm3Error` naming the first problem.
    ``inputs`` bind its ``input float`` parameters in declaration order (without them such
    declarations are refused); a count that differs is a :class:`Qasm3InputError`."""
    if not isinstance(source, str) or not source.strip():
        raise Qasm3Error("must be a non-empty string of OpenQASM 3 source")
    if len(source) > MAX_SOURCE_CHARS:
        raise Qasm3Error(f"is {len(source)} characters; at most {MAX_SOURCE_CHARS} are allowed")
    _check_shape(source, max_gates)
    import openqasm3
    from openqasm3.parser import QASM3ParsingError

    try:
        tree = openqasm3.parse(source)
    except QASM3ParsingError as exc:
        raise _syntax_error(exc) from None
    except RecursionError:
        raise Qasm3Error("the program nests too deeply") from None
    if tree.version is not None and not tree.version.startswith("3"):
        raise Qasm3Error(f"OpenQASM {tree.version} is not supported (ionq.qasm3.v1 takes OpenQASM 3)")
    t = _Translator(limit, max_gates, inputs)
    try:
        ops = t.block(tree.statements, True)
    except RecursionError:
        raise Qasm3Error("gate definitions nest too deeply (or call themselves)") from None
    if inputs is not None and len(t.bound) != len(inputs):
        raise Qasm3InputError(f"params has {len(inputs)} value(s) but the ansatz declares {len(t.bound)} "
                              f"input parameter(s){': ' + ', '.join(t.bound) if t.bound else ''}")
    width = max(t.width, max(t.physical, default=-1) + 1)
    if width == 0:
        raise Qasm3Error("the program declares no qubits")
    clbits, registers = t.clbits, list(t.order)
    if not registers:  # no bits at all: measure every qubit at the end, like ionq.circuit.v1
        clbits = width
        ops += [Measure(q, q) for q in range(width)]
    return Qasm3Program(Program(width, clbits, tuple(ops)), registers)
