"""JSON Schema documents for ``GET /schemas/formats/{format}``: what each artifact contains."""

from __future__ import annotations

from typing import Any

from ..core import results

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


def _doc(fmt: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"$schema": _DRAFT, "$id": fmt, "description": description, **schema}


SCHEMAS: dict[str, dict[str, Any]] = {
    results.PROBABILITIES_V1: _doc(
        results.PROBABILITIES_V1,
        "Probability of each outcome, keyed by the decimal value of the register (qubit 0 = least "
        "significant bit); values sum to 1.", _PROBABILITY_MAP),
    results.PROBABILITIES_V2: _doc(
        results.PROBABILITIES_V2,
        "Per-register probabilities keyed by zero-padded bit strings (qubit 0 rightmost).",
        _registers("probabilities", _PROBABILITY_MAP)),
    results.HISTOGRAM_V1: _doc(
        results.HISTOGRAM_V1, "Shot counts keyed by decimal outcome; counts sum to the job's shots.",
        _NUMBER_MAP),
    results.HISTOGRAM_V2: _doc(
        results.HISTOGRAM_V2, "Per-register shot counts keyed by zero-padded bit strings.",
        _registers("histogram", _NUMBER_MAP)),
    results.SHOTS_V1: _doc(
        results.SHOTS_V1, "One decimal outcome string per shot, in shot order.",
        {"type": "array", "items": {"type": "string", "pattern": "^[0-9]+$"}}),
    results.SHOTS_V2: _doc(
        results.SHOTS_V2, "Per-shot register bit arrays (bit 0 first), in shot order.",
        {"type": "object", "required": ["shots"], "properties": {"shots": {"type": "array", "items": {
            "type": "object", "required": ["registers"],
            "properties": {"registers": {"type": "object", "additionalProperties": {
                "type": "array", "items": {"enum": [0, 1]}}}}}}}}),
    results.AGGREGATE_V1: _doc(
        results.AGGREGATE_V1,
        "Each child circuit's probability map, keyed by child job id, in submission order.",
        {"type": "object", "additionalProperties": _PROBABILITY_MAP}),
    "ionq.native.v1": _doc(
        "ionq.native.v1", "A circuit in IonQ's native gateset (gpi, gpi2, ms, zz; phases in turns).",
        {"type": "object", "required": ["gateset", "circuit"], "properties": {
            "gateset": {"const": "native"}, "qubits": {"type": "integer", "minimum": 1},
            "circuit": {"type": "array", "items": {"type": "object", "required": ["gate"], "properties": {
                "gate": {"enum": ["gpi", "gpi2", "ms", "zz", "nop"]}}}}}}),
}
