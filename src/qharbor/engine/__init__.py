"""Circuit simulation behind a narrow interface.

``simulate(circuit)`` takes a validated :class:`Circuit` and returns its exact
outcome distribution; ``sample`` draws seeded shots from it. Everything above this
package depends only on these names, so the simulator can be replaced freely.
"""

from __future__ import annotations

import os
import time

import numpy as np

from . import noise, statevector
from .circuit import GATES, ONE_QUBIT, TWO_QUBIT, Circuit, Gate
from .errors import SimulationError, SimulationTimeout, TooComplex

__all__ = [
    "GATES",
    "MAX_QUBITS",
    "ONE_QUBIT",
    "TWO_QUBIT",
    "Circuit",
    "Gate",
    "SimulationError",
    "SimulationTimeout",
    "TooComplex",
    "noise",
    "noisy_counts",
    "probabilities",
    "sample",
    "simulate",
]

#: Widest register the dense simulator accepts (8 GiB of amplitudes).
MAX_QUBITS = 29
#: Probabilities below this are reported as zero (they are rounding noise).
_ZERO = 1e-12


def _available_memory() -> int:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")


def simulate(circuit: Circuit, time_limit_s: float | None = None) -> np.ndarray:
    """Exact probabilities of every basis state (index bit q = qubit q).

    Refuses up front, rather than being killed by the kernel, when the machine
    does not have the memory the run needs.
    """
    if circuit.qubits > MAX_QUBITS:
        raise TooComplex(f"{circuit.qubits} qubits exceeds the simulator's {MAX_QUBITS}")
    need = statevector.state_bytes(circuit.qubits)
    if need > _available_memory():
        raise TooComplex(
            f"simulating {circuit.qubits} qubits needs {need / 2**30:.1f} GiB of memory,"
            " more than this worker has free"
        )
    deadline = None if time_limit_s is None else time.monotonic() + time_limit_s
    amplitudes = statevector.run(circuit, deadline)
    probs = amplitudes.real**2 + amplitudes.imag**2
    return probs


def noisy_counts(
    circuit: Circuit, model: noise.NoiseModel, shots: int, seed: int, stream: int = 0,
    time_limit_s: float | None = None,
) -> dict[str, int]:
    """Shot counts under ``model``: one trajectory per shot, grouped by error pattern.

    ``seed`` and ``stream`` (e.g. the circuit's position in its job) fix the result.
    """
    rng = np.random.default_rng([seed, stream, 0x6E6F697365])
    deadline = None if time_limit_s is None else time.monotonic() + time_limit_s
    totals: dict[int, int] = {}
    for pattern, n in noise.trajectories(circuit, model, shots, rng).items():
        if not n:
            continue
        remaining = None if deadline is None else max(deadline - time.monotonic(), 0.0)
        probs = simulate(noise.with_errors(circuit, pattern), remaining)
        support = np.flatnonzero(probs > _ZERO)
        weights = probs[support]
        for outcome, count in zip(support.tolist(), rng.multinomial(n, weights / weights.sum()).tolist()):
            if count:
                totals[outcome] = totals.get(outcome, 0) + count
    return {str(k): v for k, v in sorted(totals.items())}


def probabilities(probs: np.ndarray, max_entries: int) -> dict[str, float]:
    """The IonQ result map: decimal basis-state keys to probability, zeros omitted."""
    nonzero = np.flatnonzero(probs > _ZERO)
    if len(nonzero) > max_entries:
        raise TooComplex(
            f"the result has {len(nonzero)} non-zero outcomes, more than the {max_entries} allowed"
        )
    return dict(zip(map(str, nonzero.tolist()), probs[nonzero].tolist()))


def sample(probs: np.ndarray, shots: int, seed: int | None) -> dict[str, int]:
    """Seeded shot counts in O(shots + 2^n)."""
    rng = np.random.default_rng(seed)
    p = probs / probs.sum()
    counts = rng.multinomial(shots, p)
    hit = np.flatnonzero(counts)
    return dict(zip(map(str, hit.tolist()), counts[hit].tolist()))
