"""What one run may use: time, memory, precision, and how many exact outcomes it keeps.

Every entry point (``ideal``, ``simulate``, ``noisy_counts``, ``debias.run``,
``dynamic.outcomes``) takes one :class:`Limits`, so a worker states its share once
(``dispatch/worker.py``) and no path forgets one of them.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import numpy as np

from .errors import TooComplex
from .statevector import PRECISIONS as _DTYPES

#: Widest register the dense simulator accepts (8 GiB of double-precision amplitudes).
MAX_QUBITS = 29
PRECISIONS = tuple(_DTYPES)
#: Slack on top of the state vectors for everything else a run allocates.
_SLACK = 64 << 20
#: Runs needing at most this many bytes check memory against a reading at most
#: ``_AVAIL_TTL_S`` old: reading /proc/meminfo would otherwise dominate small circuits.
_SMALL_NEED = 256 << 20
_AVAIL_TTL_S = 0.5
_avail_cache = [-1.0, 0]  # monotonic time of the reading, bytes


def available_memory() -> int:
    """Bytes the kernel reports as available to new allocations."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")


def _recent_available() -> int:
    now = time.monotonic()
    if now - _avail_cache[0] > _AVAIL_TTL_S:
        _avail_cache[0], _avail_cache[1] = now, available_memory()
    return int(_avail_cache[1])


def memory_needed(qubits: int, precision: str = "double", states: int = 1) -> int:
    """Peak bytes of a run holding ``states`` state vectors (real and imaginary parts;
    probabilities are computed in place and measured without a copy, ``measure.py``)."""
    return states * (1 << qubits) * 2 * np.dtype(_DTYPES[precision]).itemsize + _SLACK


@dataclass(frozen=True)
class Limits:
    """One run's limits. ``time_s``: seconds from the call (None: none); ``precision``:
    the preferred one (single where double does not fit, :meth:`precision_for`);
    ``memory_budget``: this worker's share in bytes (None: whatever is available);
    ``max_exact``: outcomes kept as an exact map before shots are drawn instead; ``gpu``:
    whether a wide register may run on a CUDA device (``gpu.py``) where one is present."""

    time_s: float | None = None
    precision: str = "double"
    memory_budget: int | None = None
    max_exact: int = 1 << 12
    gpu: bool = True

    def __post_init__(self) -> None:
        if self.precision not in _DTYPES:
            raise ValueError(f"precision must be one of {PRECISIONS}")

    def deadline(self) -> float | None:
        """The ``time.monotonic()`` instant this run must end by (taken when it starts)."""
        return None if self.time_s is None else time.monotonic() + self.time_s

    def memory(self, need: int = 0) -> int:
        """Bytes a run may allocate now: the budget, bounded by what the machine has (read
        afresh for big runs, from a recent reading for small ones)."""
        avail = _recent_available() if need <= _SMALL_NEED else available_memory()
        return avail if self.memory_budget is None else min(self.memory_budget, avail)

    def precision_for(self, qubits: int, states: int = 1, what: str = "") -> str:
        """The preferred precision, or single where ``states`` double-precision vectors
        would not fit but single-precision ones do; refuses with :class:`TooComplex`,
        before anything is allocated, when neither fits."""
        if qubits > MAX_QUBITS:
            raise TooComplex(f"{qubits} qubits exceeds the simulator's {MAX_QUBITS}")
        limit = self.memory(memory_needed(qubits, self.precision, states))
        for candidate in (self.precision, "single"):
            if memory_needed(qubits, candidate, states) <= limit:
                return candidate
        raise TooComplex(
            f"simulating {qubits} qubits{what} needs {memory_needed(qubits, 'single', states) / 2**30:.1f} GiB"
            f" of memory even in single precision, more than this worker's {limit / 2**30:.1f} GiB"
        )
