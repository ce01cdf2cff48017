"""Exact dense statevector simulation with NumPy.

The state is held as an n-dimensional array of shape (2,)*n in which axis ``a`` is
qubit ``n-1-a``; flattening it in C order therefore gives the IonQ index convention
(qubit 0 is the least-significant bit) without any reordering.
"""

from __future__ import annotations

import time

import numpy as np

from . import gates as gate_matrices
from .circuit import Circuit, Gate
from .errors import SimulationTimeout

_BYTES_PER_AMPLITUDE = np.dtype(np.complex128).itemsize


def state_bytes(qubits: int) -> int:
    """Peak memory of a run: the state, one full-size gate temporary, and the probabilities."""
    return 3 * _BYTES_PER_AMPLITUDE * (1 << qubits)


def _apply(state: np.ndarray, n: int, gate: Gate) -> None:
    unitary = gate_matrices.matrix(gate)
    k = len(gate.targets)
    # Fix every control axis to |1>: basic indexing gives a writable view.
    index: list[int | slice] = [slice(None)] * n
    for c in gate.controls:
        index[n - 1 - c] = 1
    view = state[tuple(index)]
    # Axis numbers inside the view shift down past each removed control axis.
    removed = sorted(n - 1 - c for c in gate.controls)
    axes = []
    for t in gate.targets:
        axis = n - 1 - t
        axes.append(axis - sum(1 for r in removed if r < axis))
    tensor = unitary.reshape((2,) * (2 * k))
    moved = np.tensordot(tensor, view, axes=(list(range(k, 2 * k)), axes))
    view[...] = np.moveaxis(moved, list(range(k)), axes)


def run(circuit: Circuit, deadline: float | None = None) -> np.ndarray:
    """Final amplitudes of ``circuit`` as a flat vector indexed by basis state.

    ``deadline`` is a ``time.monotonic()`` instant after which the run stops with
    :class:`SimulationTimeout`; it is checked between gates.
    """
    n = circuit.qubits
    state = np.zeros((2,) * n, dtype=np.complex128)
    state[(0,) * n] = 1.0
    for i, gate in enumerate(circuit.gates):
        if deadline is not None and i % 64 == 0 and time.monotonic() > deadline:
            raise SimulationTimeout("the simulation ran past this job's time limit")
        if gate.name == "pauliexp" or len(gate.targets) <= 2:
            _apply(state, n, gate)
        else:  # a one-qubit gate broadcast over several targets
            for t in gate.targets:
                _apply(state, n, Gate(gate.name, (t,), gate.controls, gate.params))
    return state.reshape(-1)
