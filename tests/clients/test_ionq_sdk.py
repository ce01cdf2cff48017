"""IonQ's ``ionq`` SDK 0.0.0a15 (alpha, pydantic v1), unmodified, in a virtualenv of its own
(``legacy_clients``), through its job flow: ``Backend(name, Client(api_key, base_url)).run(Circuit)``
on ``simulator`` (single and multi-circuit, with a noise model) and ``qpu.aria-1``, then
``results()``, ``get_jobs`` and ``delete_job``.

Where the alpha's own code is at fault, the failure is pinned here rather than bent around in
the API: it requires ``Backend.last_updated`` to be an integer (IonQ's spec: a date-time
string), and it turns a multi-circuit job's probabilities into counts with ``int(p * shots)``
(so an exact 0.5 computed as 0.4999999999999999 counts 49 of 100).
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
def sdk_python() -> Path:
    return venv_python("ionq-0.0.0a15")


def sdk(python: Path, flow: str, server: Server, key: str, cwd: Path) -> dict:
    return run_flow(python, "ionq_sdk_flows.py", flow, server.url + "/v0.4", key, cwd, timeout=300, scripts=FLOWS)


def test_job_flow(sdk_python: Path, qharbor: Server, key: str, tmp_path: Path) -> None:
    out = sdk(sdk_python, "jobs", qharbor, key, tmp_path)
    with qharbor.client(key) as api:
        for name, shots in (("single", 100), ("noisy", 1000), ("qpu", 100)):
            [result] = out[name]["results"]  # read from the histogram: whole counts
            assert sum(result["counts"].values()) == shots
            if name != "single":  # (the flow deleted that one)
                assert result["counts"] == api.get(f"/jobs/{out[name]['id']}/results/histogram").json()
        assert set(out["single"]["results"][0]["counts"]) <= {"0", "3"}
        assert api.get(f"/jobs/{out['noisy']['id']}").json()["noise"]["model"] == "aria-1"
        assert api.get(f"/jobs/{out['qpu']['id']}").json()["backend"] == "qpu.aria-1"
        bell, flip = out["multi"]["results"]
        served = api.get(f"/jobs/{out['multi']['id']}/results/probabilities").json()
        assert list(served.values()) == [bell["probabilities"], flip["probabilities"]]
        assert bell["probabilities"] == pytest.approx({"0": 0.5, "3": 0.5}) and flip["probabilities"] == {"2": 1.0}
        # The alpha's own truncation (jobs/circuit.py: int(v * shots)), pinned: no rounding.
        assert bell["counts"] == {k: int(p * 100) for k, p in bell["probabilities"].items()}
        assert flip["counts"] == {"2": 100}
        assert {out[n]["id"] for n in ("single", "multi", "noisy", "qpu")} <= set(out["listed"])
        assert out["deleted"] == "deleted"
        assert api.get(f"/jobs/{out['single']['id']}").status_code == 404


def test_backends_fail_in_the_alpha_client(sdk_python: Path, qharbor: Server, key: str, tmp_path: Path) -> None:
    """The alpha's ``Backend`` model types ``last_updated`` as an integer; the spec (and every other
    client) has a date-time string, which is what qharbor serves."""
    out = sdk(sdk_python, "backends", qharbor, key, tmp_path)
    assert out["backends"].startswith("ERROR ValidationError") and "last_updated" in out["backends"]
    for backend in httpx.get(qharbor.url + "/v0.4/backends").json():
        assert isinstance(backend["last_updated"], str) and backend["last_updated"].endswith("Z")
