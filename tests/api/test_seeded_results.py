"""Seeded results do not change when the code is reorganised: every result path of a set of
jobs covering each run path (ideal exact and sampled, noisy, an emulated QPU debiased and
sharpened, OpenQASM 3 static-under-noise and dynamic, multi-circuit) is compared with a
snapshot written by an earlier revision of qharbor through the same HTTP API.

The snapshot is data from a real run, not numbers written by hand; regenerate it (only
when a change of results is intended, and say so in the commit) with a server of the
revision to compare against::

    python tests/api/test_seeded_results.py http://127.0.0.1:8000 <key>
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path
from typing import Any

import httpx

SNAPSHOT = Path(__file__).parent / "data" / "seeded_results.json"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
QASM = 'OPENQASM 3.0;\ninclude "stdgates.inc";\n'


def _circuit(qubits: int, gates: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"type": "ionq.circuit.v1", "backend": "simulator", "shots": 200, "noise": {"model": "ideal", "seed": 5},
            "input": {"gateset": "qis", "qubits": qubits, "circuit": gates}, **extra}


def _qasm(source: str, **extra: Any) -> dict[str, Any]:
    return {"type": "ionq.qasm3.v1", "backend": "simulator", "shots": 200, "noise": {"model": "ideal", "seed": 9},
            "input": {"data": QASM + source}, **extra}


_ROTATED = [{"gate": "h", "target": 0}, {"gate": "ry", "target": 1, "rotation": 0.7},
            {"gate": "cnot", "control": 0, "target": 2}, {"gate": "rz", "target": 2, "rotation": 1.1},
            {"gate": "h", "target": 2}]
_GHZ5 = [{"gate": "h", "target": 0}] + [{"gate": "cnot", "control": q, "target": q + 1} for q in range(4)]
#: 13 qubits in superposition with phases: 8,192 outcomes, more than the exact map keeps.
_WIDE = [{"gate": "h", "target": q} for q in range(13)] + [{"gate": "t", "target": q} for q in range(13)]

JOBS: dict[str, dict[str, Any]] = {
    "ideal-exact": _circuit(3, _ROTATED),
    "ideal-sampled": _circuit(13, _WIDE),
    "noisy-simulator": _circuit(5, _GHZ5, noise={"model": "aria-1", "seed": 7}),
    "qpu-debiased": {**_circuit(5, _GHZ5, backend="qpu.aria-1", noise={"seed": 11}, shots=500),
                     "settings": {"error_mitigation": {"debiasing": True}}},
    "qpu-plain": {**_circuit(3, _ROTATED, backend="qpu.aria-1", noise={"seed": 13}),
                  "settings": {"error_mitigation": {"debiasing": False}}},
    "qasm3-static-noisy": _qasm("qubit[3] q;\nbit[2] a;\nbit[1] b;\nh q[0];\ncx q[0], q[1];\nry(0.4) q[2];\n"
                                "a = measure q[0:1];\nb[0] = measure q[2];\n", noise={"model": "aria-1", "seed": 3}),
    "qasm3-dynamic": _qasm("qubit[2] q;\nbit[2] c;\nh q[0];\nc[0] = measure q[0];\nif (c[0]) x q[1];\n"
                           "ry(0.3) q[1];\nc[1] = measure q[1];\n"),
    "multi-circuit": {"type": "ionq.multi-circuit.v1", "backend": "simulator", "shots": 200,
                      "noise": {"model": "ideal", "seed": 21},
                      "input": {"gateset": "qis", "qubits": 5, "circuits": [
                          {"name": "a", "circuit": _ROTATED}, {"name": "b", "circuit": _GHZ5}]}},
}


def _wait(api: httpx.Client, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while True:
        job = api.get(f"/jobs/{job_id}").json()
        if job["status"] in ("completed", "failed", "canceled") or time.monotonic() > deadline:
            return job
        time.sleep(0.05)


def observe(api: httpx.Client) -> dict[str, Any]:
    """Every result path of every job in :data:`JOBS`, read through ``api`` (a v0.4 client)."""
    seen: dict[str, Any] = {}
    for name, body in JOBS.items():
        response = api.post("/jobs", json=body)
        assert response.status_code == 201, f"{name}: {response.text}"
        job = _wait(api, response.json()["id"])
        assert job["status"] == "completed", f"{name}: {job}"
        out: dict[str, Any] = {"output": job.get("output"), "probabilities": api.get(
            f"/jobs/{job['id']}/results/probabilities").json()}
        if job["backend"].startswith("qpu."):
            out["sharpened"] = api.get(f"/jobs/{job['id']}/results/probabilities",
                                       params={"sharpen": "true"}).json()
        for fmt, descriptor in sorted((job.get("results") or {}).items()):
            out[fmt] = api.get(f"/jobs/{job['id']}/artifacts/{descriptor['id']}").json()
        seen[name] = _scrub(out)
    return seen


def _scrub(value: Any) -> Any:
    """The snapshot without what differs per run by design: variant ids, and child job ids
    (a multi-circuit job's maps keyed by them become a list, in submission order)."""
    if isinstance(value, dict):
        if value and all(_UUID.fullmatch(k) for k in value):
            return [_scrub(v) for v in value.values()]
        return {k: _scrub(v) for k, v in value.items() if k != "variant_id"}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def _same(seen: Any, expected: Any, where: str = "") -> list[str]:
    """Where ``seen`` differs from ``expected``: exactly for everything but floats, which may
    differ in their last digits (1e-12 relative: a change in the order of floating-point
    operations, e.g. gates fused differently); a count, an outcome or a key may not."""
    if isinstance(expected, float) and isinstance(seen, float):
        return [] if abs(seen - expected) <= 1e-12 * max(abs(expected), 1e-300) else [f"{where}: {seen} != {expected}"]
    if isinstance(expected, dict) and isinstance(seen, dict):
        if set(seen) != set(expected):
            return [f"{where}: keys {sorted(seen)} != {sorted(expected)}"]
        return [d for k in expected for d in _same(seen[k], expected[k], f"{where}/{k}")]
    if isinstance(expected, list) and isinstance(seen, list) and len(seen) == len(expected):
        return [d for i, (a, b) in enumerate(zip(seen, expected)) for d in _same(a, b, f"{where}[{i}]")]
    return [] if seen == expected and type(seen) is type(expected) else [f"{where}: {seen!r} != {expected!r}"]


def test_seeded_results_match_the_snapshot(api: httpx.Client) -> None:
    expected = json.loads(SNAPSHOT.read_text())
    seen = json.loads(json.dumps(observe(api)))  # the same JSON round trip as the snapshot's
    assert set(seen) == set(expected)
    for name in expected:
        assert not (differences := _same(seen[name], expected[name], name)), differences[:5]


if __name__ == "__main__":
    url, key = sys.argv[1], sys.argv[2]
    with httpx.Client(base_url=url + "/v0.4", headers={"Authorization": f"apiKey {key}"}, timeout=60) as client:
        SNAPSHOT.write_text(json.dumps(observe(client), indent=1, sort_keys=True) + "\n")
    print(f"wrote {SNAPSHOT}")
