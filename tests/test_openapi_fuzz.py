"""IonQ's published spec as an oracle: schemathesis generates requests from it against a live
server; no response may be a 5xx, and every documented response must match the spec's schema.

The spec is used as published except for deviations the real clients force (clients.md §8):
the extra keys named in :data:`CLIENT_FORCED_KEYS` where the spec says ``additionalProperties:
false`` (any other extra key fails), non-string metadata values echoed verbatim, fractional
seconds in characterization timings, and nested per-circuit maps from the results path of
multi-circuit jobs.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from spec import SPEC
from support import Server

#: Keys the real clients need that the spec's ``additionalProperties: false`` forbids, by schema
#: (clients.md §8). Only these are allowed: any other extra key still fails the test.
CLIENT_FORCED_KEYS: dict[str, list[str]] = {
    "ArtifactDescriptor": ["url"],  # qiskit-ionq and cirq-ionq follow a result's url
    "Failure": ["error"],  # older clients read failure.error
    # qiskit-ionq's estimate reads its own older shape beside the spec's
    "GetJobEstimateResponse": ["input_values", "estimated_cost", "cost_unit", "rate_information"],
    "Session": ["state", "usage_time"],
    "SessionsResponse": ["next"],  # every list pages with next
}


def _client_deviations(spec: dict[str, Any]) -> dict[str, Any]:
    spec = copy.deepcopy(spec)
    for name, keys in CLIENT_FORCED_KEYS.items():
        target = spec["components"]["schemas"][name]
        assert target.get("additionalProperties") is False, f"{name} allows extra keys already"
        for key in keys:
            assert key not in target.get("properties", {}), f"{name}.{key} is in the spec now"
            target.setdefault("properties", {})[key] = {}
    schemas = spec["components"]["schemas"]
    schemas["JobMetadata"]["additionalProperties"] = {}
    for prop in schemas["Characterization"]["properties"]["timing"]["properties"].values():
        prop["type"] = "number"
    schemas["GetResultsResponse"]["additionalProperties"] = {
        "anyOf": [{"type": "number"}, {"type": "object", "additionalProperties": {"type": "number"}}]}
    return spec


schema = schemathesis.openapi.from_dict(_client_deviations(SPEC))


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dict[str, list[str]]]]:
    """A server holding finished jobs of each kind and a session, for generated requests to find."""
    srv = Server(["--data-dir", str(tmp_path_factory.mktemp("fuzz"))], workers=1).start()
    with srv.client() as api:
        circuit = {"circuit": [{"gate": "h", "target": 0}]}
        ids = [api.post("/jobs", json=body).json()["id"] for body in (
            {"type": "ionq.circuit.v1", "backend": "simulator", "input": circuit},
            {"type": "ionq.circuit.v1", "backend": "qpu.aria-1", "input": circuit},
            {"type": "ionq.multi-circuit.v1", "backend": "simulator", "input": {"circuits": [circuit, circuit]}},
        )]
        for job_id in ids:
            while api.get(f"/jobs/{job_id}").json()["status"] != "completed":
                pass
        sessions = [api.post("/sessions", json={"backend": "simulator"}).json()["id"]]
    yield srv, {"UUID": ids, "session_id": sessions, "organization_id": ["00000000-0000-0000-0000-000000000000"]}
    srv.stop()


@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
def test_spec_conformance(case: schemathesis.Case, live: tuple[Server, dict[str, list[str]]]) -> None:
    server, known = live
    # Half the generated ids are swapped for real ones, so the success paths get checked too.
    for name, values in known.items():
        generated = (case.path_parameters or {}).get(name)
        if isinstance(generated, str) and generated[:1] in "01234567":
            case.path_parameters[name] = values[int(generated[0]) % len(values)]
    case.call_and_validate(
        base_url=server.url + "/v0.4",
        headers={"Authorization": f"apiKey {server.key}"},
        checks=[not_a_server_error, response_schema_conformance],
    )


@pytest.mark.parametrize(("method", "path", "parameter", "query"), [
    ("GET", "/jobs/{UUID}", "UUID", None), ("GET", "/jobs", None, None),
    ("GET", "/sessions/{session_id}", "session_id", None),
    ("GET", "/jobs/estimate", None,
     {"backend": "qpu.aria-1", "shots": "100", "1q_gates": "5", "2q_gates": "2"}),
    ("GET", "/organizations/{organization_id}/usage", "organization_id",
     {"start_date": "2026-01-01", "end_date": "2036-01-01", "group_by": "project", "modality": "monthly"}),
])
def test_live_objects_conform(live: tuple[Server, dict[str, list[str]]], method: str, path: str,
                              parameter: str | None, query: dict[str, str] | None) -> None:
    """Every finished job of each kind, a session, a list and an estimate, read back and checked
    against the spec (generated requests rarely hit real ids or valid queries)."""
    server, known = live
    for value in known[parameter] if parameter else [None]:
        parameters = {parameter: value} if parameter else None
        case = schema[path][method].Case(path_parameters=parameters, query=query)
        case.call_and_validate(
            base_url=server.url + "/v0.4",
            headers={"Authorization": f"apiKey {server.key}"},
            checks=[not_a_server_error, response_schema_conformance],
        )
