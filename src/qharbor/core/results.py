"""What a job's result looks like: the documents a finished circuit stores, and every
format and artifact derived from them. One answer, for every job type and both API versions.

A finished circuit stores its probability map: exact for the ideal simulator while it has
at most ``Settings.max_exact_outcomes`` outcomes, otherwise ``count/shots`` of the job's
shots drawn once at completion, as for noisy simulators, emulated QPUs and programs with
mid-circuit measurement (clients that compute ``round(p * shots)`` get whole counts); the
job's ``output.probabilities`` says which (:func:`is_sampled`). Maps are keyed by the
decimal value of the classical record: a JSON circuit's record is its qubits (qubit 0 the
least significant bit); an OpenQASM 3 program's is every declared bit, registers
concatenated in declaration order, stored beside the map as its :class:`Layout` document.
A debiased run on an emulated QPU also stores its variants' histograms (:data:`DEBIASING`),
which ``sharpen`` votes over (:func:`sharpened`).

Histograms and per-shot outcomes are read off a sampled map, or drawn from an exact one
with the job's recorded seed, so every read returns the same numbers and nothing larger
than the map is stored. Formats are IonQ's (``ionq.result.*``): v1 keys the whole record
in decimal; v2 reports each register (bit strings with bit 0 rightmost; per-shot arrays
list bit 0 first), always including ``output_all``, the whole record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from ..engine import debias

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
_PARENT_TYPE = "ionq.multi-circuit.v1"


def offered(job_type: str) -> Mapping[str, str | None]:
    """The formats a finished job of ``job_type`` lists as its artifacts (each with the legacy
    ``results`` key it is also listed under, if any)."""
    return PARENT_FORMATS if job_type == _PARENT_TYPE else CIRCUIT_FORMATS


def readable(job_type: str, fmt: str) -> bool:
    """Whether a job of ``job_type`` can be read in ``fmt``: what it offers, and for a
    multi-circuit parent also any circuit format (each child's, nested by child id)."""
    return fmt in offered(job_type) or (job_type == _PARENT_TYPE and fmt in CIRCUIT_FORMATS)

#: The stored documents of a finished circuit, by kind.
PROBABILITIES = "probabilities"
#: A debiased run's variants (the job's ``output.error_mitigation``) and their histograms.
DEBIASING = "debiasing"
#: An OpenQASM 3 program's :class:`Layout`.
LAYOUT = "registers"
#: The register of the whole record (every qubit of a JSON circuit).
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


#: The result format CUDA-Q asks v0.3 for (``GET <results_url>?format=qir.quantum-log.v0``).
QIR_LOG = "qir.quantum-log.v0"


def truncation_safe(histogram: Mapping[str, Any]) -> dict[str, Any]:
    """A histogram (or a multi-circuit job's histograms by child) as ``count/shots``, each value
    the smallest float ``p`` with ``int(p * shots) == count``: CUDA-Q rebuilds counts by
    truncation, which turns ``0.5`` computed as ``0.49999999999999994`` into 49 of 100."""
    if any(isinstance(v, Mapping) for v in histogram.values()):
        return {k: truncation_safe(v) for k, v in histogram.items()}
    shots = sum(histogram.values())
    out: dict[str, Any] = {}
    for key, count in histogram.items():
        p = count / shots
        while int(p * shots) < count:
            p = float(np.nextafter(p, 1.0))
        out[key] = p
    return out


def is_sampled(output: str | None) -> bool:
    """Whether a finished job's stored probabilities are ``count/shots`` rather than exact:
    its ``output`` says so (noisy and emulated-QPU jobs always, ideal ones beyond
    ``Settings.max_exact_outcomes`` outcomes; see ``core/runs.py``)."""
    return output is not None and orjson.loads(output).get("probabilities") == "sampled"


def sharpened(document: str, debiasing: str | None) -> str:
    """A stored (averaged) map, or with sharpening its plurality vote over the variants."""
    if debiasing is None:  # not debiased: sharpening has nothing to vote over
        return document
    return orjson.dumps(debias.sharpen(orjson.loads(debiasing)["histograms"])).decode()


@dataclass(frozen=True)
class Layout:
    """How a record splits into registers: the named ones in order (``(name, size)``),
    then :data:`REGISTER`, the whole record of ``clbits`` bits. ``sampled``: the stored map
    is ``count/shots`` (as recorded by OpenQASM 3 runs; :func:`is_sampled` otherwise)."""

    registers: tuple[tuple[str, int], ...]
    clbits: int
    sampled: bool = False

    @classmethod
    def of_circuit(cls, qubits: int) -> Layout:
        return cls((), qubits)

    @classmethod
    def loads(cls, document: str) -> Layout:
        data = orjson.loads(document)
        return cls(tuple((name, size) for name, size in data["registers"]), data["clbits"], data["sampled"])

    def dumps(self) -> str:
        return orjson.dumps({"registers": self.registers, "clbits": self.clbits, "sampled": self.sampled}).decode()

    def split(self, record: int) -> dict[str, tuple[int, int]]:
        """``{register: (value, size)}`` for one record, named registers first."""
        out: dict[str, tuple[int, int]] = {}
        offset = 0
        for name, size in self.registers:
            out[name] = ((record >> offset) & ((1 << size) - 1), size)
            offset += size
        out.setdefault(REGISTER, (record, self.clbits))
        return out

    def per_register(self, weights: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        """Marginals of a record-keyed map, per register (bit strings, bit 0 rightmost)."""
        out: dict[str, dict[str, Any]] = {}
        for key, w in weights.items():
            for name, (value, size) in self.split(int(key)).items():
                reg = out.setdefault(name, {})
                bits = format(value, f"0{size}b") if size else ""
                reg[bits] = reg.get(bits, 0) + w
        return out


def render(fmt: str, probabilities: dict[str, float], layout: Layout, *, shots: int, seed: int,
           sampled: bool, position: int = 0) -> Any:
    """One circuit's result in format ``fmt`` (any of :data:`CIRCUIT_FORMATS`).

    ``sampled``: the stored map is already ``count/shots``, so the histogram is read off
    it rather than drawn again (with the job's seed and the circuit's ``position``)."""
    if fmt == PROBABILITIES_V1:
        return probabilities
    if fmt == PROBABILITIES_V2:
        return {"probabilities": {"registers": layout.per_register(probabilities)}}
    if sampled or layout.sampled:
        histogram = {k: round(p * shots) for k, p in probabilities.items() if round(p * shots)}
    else:
        histogram = counts(probabilities, shots, seed, position)
    if fmt == HISTOGRAM_V1:
        return histogram
    if fmt == HISTOGRAM_V2:
        return {"histogram": {"registers": layout.per_register(histogram)}}
    outcomes = shots_of(histogram, seed, position)
    if fmt == SHOTS_V1:
        return outcomes
    if fmt == SHOTS_V2:
        arrays = {key: {name: [(value >> i) & 1 for i in range(size)]
                        for name, (value, size) in layout.split(int(key)).items()} for key in histogram}
        return {"shots": [{"registers": arrays[o]} for o in outcomes]}
    raise KeyError(fmt)


# -- JSON Schemas of the formats (``GET /schemas/formats/{format}``) ----------------------

_DRAFT = "https://json-schema.org/draft-07/schema"
_NUMBER_MAP = {"type": "object", "additionalProperties": {"type": "number", "minimum": 0}}
_PROBABILITY_MAP = {"type": "object", "additionalProperties": {"type": "number", "minimum": 0, "maximum": 1}}


def _registers(container: str, values: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": [container],
        "properties": {container: {
            "type": "object", "required": ["registers"],
            "properties": {"registers": {"type": "object", "additionalProperties": values}},
        }},
    }


def schema_document(fmt: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    """A format's JSON Schema document, as ``GET /schemas/formats/{format}`` serves it."""
    return {"$schema": _DRAFT, "$id": fmt, "description": description, **schema}


#: What each result format's artifact contains.
SCHEMAS: dict[str, dict[str, Any]] = {
    PROBABILITIES_V1: schema_document(
        PROBABILITIES_V1,
        "Probability of each outcome, keyed by the decimal value of the register (qubit 0 = least "
        "significant bit); values sum to 1.", _PROBABILITY_MAP),
    PROBABILITIES_V2: schema_document(
        PROBABILITIES_V2, "Per-register probabilities keyed by zero-padded bit strings (qubit 0 rightmost).",
        _registers("probabilities", _PROBABILITY_MAP)),
    HISTOGRAM_V1: schema_document(
        HISTOGRAM_V1, "Shot counts keyed by decimal outcome; counts sum to the job's shots.", _NUMBER_MAP),
    HISTOGRAM_V2: schema_document(
        HISTOGRAM_V2, "Per-register shot counts keyed by zero-padded bit strings.",
        _registers("histogram", _NUMBER_MAP)),
    SHOTS_V1: schema_document(
        SHOTS_V1, "One decimal outcome string per shot, in shot order.",
        {"type": "array", "items": {"type": "string", "pattern": "^[0-9]+$"}}),
    SHOTS_V2: schema_document(
        SHOTS_V2, "Per-shot register bit arrays (bit 0 first), in shot order.",
        {"type": "object", "required": ["shots"], "properties": {"shots": {"type": "array", "items": {
            "type": "object", "required": ["registers"],
            "properties": {"registers": {"type": "object", "additionalProperties": {
                "type": "array", "items": {"enum": [0, 1]}}}}}}}}),
    AGGREGATE_V1: schema_document(
        AGGREGATE_V1, "Each child circuit's probability map, keyed by child job id, in submission order.",
        {"type": "object", "additionalProperties": _PROBABILITY_MAP}),
}
