"""Circuit simulation behind a narrow interface.

``simulate(circuit)`` takes a validated :class:`Circuit` and returns its exact
outcome distribution; ``measure.measure`` turns it into the job's result: the exact
map while it is small, else the job's shots drawn from it once (``measure.py``).
Everything above this package depends only on these names, so the simulator can be
replaced freely.

How it is fast, and why:

* **Fusion** (``fusion.py``): a dense simulator is bound by passes over the
  2^n-amplitude state, so consecutive gates are multiplied into blocks of up to
  ``FUSE_QUBITS`` qubits first (as qsim does) and each block costs one pass.
* **Diagonal runs** (``fusion.group_diagonals``): consecutive diagonal gates (rz,
  phase, z, zz, controlled phases, ...) spanning more qubits than a fused block are
  merged into one diagonal, applied as one elementwise multiply by a small table
  (a QFT stage is then one pass instead of one per controlled phase).
* **Compiled in-place kernels** (``kernels.py``, numba): one pass applies a small
  unitary in place, with the state split into real and imaginary arrays so the
  arithmetic is float multiply-adds the compiler vectorises. Fused blocks run on
  *lane kernels* that walk the state in chunks of sixteen amplitudes (one AVX-512
  register of single-precision numbers): a target on qubits 0-3 permutes lanes
  within a chunk, and because each target layout has its own compiled kernel that
  permutation is a constant vector shuffle — without it, blocks on the lowest
  qubits (a third of all blocks in a random circuit) ran scalar and cost 5-10x the
  others. Kernels are cached on disk and loaded by :func:`warm_up` when a worker
  starts.
* **Both cores**: wide registers run the parallel kernel (threads over blocks of the
  state); registers of at most ``SMALL_QUBITS`` qubits run one serial compiled call
  per circuit instead, because for them thread start-up and per-gate Python would
  cost more than the arithmetic (many-circuit jobs are mostly such circuits); that
  interpreter runs allocation-free scalar loops, and small runs check memory against
  a reading of /proc/meminfo at most half a second old.
* **Precision**: ``precision="double"`` (complex128, the default and the service's
  choice) is exact to ~1e-15; ``"single"`` (complex64) halves memory and memory
  traffic, which is what bounds wide registers, at ~1e-6 accuracy — the same
  trade qsim makes by always using single precision.
* **GPU** (``gpu.py``, optional CuPy): used automatically when a CUDA device is
  present, for registers wide enough to repay the transfer.

Limits: at most ``MAX_QUBITS`` qubits; the memory a run needs is checked against a
budget before anything is allocated; the time limit is checked between fused blocks.
"""

from __future__ import annotations

import os
import time

from typing import Any

import numpy as np

from . import debias, gpu, measure, noise, statevector
from .circuit import GATES, ONE_QUBIT, TWO_QUBIT, Circuit, Gate
from .errors import SimulationError, SimulationTimeout, TooComplex

__all__ = [
    "GATES",
    "MAX_QUBITS",
    "ONE_QUBIT",
    "PRECISIONS",
    "TWO_QUBIT",
    "Circuit",
    "Gate",
    "SimulationError",
    "SimulationTimeout",
    "TooComplex",
    "available_memory",
    "debias",
    "memory_needed",
    "noise",
    "evolve",
    "ideal",
    "noisy_counts",
    "measure",
    "simulate",
    "warm_up",
]

#: Widest register the dense simulator accepts (8 GiB of double-precision amplitudes).
MAX_QUBITS = 29
PRECISIONS = tuple(statevector.PRECISIONS)


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


#: Runs needing at most this many bytes check memory against a reading at most
#: ``_AVAIL_TTL_S`` old: reading /proc/meminfo would otherwise dominate small circuits.
_SMALL_NEED = 256 << 20
_AVAIL_TTL_S = 0.5
_avail_cache = [-1.0, 0]  # monotonic time of the reading, bytes


def _recent_available() -> int:
    now = time.monotonic()
    if now - _avail_cache[0] > _AVAIL_TTL_S:
        _avail_cache[0], _avail_cache[1] = now, available_memory()
    return int(_avail_cache[1])


def memory_needed(qubits: int, precision: str = "double") -> int:
    """Peak bytes of a run: the real and imaginary state vectors (probabilities are
    computed in place and measured without a copy, ``measure.py``) and 64 MiB slack."""
    item = np.dtype(statevector.PRECISIONS[precision]).itemsize
    return (1 << qubits) * 2 * item + (64 << 20)


def _fitting_precision(qubits: int, precision: str, memory_budget: int | None, states: int = 1,
                       what: str = "") -> str:
    """``precision``, or single precision where a double-precision run of ``states`` state
    vectors would not fit this worker's memory but a single-precision one does; refuses
    with :class:`TooComplex`, before anything is allocated, when neither fits."""
    if precision not in statevector.PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}")
    if qubits > MAX_QUBITS:
        raise TooComplex(f"{qubits} qubits exceeds the simulator's {MAX_QUBITS}")

    def need(p: str) -> int:
        return memory_needed(qubits, p) + (states - 1) * (memory_needed(qubits, p) - (64 << 20))

    avail = _recent_available() if need(precision) <= _SMALL_NEED else available_memory()
    limit = avail if memory_budget is None else min(memory_budget, avail)
    for candidate in (precision, "single"):
        if need(candidate) <= limit:
            return candidate
    raise TooComplex(
        f"simulating {qubits} qubits{what} needs {need('single') / 2**30:.1f} GiB of memory even in single"
        f" precision, more than this worker's {limit / 2**30:.1f} GiB"
    )


def simulate(
    circuit: Circuit,
    time_limit_s: float | None = None,
    *,
    precision: str = "double",
    memory_budget: int | None = None,
) -> np.ndarray:
    """Exact probabilities of every basis state (index bit q = qubit q).

    Refuses up front with :class:`TooComplex`, rather than being killed by the
    kernel, when the run needs more than ``memory_budget`` bytes (this worker's
    share) or more than the machine has available right now. A register too wide for
    double precision in that memory runs in single precision instead (the returned
    array's dtype, float32, says so): a result at ~1e-6 beats no result.
    """
    precision = _fitting_precision(circuit.qubits, precision, memory_budget)
    deadline = None if time_limit_s is None else time.monotonic() + time_limit_s
    if gpu.usable(circuit.qubits, precision):
        return gpu.probabilities(circuit, deadline, precision)
    re, im = statevector.run(circuit, deadline, precision)
    np.multiply(re, re, out=re)  # |a|^2 in place: no third state-sized array
    np.multiply(im, im, out=im)
    re += im
    del im
    return re


#: Ideal Clifford circuits at least this wide are measured from a stabilizer tableau (a few
#: operations on n-bit columns per gate) instead of a 2^n-amplitude state vector.
STABILIZER_FROM = 18


def ideal(circuit: Circuit, shots: int, rng: np.random.Generator, max_exact: int,
          **options: Any) -> tuple[measure.Outcomes, str]:
    """An ideal circuit's measured outcomes (``measure.py``: the exact map while small, else
    ``shots`` draws) and their precision: ``"exact"`` for a wide Clifford circuit, whose
    outcome distribution — uniform over an affine subspace — a stabilizer tableau gives
    exactly at any width (a GHZ state of 29 qubits in microseconds), else the state
    vector's (``"double"``, or ``"single"`` where double does not fit). ``options`` as for
    :func:`simulate`."""
    if circuit.qubits >= STABILIZER_FROM and noise.is_clifford(circuit):
        x0, basis = noise.clifford_sampler(circuit)
        return measure.uniform(x0, basis, shots, rng, max_exact), "exact"
    probs = simulate(circuit, **options)
    return measure.measure(probs, shots, rng, max_exact), "single" if probs.dtype == np.float32 else "double"


def warm_up(precision: str = "double") -> None:
    """Load or compile every CPU kernel a run at ``precision`` may use (worker start-up)."""
    statevector.compile_kernels(precision)


def evolve(re: np.ndarray, im: np.ndarray, gates: list[Gate] | tuple[Gate, ...],
           deadline: float | None = None) -> None:
    """Apply ``gates`` in place to the state (``re``, ``im``) — :func:`statevector.run`'s
    loop, from a given state instead of |0...0> (the noise module continues shared
    ideal prefixes with it). CPU only; ``deadline`` as in ``statevector.run``."""
    tick = statevector._checker(deadline)
    tick()
    statevector.evolve(re, im, gates, tick)


def _draw(re: np.ndarray, im: np.ndarray, flips: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One outcome per entry of ``flips`` from the state's distribution, XOR its flip mask."""
    cdf = np.cumsum(np.square(re, dtype=np.float64) + np.square(im, dtype=np.float64))
    outcomes = np.searchsorted(cdf, rng.random(flips.size) * cdf[-1], side="right")
    np.minimum(outcomes, cdf.size - 1, out=outcomes)
    return outcomes.astype(np.int64) ^ flips


def noisy_counts(
    circuit: Circuit, model: noise.NoiseModel, shots: int, seed: int, stream: int = 0,
    time_limit_s: float | None = None, exempt: frozenset[int] = frozenset(), **options: Any,
) -> dict[str, int]:
    """Shot counts under ``model``: one trajectory per shot, grouped by error pattern.

    Errors are propagated to where a gate blocks them, or to the end where they are
    bit flips (``noise.plan``); the ideal circuit runs once, and each distinct blocked
    pattern continues from a copy of the ideal state at its first error. A Clifford
    circuit (all of whose errors become bit flips) needs no state vector at all: its
    ideal outcomes, uniform over an affine subspace, come from a stabilizer tableau. ``seed`` and
    ``stream`` (e.g. the circuit's position in its job) fix the result; ``options``
    (precision, memory budget) as for :func:`simulate`. Gates whose index is in
    ``exempt`` get no error channel (emulated systematic errors, ``debias.py``).
    """
    rng = np.random.default_rng([seed, stream, 0x6E6F697365])
    deadline = None if time_limit_s is None else time.monotonic() + time_limit_s
    groups = noise.plan(circuit, model, shots, rng, exempt)
    if set(groups) <= {()} and noise.is_clifford(circuit):  # a stabilizer tableau, no state vector
        if not groups:
            return {}
        x0, basis = noise.clifford_sampler(circuit)
        drawn = noise.draw_clifford(x0, basis, groups[()], rng)
        values, tallies = np.unique(drawn, return_counts=True)
        return {str(k): int(v) for k, v in zip(values.tolist(), tallies.tolist())}
    copies = 1 if set(groups) <= {()} else 2  # the ideal state, and one pattern's copy
    precision = _fitting_precision(circuit.qubits, options.get("precision", "double"),
                                   options.get("memory_budget"), copies, " with noise")
    dtype = statevector.PRECISIONS[precision]
    re = np.zeros(1 << circuit.qubits, dtype=dtype)
    im = np.zeros(1 << circuit.qubits, dtype=dtype)
    re[0] = 1.0
    gates, at = circuit.gates, 0
    outcomes: list[np.ndarray] = []
    for key in sorted((k for k in groups if k), key=lambda k: k[0][0]):
        first = key[0][0]
        evolve(re, im, gates[at:first], deadline)
        at = first
        wre, wim = re.copy(), im.copy()
        rest: list[Gate] = []
        pos = first
        for position, x, z in key:
            rest += gates[pos:position]
            rest += noise.pauli_gates(circuit.qubits, x, z)
            pos = position
        rest += gates[pos:]
        evolve(wre, wim, rest, deadline)
        outcomes.append(_draw(wre, wim, groups[key], rng))
        del wre, wim
    evolve(re, im, gates[at:], deadline)
    if () in groups:
        outcomes.append(_draw(re, im, groups[()], rng))
    if not outcomes:
        return {}
    values, tallies = np.unique(np.concatenate(outcomes), return_counts=True)
    return {str(k): int(v) for k, v in zip(values.tolist(), tallies.tolist())}
