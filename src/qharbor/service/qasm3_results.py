"""Running ``ionq.qasm3.v1`` jobs and rendering their results per classical register.

A finished qasm3 job stores two documents:

* ``probabilities``: ``{"<record>": p}`` over the *classical record* (every declared
  bit, registers concatenated in declaration order, record bit 0 = bit 0 of the
  first register; see :mod:`.qasm3`). For static programs on the ideal simulator
  the values are exact; programs with mid-circuit measurement, reset or
  feed-forward are sampled by shot branching (:mod:`qharbor.engine.dynamic`) and
  store ``count/shots``, as do emulated QPUs and noisy simulators.
* ``registers`` (:data:`LAYOUT`): ``{"registers": [[name, size], ...], "clbits": n,
  "sampled": bool}``, what is needed to split a record into registers.

Every format is derived from those two with the job's seed (the same functions as
:mod:`.results`), so reads are reproducible and nothing per-shot is stored: v1
formats key the whole record (decimal, like ``ionq.circuit.v1`` keys basis
states); v2 formats report each named register (bit strings with bit 0 rightmost;
per-shot arrays list bit 0 first) plus ``output_all``, the whole record.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson

from ..engine import dynamic
from . import qasm3, results

LAYOUT = "registers"
#: A stream of the job's seed used only for shot branching (distinct from result sampling).
_BRANCH_STREAM = 0x0A53


def run(program_text: str, *, shots: int, seed: int, sampled: bool, time_limit_s: float | None,
        max_entries: int) -> dict[str, str]:
    """Simulate a stored qasm3 program; returns the documents to store for the job."""
    compiled = qasm3.decode(program_text)
    rng = np.random.default_rng([seed, _BRANCH_STREAM])
    distribution, exact = dynamic.outcomes(
        compiled.program, shots, rng, time_limit_s=time_limit_s, max_entries=max_entries)
    probabilities = {str(k): p for k, p in distribution.items()}
    if exact and sampled:
        histogram = results.counts(probabilities, shots, seed, 0)
        probabilities = results.sampled_probabilities(histogram, shots)
    layout = {"registers": compiled.registers, "clbits": compiled.program.clbits, "sampled": not exact}
    return {"probabilities": orjson.dumps(probabilities).decode(), LAYOUT: orjson.dumps(layout).decode()}


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
