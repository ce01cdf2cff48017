"""Refusing at submission a job the workers could not run within their limits.

A job whose state vector cannot fit a worker's memory share, or whose noisy trajectories
would take longer than ``QHARBOR_JOB_TIME_LIMIT_S``, would otherwise be queued, claimed, and
fail minutes later (``TooComplex``, ``SimulationTimeout``) after holding a worker. The
predictions are deliberately optimistic — a refusal must mean the job could not have run:

* memory: the state vectors in *single* precision (the worker falls back to it where double
  does not fit, ``engine/limits.py``), none for Clifford circuits (a stabilizer tableau);
* time: noisy runs only, one trajectory per shot that meets an error, each at least the
  circuit's gates over the whole state, at :data:`SECONDS_PER_AMPLITUDE_GATE` — about 30
  times faster than measured on the machine that calibrated it.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import engine
from ..core.backends import noise_model
from ..core.problems import Problems
from ..engine import stabilizer
from ..settings import Settings
from .programs import JobRequest

#: Seconds per gate per amplitude of one noisy trajectory, a lower bound. Measured with
#: ``engine.noisy_counts`` (aria-1, 12-20 qubits, 100-1,000 gates) on a shared 2-core
#: machine: 0.6-2.3e-9 s; divided by 30 so that a much faster machine is not refused.
SECONDS_PER_AMPLITUDE_GATE = 2e-11


@dataclass(frozen=True)
class Capacity:
    """What one worker may use: ``memory_bytes`` (None: unknown here, not checked) and
    ``time_s`` per job."""

    memory_bytes: int | None
    time_s: float

    @classmethod
    def of(cls, settings: Settings) -> Capacity:
        """The workers' limits as this process sees them: the configured memory share, else
        the memory available now shared among the workers ``qharbor serve`` starts (as each
        worker computes its own share at start); with no local workers and no configured
        share, memory is not predicted (remote workers' memory is unknown here)."""
        memory = settings.engine_memory_bytes
        if memory is None and settings.workers > 0:
            memory = engine.available_memory() // settings.workers
        return cls(memory, settings.job_time_limit_s)

    def check(self, request: JobRequest) -> None:
        """Raise ``InvalidRequest`` (naming ``input``) with the predicted memory or time when
        the job could not run within these limits."""
        if request.dry_run:
            return
        p = Problems()
        model = noise_model(request.backend, request.noise)
        for i, program in enumerate(request.circuits):
            circuit = program.circuit
            path = "input" if len(request.circuits) == 1 else f"input.circuits[{i}]"
            if not circuit.gates or stabilizer.is_clifford(circuit):
                continue
            states = 1 if model is None else 2
            need = engine.memory_needed(circuit.qubits, "single", states)
            if self.memory_bytes is not None and need > self.memory_bytes:
                p.add(path, f"{circuit.qubits} qubits need at least {need / 2**30:.1f} GiB of memory "
                            f"({states} state vector(s) in single precision), more than a worker's "
                            f"{self.memory_bytes / 2**30:.1f} GiB")
                continue
            if model is not None:
                seconds = trajectory_seconds(circuit, model, request.shots)
                if seconds > self.time_s:
                    p.add(path, f"{request.shots} noisy shots of {len(circuit.gates)} gates on {circuit.qubits} "
                                f"qubits ({model.name}) are predicted to take at least {seconds:.0f} s, more than "
                                f"the workers' {self.time_s:.0f} s limit per job")
        p.raise_if_any()


def trajectory_seconds(circuit: engine.Circuit, model: engine.noise.NoiseModel, shots: int) -> float:
    """A lower bound on a noisy run's time: each shot that meets an error (expected share:
    one minus every gate's no-error probability, all counted at the smaller one-qubit rate)
    runs its own trajectory of, on average, half the circuit over the whole state."""
    clean = (1 - model.r1) ** len(circuit.gates)
    trajectories = shots * (1 - clean)
    return trajectories * len(circuit.gates) / 2 * (1 << circuit.qubits) * SECONDS_PER_AMPLITUDE_GATE
