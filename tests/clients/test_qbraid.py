"""qBraid 0.13's IonQ runtime provider, unmodified, in a virtualenv of its own without
qiskit-ionq (``legacy_clients``), redirected with ``provider.session.base_url``: device
listing (with the QPU's characterization in its profile), single and multi-circuit jobs
from OpenQASM 2 and 3 strings, a noise model and an emulated QPU, counts checked.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from legacy_clients import run_flow, venv_python
from support import Server

pytestmark = pytest.mark.timeout(1500)  # building the venv the first time (pip) may take minutes
FLOWS = Path(__file__).parent / "v04"


@pytest.fixture(scope="module")
def qbraid_python() -> Path:
    return venv_python("qbraid-0.13")


def qbraid(python: Path, flow: str, server: Server, key: str, cwd: Path) -> dict:
    return run_flow(python, "qbraid_flows.py", flow, server.url + "/v0.4", key, cwd, timeout=300, scripts=FLOWS)


def histogram(api: httpx.Client, job_id: str, qubits: int) -> dict[str, int]:
    """The job's v0.4 histogram keyed as qBraid keys counts (qubit 0 rightmost)."""
    return {format(int(k), f"0{qubits}b"): c for k, c in api.get(f"/jobs/{job_id}/results/histogram").json().items()}


def test_devices(qbraid_python: Path, qharbor: Server, key: str, tmp_path: Path) -> None:
    out = qbraid(qbraid_python, "devices", qharbor, key, tmp_path)
    listed = httpx.get(qharbor.url + "/v0.4/backends").json()
    assert out["devices"] == {b["backend"]: {"qubits": b["qubits"], "status": "RETIRED" if b["status"] == "retired"
                                             else "ONLINE"} for b in listed}
    aria = next(b for b in listed if b["backend"] == "qpu.aria-1")
    assert out["characterization"]["id"] == aria["characterization_id"]
    assert out["characterization"]["backend"] == "qpu.aria-1"


def test_single_and_multi_circuit_jobs(qbraid_python: Path, qharbor: Server, key: str, tmp_path: Path) -> None:
    out = qbraid(qbraid_python, "simulator", qharbor, key, tmp_path)
    bell, ghz, flip = (job["counts"] for job in out["single"])
    # The ideal simulator's exact probabilities, times the shots: exact counts.
    assert bell == {"00": 50, "11": 50} and ghz == {"000": 50, "111": 50} and flip == {"011": 100}
    # One multi-circuit job; qBraid keys every circuit at the job's width (3).
    assert out["multi"]["counts"] == [{"000": 100, "011": 100}, {"011": 200}]
    with qharbor.client(key) as api:
        job = api.get(f"/jobs/{out['multi']['id']}").json()
        assert job["type"] == "ionq.multi-circuit.v1" and len(job["child_job_ids"]) == 2


@pytest.mark.parametrize("flow,backend", [("noisy", "simulator"), ("qpu", "qpu.aria-1")])
def test_noise_model_and_emulated_qpu(qbraid_python: Path, qharbor: Server, key: str, tmp_path: Path,
                                      flow: str, backend: str) -> None:
    out = qbraid(qbraid_python, flow, qharbor, key, tmp_path)
    counts = out["counts"]
    assert sum(counts.values()) == 1000 and counts.get("000", 0) + counts.get("111", 0) >= 850
    assert len(counts) > 2  # the machine's errors show
    with qharbor.client(key) as api:
        job = api.get(f"/jobs/{out['id']}").json()
        assert job["backend"] == backend and job["output"]["probabilities"] == "sampled"
        if flow == "noisy":
            assert job["noise"] == {"model": "aria-1", "seed": 11}
        assert histogram(api, out["id"], 3) == counts
