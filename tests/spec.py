"""Checking responses against IonQ's published OpenAPI schemas.

A small OpenAPI 3.0 subset validator: ``$ref``, ``allOf``/``anyOf``, ``type``,
``nullable``, ``enum``, ``required``, ``properties``, ``items``. Extra keys are
allowed on purpose: the real clients need some the spec does not list.
"""

from __future__ import annotations

import json
from typing import Any

from qharbor.api.docs import IONQ_SPEC

#: IonQ's published v0.4 spec, vendored unchanged as the contract under test.
SPEC = json.loads(IONQ_SPEC.read_text())
#: Result artifact formats and the spec schema each must satisfy.
RESULT_FORMATS = {
    "ionq.result.probabilities.json.v1": "IonqResultProbabilitiesJsonV1",
    "ionq.result.probabilities.json.v2": "IonqResultProbabilitiesJsonV2",
    "ionq.result.histogram.json.v1": "IonqResultHistogramJsonV1",
    "ionq.result.histogram.json.v2": "IonqResultHistogramJsonV2",
    "ionq.result.shots.json.v1": "IonqResultShotsJsonV1",
    "ionq.result.shots.json.v2": "IonqResultShotsJsonV2",
}
_TYPES = {"string": str, "integer": int, "number": (int, float), "boolean": bool, "object": dict, "array": list}


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = SPEC["components"]["schemas"][name]
    return schema


def errors(value: Any, schema: dict[str, Any], path: str = "$") -> list[str]:
    schema = _resolve(schema)
    if value is None:
        nullable = schema.get("nullable") or any(_resolve(s).get("nullable") for s in schema.get("allOf", []))
        return [] if nullable or not schema else [f"{path}: null is not allowed"]
    found: list[str] = []
    for sub in schema.get("allOf", []):
        found += errors(value, sub, path)
    if "anyOf" in schema and all(errors(value, s, path) for s in schema["anyOf"]):
        found.append(f"{path}: matches none of anyOf")
    kind = schema.get("type")
    if kind in _TYPES:
        ok = isinstance(value, _TYPES[kind]) and not (kind in ("integer", "number") and isinstance(value, bool))
        if not ok:
            return [f"{path}: expected {kind}, got {type(value).__name__}"]
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{path}: {value!r} not in {schema['enum']}")
    if isinstance(value, dict):
        for key in schema.get("required", []):
            if key not in value:
                found.append(f"{path}: missing required key {key!r}")
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                found += errors(value[key], sub, f"{path}.{key}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            found += errors(item, schema["items"], f"{path}[{i}]")
    return found


def assert_valid(value: Any, schema_name: str) -> None:
    problems = errors(value, {"$ref": f"#/components/schemas/{schema_name}"})
    assert not problems, problems
