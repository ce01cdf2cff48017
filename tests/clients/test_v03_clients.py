"""The last v0.3 clients, unmodified, in virtualenvs of their own: qiskit-ionq 0.5.13 and
cirq-ionq 1.5.0. Only the base URL and the key are configured. Every job they create is
also checked through v0.4, the other view of the same core.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import product_state
import pytest
from legacy_clients import run_flow, venv_python
from support import Server

# Building a client's venv the first time (pip) may take minutes; later runs reuse it.
pytestmark = pytest.mark.timeout(1500)


@pytest.fixture(scope="session")
def qiskit_v03() -> Path:
    return venv_python("qiskit-ionq-0.5.13")


@pytest.fixture(scope="session")
def cirq_v03() -> Path:
    return venv_python("cirq-ionq-1.5.0")


@pytest.fixture(scope="session")
def idle_qharbor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """No workers: jobs stay queued, so cancel has something to cancel."""
    srv = Server(["--data-dir", str(tmp_path_factory.mktemp("idle-clients"))], workers=0).start()
    yield srv
    srv.stop()


def v04(server: Server, key: str) -> httpx.Client:
    return server.client(key)


# -- qiskit-ionq 0.5.13 ---------------------------------------------------------------

def qiskit(python: Path, flow: str, server: Server, key: str, cwd: Path, **env: str) -> dict:
    return run_flow(python, "qiskit_ionq_flows.py", flow, server.url + "/v0.3", key, cwd, env)


def test_qiskit_bell_counts(qiskit_v03: Path, qharbor: Server, key: str, tmp_path: Path) -> None:
    out = qiskit(qiskit_v03, "bell", qharbor, key, tmp_path)
    assert set(out["counts"]) == {"00", "11"} and sum(out["counts"].values()) == 1000
    assert out["probabilities"] == pytest.approx({"00": 0.5, "11": 0.5})
    assert out["time_taken"] is not None  # from execution_time, which it requires
    with v04(qharbor, key) as api:  # the same job through the other version
        job = api.get(f"/jobs/{out['id']}").json()
        assert job["status"] == "completed" and job["backend"] == "simulator" and job["type"] == "ionq.circuit.v1"
        assert api.get(f"/jobs/{out['id']}/results/probabilities").json().keys() == {"0", "3"}


def test_qiskit_wide_circuit(qiskit_v03: Path, qharbor: Server, key: str, tmp_path: Path) -> None:
    """22 qubits: the server stores the 1000 shots asked for, the old client resamples them."""
    n = 22
    out = qiskit(qiskit_v03, "wide", qharbor, key, tmp_path, QHARBOR_ANGLES=json.dumps(product_state.angles(n)))
    assert sum(out["counts"].values()) == 1000
    assert abs(product_state.z_score(n, {int(k, 2): c for k, c in out["counts"].items()})) < 7
    with v04(qharbor, key) as api:
        assert api.get(f"/jobs/{out['id']}").json()["output"]["probabilities"] == "sampled"


def test_qiskit_measurement_map_is_echoed(qiskit_v03: Path, qharbor: Server, key: str, tmp_path: Path) -> None:
    assert qiskit(qiskit_v03, "bit_order", qharbor, key, tmp_path)["counts"] == {"100": 100}


def test_qiskit_multi_circuit(qiskit_v03: Path, qharbor: Server, key: str, tmp_path: Path) -> None:
    out = qiskit(qiskit_v03, "multi", qharbor, key, tmp_path)
    bell, ghz, flip = out["counts"]
    assert set(bell) == {"00", "11"} and set(ghz) == {"000", "111"} and flip == {"01": 200}
    with v04(qharbor, key) as api:
        job = api.get(f"/jobs/{out['id']}").json()
        assert job["type"] == "ionq.multi-circuit.v1" and len(job["child_job_ids"]) == 3


def test_qiskit_qpu_backend(qiskit_v03: Path, qharbor: Server, key: str, tmp_path: Path) -> None:
    out = qiskit(qiskit_v03, "qpu", qharbor, key, tmp_path)
    # An emulated QPU is noisy: mostly 00 and 11, now and then another outcome.
    counts = out["counts"]
    assert sum(counts.values()) == 100 and counts.get("00", 0) + counts.get("11", 0) >= 90


def test_qiskit_error_mitigation_and_sharpen(qiskit_v03: Path, qharbor: Server, key: str, tmp_path: Path) -> None:
    """``error_mitigation=ErrorMitigation.DEBIASING`` (v0.3's top-level ``{"debias": true}``) on an
    emulated QPU, ``result(sharpen=True)``; the job reports the state it ran with at both versions."""
    out = qiskit(qiskit_v03, "debias", qharbor, key, tmp_path)
    on, off = out["DEBIASING"], out["NO_DEBIASING"]
    assert len(on["averaged"]) > 1 and max(on["averaged"], key=on["averaged"].get) == "111"
    assert on["sharpened"] == {"111": 1000}  # each variant votes for 111
    assert len(off["averaged"]) > 1 and off["sharpened"] == off["averaged"]  # nothing to vote over
    with v04(qharbor, key) as api, httpx.Client(base_url=qharbor.url + "/v0.3",
                                               headers={"Authorization": f"apiKey {key}"}) as v3:
        for run, debias in ((on, True), (off, False)):
            assert v3.get(f"/jobs/{run['id']}").json()["error_mitigation"] == {"debias": debias}
            assert ("error_mitigation" in api.get(f"/jobs/{run['id']}").json()["output"]) is debias


def test_qiskit_cancel(qiskit_v03: Path, idle_qharbor: Server, tmp_path: Path) -> None:
    key = idle_qharbor.new_key()
    out = qiskit(qiskit_v03, "cancel", idle_qharbor, key, tmp_path)
    assert out["status"] == "CANCELLED"
    with v04(idle_qharbor, key) as api:
        assert api.get(f"/jobs/{out['id']}").json()["status"] == "canceled"


def test_qiskit_delete(qiskit_v03: Path, qharbor: Server, key: str, tmp_path: Path) -> None:
    out = qiskit(qiskit_v03, "delete", qharbor, key, tmp_path)
    assert out["answer"] == {"id": out["id"], "status": "deleted"} and out["after"] == 404
    with v04(qharbor, key) as api:
        assert api.get(f"/jobs/{out['id']}").status_code == 404


def test_qiskit_calibration(qiskit_v03: Path, qharbor: Server, key: str, tmp_path: Path) -> None:
    out = qiskit(qiskit_v03, "calibration", qharbor, key, tmp_path)
    assert out["qubits"] == 25 and out["target"] == "qpu.aria-1" and out["connectivity"] == 25 * 24 // 2
    assert out["time"] > 1.7e9 and set(out["fidelities"]) == {"1q", "2q", "spam"}
    assert set(out["timings"]) == {"t1", "t2", "1q", "2q", "readout", "reset"}


def test_qiskit_reads_a_job_created_by_the_v04_client(qiskit_v03: Path, qharbor: Server, key: str,
                                                       tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from qiskit import QuantumCircuit
    from qiskit_ionq import IonQProvider

    monkeypatch.setenv("IONQ_API_URL", qharbor.url + "/v0.4")
    qc = QuantumCircuit(2, 2, name="bell")
    qc.h(0), qc.cx(0, 1), qc.measure([0, 1], [0, 1])
    job = IonQProvider(token=key, url=qharbor.url + "/v0.4").get_backend("ionq_simulator").run(qc, shots=100)
    job.get_counts()
    out = qiskit(qiskit_v03, "retrieve", qharbor, key, tmp_path, QHARBOR_JOB_ID=job.job_id())
    assert out["status"] == "DONE" and set(out["counts"]) <= {"00", "11"} and sum(out["counts"].values()) == 100


# -- cirq-ionq 1.5.0 ----------------------------------------------------------------------

def cirq(python: Path, flow: str, server: Server, key: str, cwd: Path) -> dict:
    # cirq keeps only scheme://host:port and adds /v0.3 itself.
    return run_flow(python, "cirq_ionq_flows.py", flow, server.url, key, cwd)


def test_cirq_bell_result(cirq_v03: Path, qharbor: Server, key: str, tmp_path: Path) -> None:
    out = cirq(cirq_v03, "bell", qharbor, key, tmp_path)
    assert set(out["histogram"]) == {"0", "3"} and sum(out["histogram"].values()) == 500
    assert out["status"] == "completed" and out["name"] == "bell" and out["target"] == "simulator"
    assert out["qubits"] == 2 and out["repetitions"] == 500
    with v04(qharbor, key) as api:
        job = api.get(f"/jobs/{out['id']}").json()
        assert job["status"] == "completed" and job["name"] == "bell" and job["shots"] == 500


def test_cirq_bit_order_and_measurement_keys(cirq_v03: Path, qharbor: Server, key: str, tmp_path: Path) -> None:
    out = cirq(cirq_v03, "bit_order", qharbor, key, tmp_path)
    assert out == {"first": {"1": 50}, "rest": {"0": 50}}


def test_cirq_batch(cirq_v03: Path, qharbor: Server, key: str, tmp_path: Path) -> None:
    out = cirq(cirq_v03, "multi", qharbor, key, tmp_path)
    assert out["histograms"] == [{"1": 20}, {"0": 20}, {"1": 20}]


def test_cirq_qpu_target(cirq_v03: Path, qharbor: Server, key: str, tmp_path: Path) -> None:
    out = cirq(cirq_v03, "qpu", qharbor, key, tmp_path)
    histogram = out["histogram"]  # an emulated QPU is noisy: mostly 0 and 3
    assert sum(histogram.values()) == 100 and histogram.get("0", 0) + histogram.get("3", 0) >= 90


def test_cirq_lists_every_job(cirq_v03: Path, qharbor: Server, tmp_path: Path) -> None:
    key = qharbor.new_key(name="cirq-list")
    out = cirq(cirq_v03, "list", qharbor, key, tmp_path)
    assert out["listed"] == out["ids"][::-1]  # and it stopped: the last page has no `next`


def test_cirq_cancel(cirq_v03: Path, idle_qharbor: Server, tmp_path: Path) -> None:
    key = idle_qharbor.new_key()
    out = cirq(cirq_v03, "cancel", idle_qharbor, key, tmp_path)
    assert out["status"] == "canceled" and "canceled" in out["error"]
    with v04(idle_qharbor, key) as api:
        assert api.get(f"/jobs/{out['id']}").json()["status"] == "canceled"


def test_cirq_delete(cirq_v03: Path, qharbor: Server, key: str, tmp_path: Path) -> None:
    out = cirq(cirq_v03, "delete", qharbor, key, tmp_path)
    assert out["gone"] and out["status"] == "deleted"
    with v04(qharbor, key) as api:
        assert api.get(f"/jobs/{out['id']}").status_code == 404


def test_cirq_calibration(cirq_v03: Path, qharbor: Server, key: str, tmp_path: Path) -> None:
    out = cirq(cirq_v03, "calibration", qharbor, key, tmp_path)
    assert out["qubits"] == 25 and out["target"] == "qpu.aria-1" and out["pairs"] == 25 * 24
    assert out["time"] > 1.7e9 and out["listed"] == 1
    assert set(out["fidelities"]) == {"1q", "2q", "spam"} and "readout" in out["timings"]
