"""Circuit simulation behind a narrow interface.

``ideal(circuit, shots, rng, limits)`` measures a validated :class:`Circuit` into a job's
outcomes: the exact map while it is small, else the job's shots drawn once
(``ideal.py``, ``measure.py``); ``noisy_counts`` runs it under a noise model
(``noisy.py``, ``noise.py``), ``debias.run`` on an emulated QPU, ``dynamic.outcomes``
with mid-circuit measurement. Each takes one :class:`Limits` (``limits.py``). Everything
above this package depends only on the names below, so the simulator can be replaced
freely; this file only re-exports them.

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
* **Cache tiles** (``tiles.py``): from ``tiles.MIN_QUBITS`` qubits the state is out of
  cache and a pass costs more in memory traffic than in arithmetic, so the fused ops
  are grouped by the qubits they touch, and each group runs tile by tile: a thread
  copies a slice of the state spanning the group's qubits (2^18 amplitudes) into a
  buffer that stays in cache, applies every op of the group there, and copies it back
  — one pass over memory per group of up to 64 ops instead of one per op.
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

* **Stabilizer tableau** (``stabilizer.py``): Clifford circuits, ideal from 18 qubits
  and noisy ones whose errors all become bit flips, need no state vector at all.

Limits (``limits.py``): at most ``MAX_QUBITS`` qubits; the memory a run needs is checked
against a budget before anything is allocated; the time limit is checked between fused
blocks and tile groups.
"""

from . import debias, dynamic, measure, noise
from .circuit import GATES, ONE_QUBIT, TWO_QUBIT, Circuit, Gate
from .errors import SimulationError, SimulationTimeout, TooComplex
from .ideal import ideal, simulate
from .limits import MAX_QUBITS, PRECISIONS, Limits, available_memory, memory_needed
from .noisy import noisy_counts
from .statevector import compile_kernels as warm_up
from .statevector import evolve
from .statevector import run as final_state

__all__ = [
    "GATES", "MAX_QUBITS", "ONE_QUBIT", "PRECISIONS", "TWO_QUBIT", "Circuit", "Gate", "Limits",
    "SimulationError", "SimulationTimeout", "TooComplex", "available_memory", "debias", "dynamic",
    "evolve", "final_state", "ideal", "measure", "memory_needed", "noise", "noisy_counts", "simulate", "warm_up",
]
