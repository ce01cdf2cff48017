"""Optional GPU path (``pip install 'qharbor[gpu]'``, CuPy): used automatically when a
CUDA device is present and the register is wide enough to repay the transfers.

It runs the same fused blocks as the CPU path, each as one tensor contraction on
the device, so both paths share the gate semantics and the fusion. The code is
written against an array module ``xp`` so the very same functions run (and are
tested) with NumPy on machines without a GPU. A run's ``Limits.gpu`` turns it off (the
service's ``QHARBOR_ENGINE_GPU=off``).
"""

from __future__ import annotations

import functools
import time
from types import ModuleType
from typing import Any

import numpy as np

from .circuit import Circuit
from .errors import SimulationTimeout
from .fusion import Op, fuse, gate_ops

#: Narrower registers stay on the CPU: kernel launches and the copy back would dominate.
MIN_QUBITS = 18
#: Larger blocks than on the CPU: a GPU has arithmetic to spare per memory pass.
FUSE_QUBITS = 4


@functools.cache
def _cupy() -> ModuleType | None:
    try:
        import cupy

        return cupy if cupy.cuda.runtime.getDeviceCount() > 0 else None
    except Exception:  # not installed, no driver, no device: all mean "no GPU"
        return None


def available() -> bool:
    """Whether a usable CUDA device and CuPy are present."""
    return _cupy() is not None


def usable(qubits: int, precision: str = "double") -> bool:
    """Whether a run of this width should go to the GPU: wide enough, and the state plus
    the contraction's full-size temporaries (three states in all) fit in free device memory."""
    cp = _cupy()
    if cp is None or qubits < MIN_QUBITS:
        return False
    need = 3 * (8 if precision == "single" else 16) << qubits
    return need <= cp.cuda.Device().mem_info[0]


def apply(xp: ModuleType, state: Any, op: Op) -> None:
    """Apply ``op`` in place to ``state`` of shape (2,)*n, where axis a is qubit n-1-a."""
    n = state.ndim
    index: list[int | slice] = [slice(None)] * n
    for c in op.controls:  # fixing each control axis to |1> gives a writable view
        index[n - 1 - c] = 1
    view = state[tuple(index)]
    removed = sorted(n - 1 - c for c in op.controls)
    axes = [(n - 1 - t) - sum(r < n - 1 - t for r in removed) for t in op.targets]
    k = len(op.targets)
    tensor = xp.asarray(op.matrix, dtype=state.dtype).reshape((2,) * (2 * k))
    moved = xp.tensordot(tensor, view, axes=(list(range(k, 2 * k)), axes))
    view[...] = xp.moveaxis(moved, list(range(k)), axes)


def run(xp: ModuleType, circuit: Circuit, deadline: float | None, precision: str) -> Any:
    """Final amplitudes as an ``xp`` array of shape (2,)*n."""
    n = circuit.qubits
    state = xp.zeros((2,) * n, dtype=np.complex64 if precision == "single" else np.complex128)
    state[(0,) * n] = 1.0

    def tick() -> None:
        if deadline is not None and time.monotonic() > deadline:
            raise SimulationTimeout("the simulation ran past this job's time limit")

    ops = (op for gate in circuit.gates for op in gate_ops(gate))
    for op in fuse(ops, FUSE_QUBITS, tick):
        tick()
        apply(xp, state, op)
    return state


def probabilities(circuit: Circuit, deadline: float | None, precision: str) -> np.ndarray:
    """Probabilities computed on the GPU, returned as a flat host array."""
    cp = _cupy()
    assert cp is not None, "probabilities() called without a GPU"
    state = run(cp, circuit, deadline, precision).reshape(-1)
    probs = state.real**2 + state.imag**2
    del state
    return cp.asnumpy(probs)
