"""The engine's input: a validated circuit of canonical gates.

The API layer translates every wire form (``target``/``targets``, ``cnot``, native
turns, ...) into these records, so the simulator sees one vocabulary only.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import NamedTuple

#: Gates acting on one target qubit, with or without a parameter.
ONE_QUBIT = frozenset(
    {"x", "y", "z", "h", "s", "si", "t", "ti", "v", "vi", "rx", "ry", "rz", "phase", "gpi", "gpi2"}
)
#: Gates acting on exactly two target qubits.
TWO_QUBIT = frozenset({"swap", "xx", "yy", "zz", "ms"})
#: Every canonical gate name the engine accepts.
GATES = ONE_QUBIT | TWO_QUBIT | {"pauliexp"}


class Gate(NamedTuple):
    """One canonical gate.

    Angles are radians for QIS gates and turns for the native ``gpi``/``gpi2``/``ms``
    gates (the IonQ conventions), so no information is lost in translation.
    ``pauliexp`` carries ``terms`` and ``coefficients`` and its ``time`` in ``params[0]``.
    A named tuple rather than a dataclass: jobs build one per gate at submission and again
    in the worker, and a tuple is built in a third of the time.
    """

    name: str
    targets: tuple[int, ...]
    controls: tuple[int, ...] = ()
    params: tuple[float, ...] = ()
    terms: tuple[str, ...] = ()
    coefficients: tuple[float, ...] = ()


#: A :class:`Gate` from all six fields at once, skipping the named tuple's argument handling:
#: for the paths that build one per gate (parsing at submission, decoding in the worker).
make_gate = functools.partial(tuple.__new__, Gate)


@dataclass(frozen=True, slots=True)
class Circuit:
    """A register of ``qubits`` qubits (all starting in |0>) and the gates applied in order."""

    qubits: int
    gates: tuple[Gate, ...] = field(default_factory=tuple)
