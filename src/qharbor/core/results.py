"""Every result format a job offers, derived from its stored probabilities.

A finished circuit stores one document: its probability map — exact for the ideal
simulator while it has at most ``Settings.max_exact_outcomes`` outcomes, otherwise
``count/shots`` of the job's shots drawn once at completion, as for noisy simulators and
emulated QPUs (clients that compute ``round(p * shots)`` get whole counts); the job's
``output.probabilities`` says which. Histograms and per-shot outcomes are read off a
sampled map, or drawn from an exact one with the job's recorded seed, so every read
returns the same numbers and nothing larger than the map is stored. Formats are IonQ's
(``ionq.result.*``); bit strings put qubit 0 rightmost, and per-shot register
arrays list bit 0 first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

PROBABILITIES_V1 = "ionq.result.probabilities.json.v1"
PROBABILITIES_V2 = "ionq.result.probabilities.json.v2"
HISTOGRAM_V1 = "ionq.result.histogram.json.v1"
HISTOGRAM_V2 = "ionq.result.histogram.json.v2"
SHOTS_V1 = "ionq.result.shots.json.v1"
SHOTS_V2 = "ionq.result.shots.json.v2"
AGGREGATE_V1 = "ionq.result.probabilities-aggregate.json.v1"

#: Formats a single circuit offers, and the legacy ``results`` key each is also listed under.
CIRCUIT_FORMATS = {
    PROBABILITIES_V1: "probabilities",
    PROBABILITIES_V2: None,
    HISTOGRAM_V1: "histogram",
    HISTOGRAM_V2: None,
    SHOTS_V1: "shots",
    SHOTS_V2: None,
}
#: Formats a multi-circuit parent offers (per-circuit maps nested by child id).
PARENT_FORMATS = {PROBABILITIES_V1: "probabilities", AGGREGATE_V1: None}
#: The second document of a debiased run on an emulated QPU: its variants (the job's
#: ``output.error_mitigation``) and their histograms (what ``sharpen=true`` votes over).
DEBIASING = "debiasing"
#: The register every qubit of a JSON circuit belongs to.
REGISTER = "output_all"


def seed_of(job: Mapping[str, Any]) -> int:
    """The seed a stored job's results are drawn with: its ``noise.seed``, else the one drawn at
    submission (rows from before seeds were recorded use 0)."""
    return job["seed"] or 0


def _rng(seed: int, position: int) -> np.random.Generator:
    return np.random.default_rng([seed, position])


def measurement_rng(job: Mapping[str, Any], position: int) -> np.random.Generator:
    """The generator a wide ideal circuit's shots are drawn with at completion (a stream of
    the job's seed apart from the one histograms are drawn with at read time)."""
    return np.random.default_rng([seed_of(job), position, 0x6D656173])


def counts(probabilities: dict[str, float], shots: int, seed: int, position: int = 0) -> dict[str, int]:
    """A seeded histogram that sums to ``shots`` exactly (O(outcomes + shots))."""
    keys = list(probabilities)
    p = np.fromiter(probabilities.values(), dtype=float, count=len(keys))
    drawn = _rng(seed, position).multinomial(shots, p / p.sum())
    return {k: int(c) for k, c in zip(keys, drawn) if c}


def shots_of(histogram: dict[str, int], seed: int, position: int = 0) -> list[str]:
    """The histogram's outcomes as an ordered shot list (a seeded shuffle)."""
    expanded = np.repeat(np.array(list(histogram), dtype=object), list(histogram.values()))
    return [str(x) for x in _rng(seed, position + 1_000_003).permutation(expanded)]


def sampled_probabilities(histogram: dict[str, int], shots: int) -> dict[str, float]:
    return {k: c / shots for k, c in histogram.items()}


def _bits(key: str, width: int) -> str:
    return format(int(key), f"0{width}b")


def render(
    fmt: str, probabilities: dict[str, float], *, shots: int, seed: int, qubits: int, sampled: bool,
    position: int = 0,
) -> Any:
    """One circuit's result in format ``fmt``.

    ``sampled`` says the stored map is already ``count/shots`` (then the histogram
    is read off it rather than drawn again).
    """
    if fmt == PROBABILITIES_V1:
        return probabilities
    if fmt == PROBABILITIES_V2:
        return {"probabilities": {"registers": {REGISTER: {_bits(k, qubits): p for k, p in probabilities.items()}}}}
    histogram = (
        {k: round(p * shots) for k, p in probabilities.items() if round(p * shots)}
        if sampled
        else counts(probabilities, shots, seed, position)
    )
    if fmt == HISTOGRAM_V1:
        return histogram
    if fmt == HISTOGRAM_V2:
        return {"histogram": {"registers": {REGISTER: {_bits(k, qubits): c for k, c in histogram.items()}}}}
    outcomes = shots_of(histogram, seed, position)
    if fmt == SHOTS_V1:
        return outcomes
    if fmt == SHOTS_V2:
        return {"shots": [{"registers": {REGISTER: [(int(o) >> q) & 1 for q in range(qubits)]}} for o in outcomes]}
    raise KeyError(fmt)
