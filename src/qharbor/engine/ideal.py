"""Ideal circuits: exact probabilities from a state vector (CPU or GPU), or, for wide
Clifford circuits, from a stabilizer tableau; measured into a job's outcomes."""

from __future__ import annotations

import numpy as np

from . import gpu, measure, stabilizer, statevector
from .circuit import Circuit
from .limits import Limits

#: Ideal Clifford circuits at least this wide are measured from a stabilizer tableau (a few
#: operations on n-bit columns per gate) instead of a 2^n-amplitude state vector.
STABILIZER_FROM = 18


def simulate(circuit: Circuit, limits: Limits = Limits()) -> np.ndarray:
    """Exact probabilities of every basis state (index bit q = qubit q).

    Refuses up front with :class:`TooComplex`, rather than being killed by the kernel,
    when the run needs more memory than ``limits`` allow or the machine has now. A
    register too wide for double precision in that memory runs in single precision
    instead (the returned array's dtype, float32, says so): a result at ~1e-6 beats
    no result.
    """
    precision = limits.precision_for(circuit.qubits)
    deadline = limits.deadline()
    if limits.gpu and gpu.usable(circuit.qubits, precision):
        return gpu.probabilities(circuit, deadline, precision)
    re, im = statevector.run(circuit, deadline, precision)
    np.multiply(re, re, out=re)  # |a|^2 in place: no third state-sized array
    np.multiply(im, im, out=im)
    re += im
    del im
    return re


def ideal(circuit: Circuit, shots: int, rng: np.random.Generator,
          limits: Limits = Limits()) -> tuple[measure.Outcomes, str]:
    """An ideal circuit's measured outcomes (``measure.py``: the exact map while it has at
    most ``limits.max_exact`` entries, else ``shots`` draws) and their precision:
    ``"exact"`` for a wide Clifford circuit, whose distribution a stabilizer tableau gives
    exactly at any width (a GHZ state of 29 qubits in microseconds), else the state
    vector's (``"double"``, or ``"single"`` where double does not fit)."""
    if circuit.qubits >= STABILIZER_FROM and stabilizer.is_clifford(circuit):
        x0, basis = stabilizer.clifford_sampler(circuit)
        return measure.uniform(x0, basis, shots, rng, limits.max_exact), "exact"
    probs = simulate(circuit, limits)
    return (measure.measure(probs, shots, rng, limits.max_exact),
            "single" if probs.dtype == np.float32 else "double")
