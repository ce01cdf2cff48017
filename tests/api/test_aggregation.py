"""``aggregation=average|voting`` on result reads (the successor of ``sharpen`` that qiskit-ionq's
next release sends): voting is the plurality vote over a debiased run's variants, average the
stored mean; other values, or a ``sharpen`` that contradicts it, are 400s naming them."""

from __future__ import annotations

import httpx
from support import wait_for


def test_aggregation_reads_like_sharpen(api: httpx.Client) -> None:
    body = {"type": "ionq.circuit.v1", "backend": "qpu.aria-1", "shots": 1000,
            "input": {"gateset": "qis", "qubits": 3,
                      "circuit": [{"gate": "x", "targets": [0, 2]}, {"gate": "cnot", "control": 0, "target": 1}]}}
    job = wait_for(api, api.post("/jobs", json=body).json()["id"])
    assert job["status"] == "completed" and job["output"]["error_mitigation"]["debiasing"]["variants"]
    url = f"/jobs/{job['id']}/results/probabilities"
    averaged = api.get(url).json()
    assert 0.9 < averaged["7"] < 1  # the variants' mean keeps some readout error
    voted = api.get(url, params={"sharpen": "true"}).json()
    assert voted == {"7": 1.0}
    assert api.get(url, params={"aggregation": "voting"}).json() == voted
    assert api.get(url, params={"aggregation": "average"}).json() == averaged
    assert api.get(url, params={"aggregation": "voting", "sharpen": "true"}).json() == voted
    histogram = api.get(f"/jobs/{job['id']}/results/histogram", params={"aggregation": "voting"})
    assert histogram.status_code == 200 and set(histogram.json()) == {"7"}

    dnl = api.get(url, params={"aggregation": "dnl"})
    assert dnl.status_code == 400
    assert dnl.json()["validation"] == {"keys": ["aggregation"], "source": "query"}
    assert "average, voting" in dnl.json()["message"]
    clash = api.get(url, params={"aggregation": "average", "sharpen": "true"})
    assert clash.status_code == 400 and clash.json()["validation"]["keys"] == ["sharpen", "aggregation"]
