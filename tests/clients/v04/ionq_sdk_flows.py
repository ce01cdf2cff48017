"""IonQ's ``ionq`` SDK 0.0.0a15 (an alpha; pydantic v1), unmodified, in its own virtualenv.

Usage: python ionq_sdk_flows.py FLOW BASE_URL KEY; prints one JSON line for the test. Only
``Client(api_key=, base_url=)`` is configured. Each call's outcome is reported, an exception
as ``"ERROR <type>: <message>"``, so the test can pin where the alpha itself fails.
"""

from __future__ import annotations

import json
import sys
import warnings
from collections.abc import Callable
from typing import Any

warnings.simplefilter("ignore")

from ionq import Backend, Client
from ionq.jobs import Circuit

BELL = {"circuit": [{"gate": "h", "target": 0}, {"gate": "cnot", "control": 0, "target": 1}]}
FLIP = {"circuit": [{"gate": "x", "target": 1}]}


def attempt(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 (the test reads which call failed, and how)
        return f"ERROR {type(exc).__name__}: {str(exc)[:400]}"


def main(flow: str, url: str, key: str) -> dict:
    client = Client(api_key=key, base_url=url)

    def run(backend: str, circuits: list[dict], shots: int, noise: str | None = None) -> dict:
        job = Backend(backend, client).run(Circuit(circuits, qubits=2), shots=shots, noise=noise)
        return {"id": job.id, "results": [{"counts": r.counts, "probabilities": r.probabilities}
                                          for r in job.results()]}

    if flow == "jobs":
        out = {
            "single": attempt(lambda: run("simulator", [BELL], 100)),
            "multi": attempt(lambda: run("simulator", [BELL, FLIP], 100)),
            "noisy": attempt(lambda: run("simulator", [BELL], 1000, "aria-1")),
            "qpu": attempt(lambda: run("qpu.aria-1", [BELL], 100)),
        }
        out["listed"] = attempt(lambda: [j.id for j in client.jobs.get_jobs()])
        single = out["single"]["id"] if isinstance(out["single"], dict) else None
        out["deleted"] = attempt(lambda: client.jobs.delete_job(single, force=True).status.value)
        return out
    if flow == "backends":
        return {"backends": attempt(lambda: [b.backend for b in client.backends.get_backends()])}
    raise SystemExit(f"unknown flow {flow}")


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:4]), default=str))
