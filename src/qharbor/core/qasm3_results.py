"""Running ``ionq.qasm3.v1`` jobs and rendering their results per classical register.

A finished qasm3 job stores two documents:

* ``probabilities``: ``{"<record>": p}`` over the *classical record* (every declared
  bit, registers concatenated in declaration order, record bit 0 = bit 0 of the
  first register; see :mod:`.qasm3`). For static programs on the ideal simulator
  the values are exact while they have at most ``Settings.max_exact_outcomes``
  outcomes (the measured qubits' marginal when few are measured), else ``count/shots``
  of the job's shots drawn once (:mod:`qharbor.engine.measure`); programs with
  mid-circuit measurement, reset or feed-forward are sampled by shot branching
  (:mod:`qharbor.engine.dynamic`) and store ``count/shots``, as do emulated QPUs and
  noisy simulators. The job's ``output.probabilities`` says which.
* ``registers`` (:data:`LAYOUT`): ``{"registers": [[name, size], ...], "clbits": n,
  "sampled": bool}``, what is needed to split a record into registers.

Under a noise model (a noisy simulator, an emulated QPU) a *static* program — nothing
dynamic left once its final measurements are deferred — runs as one circuit through the
same noisy paths as ``ionq.circuit.v1`` (trajectories; on a QPU its systematics, readout
and debiasing), its histograms relabelled from basis states to records (:class:`Static`).
A dynamic program there runs by shot branching with the model's depolarizing channel
after every gate (:mod:`qharbor.engine.dynamic`); an emulated QPU's systematic errors,
readout errors and debiasing are not applied to it.

Every format is derived from those two with the job's seed (the same functions as
:mod:`.results`), so reads are reproducible and nothing per-shot is stored: v1
formats key the whole record (decimal, like ``ionq.circuit.v1`` keys basis
states); v2 formats report each named register (bit strings with bit 0 rightmost;
per-shot arrays list bit 0 first) plus ``output_all``, the whole record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from ..engine import Circuit, Limits, dynamic
from ..engine.noise import NoiseModel
from . import qasm3, results

LAYOUT = "registers"
#: A stream of the job's seed used only for shot branching (distinct from result sampling).
_BRANCH_STREAM = 0x0A53


def run(compiled: qasm3.Qasm3Program, *, shots: int, seed: int, limits: Limits,
        noise: NoiseModel | None = None) -> tuple[dict[str, str], dict[str, Any]]:
    """Simulate a static program ideally, or a dynamic one by shot branching (under
    ``noise`` if given); the documents to store and the job's ``output``."""
    rng = np.random.default_rng([seed, _BRANCH_STREAM])
    distribution, exact = dynamic.outcomes(compiled.program, shots, rng, limits, noise)
    probabilities = {str(k): p for k, p in distribution.items()}
    output = {"probabilities": "exact" if exact else "sampled"}
    return {"probabilities": orjson.dumps(probabilities).decode(), LAYOUT: _layout(compiled, not exact)}, output


def _layout(compiled: qasm3.Qasm3Program, sampled: bool) -> str:
    return orjson.dumps({"registers": compiled.registers, "clbits": compiled.program.clbits,
                         "sampled": sampled}).decode()


@dataclass(frozen=True)
class Static:
    """A static program as one circuit, for the noisy paths: its measurements read the
    circuit's final state, so a histogram of basis states maps onto one of records."""

    circuit: Circuit
    deferred: list[dynamic.Measure]
    clbits: int
    layout: str  # the LAYOUT document to store with the results

    def recorded(self, histogram: dict[str, int]) -> dict[str, int]:
        """A basis-state histogram (decimal keys, as the engine returns) as a record histogram."""
        if not histogram:
            return {}
        keys = dynamic.records(np.array([int(k) for k in histogram], dtype=np.int64), self.deferred, self.clbits)
        out: dict[int, int] = {}
        for record, count in zip(keys.tolist(), histogram.values()):
            out[int(record)] = out.get(int(record), 0) + count
        return {str(r): out[r] for r in sorted(out)}


def static(compiled: qasm3.Qasm3Program) -> Static | None:
    """The program as a :class:`Static`, or None when it is dynamic."""
    found = dynamic.static_part(compiled.program)
    if found is None:
        return None
    circuit, deferred = found
    return Static(circuit, deferred, compiled.program.clbits, _layout(compiled, True))


def _split(record: int, layout: dict[str, Any]) -> dict[str, tuple[int, int]]:
    """``{register: (value, size)}`` for one record, user registers first, then ``output_all``."""
    out: dict[str, tuple[int, int]] = {}
    offset = 0
    for name, size in layout["registers"]:
        out[name] = ((record >> offset) & ((1 << size) - 1), size)
        offset += size
    out.setdefault(qasm3.ALL, (record, layout["clbits"]))
    return out


def _bits(value: int, size: int) -> str:
    return format(value, f"0{size}b") if size else ""


def _per_register(weights: dict[str, Any], layout: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Marginals of a record-keyed map, per register (bit strings, bit 0 rightmost)."""
    out: dict[str, dict[str, Any]] = {}
    for key, w in weights.items():
        for name, (value, size) in _split(int(key), layout).items():
            reg = out.setdefault(name, {})
            bits = _bits(value, size)
            reg[bits] = reg.get(bits, 0) + w
    return out


def render(fmt: str, probabilities: dict[str, float], layout: dict[str, Any], *, shots: int, seed: int,
           sampled: bool) -> Any:
    """One qasm3 job's result in ``fmt`` (any of :data:`results.CIRCUIT_FORMATS`)."""
    if fmt == results.PROBABILITIES_V1:
        return probabilities
    if fmt == results.PROBABILITIES_V2:
        return {"probabilities": {"registers": _per_register(probabilities, layout)}}
    if sampled or layout.get("sampled"):
        histogram = {k: round(p * shots) for k, p in probabilities.items() if round(p * shots)}
    else:
        histogram = results.counts(probabilities, shots, seed, 0)
    if fmt == results.HISTOGRAM_V1:
        return histogram
    if fmt == results.HISTOGRAM_V2:
        return {"histogram": {"registers": _per_register(histogram, layout)}}
    outcomes = results.shots_of(histogram, seed, 0)
    if fmt == results.SHOTS_V1:
        return outcomes
    if fmt == results.SHOTS_V2:
        arrays: dict[str, dict[str, list[int]]] = {}
        for key in histogram:
            arrays[key] = {name: [(value >> i) & 1 for i in range(size)]
                           for name, (value, size) in _split(int(key), layout).items()}
        return {"shots": [{"registers": arrays[o]} for o in outcomes]}
    raise KeyError(fmt)
