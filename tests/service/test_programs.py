"""Program validation: the fast path for common gate forms gives what the full path gives."""

from __future__ import annotations

import itertools
import math

import pytest

from qharbor.core.problems import Problems
from qharbor.service.programs import _common_gate, _parse_any_gate

NAMES = ["x", "y", "z", "h", "s", "si", "t", "ti", "v", "vi", "not", "cnot", "rx", "ry", "rz", "swap", "xx",
         "pauliexp", "gpi", "bogus", 7, None]
TARGETS = [0, 3, -1, True, 2.0, "1", None]
CONTROLS = [None, 1, 3, -2, False]
ROTATIONS = [None, 0.5, 2, -1e-3, math.inf, math.nan, "0.1", True]


def _gates():  # every combination of the keys the fast path reads, plus shapes it must leave alone
    for name, t, c, r in itertools.product(NAMES, TARGETS, CONTROLS, ROTATIONS):
        gate = {"gate": name}
        for key, value in (("target", t), ("control", c), ("rotation", r)):
            if value is not None:
                gate[key] = value
        yield gate
    yield {"gate": "h", "target": 0, "rotation": None}  # a present-but-null key
    yield {"gate": "h", "target": 0, "targets": [1]}
    yield {"gate": "cnot", "target": 0, "controls": [1]}
    yield {"gate": "h", "targets": [0, 1]}
    yield ["h", 0]


@pytest.mark.parametrize("gate", list(_gates()), ids=str)
def test_the_fast_path_agrees_with_every_check(gate: object) -> None:
    fast = _common_gate(gate)
    p = Problems("body")
    full = _parse_any_gate(gate, "qis", "input.circuit[0]", p)
    if fast is not None:  # taken only where the full path accepts the gate, with the same result
        assert not p.items and fast == full
