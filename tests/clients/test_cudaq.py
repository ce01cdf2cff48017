"""CUDA-Q 0.16, unmodified, in a virtualenv of its own (``legacy_clients``): its ``ionq``
target (``cudaq.set_target("ionq", url=..., qpu=..., noise=...)`` with ``IONQ_API_KEY``)
samples Bell, GHZ and deterministic kernels on ``simulator``, with a noise model, and on
``qpu.aria-1``.

CUDA-Q talks to the server through a recording proxy here, so the test also pins what it
sends and what it reads — its traps: v0.3 only, QIR bitcode in ``input.format: "qir"``, a
top-level ``qubits`` that is a one-character string, polling ``GET /v0.3/jobs?id=X`` with no
pause (answered by a long poll, so few reads), and ``GET <results_url>?format=qir.quantum-log.v0``
turned into counts by ``int(p * shots)`` (answered with values that survive the truncation,
so its counts sum to the shots and equal the job's histogram).
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from legacy_clients import run_flow, venv_python
from support import Server

# Building the venv the first time (pip, ~0.5 GB) may take minutes; later runs reuse it.
pytestmark = pytest.mark.timeout(1500)


class Recorder:
    """A pass-through HTTP proxy that keeps every exchange: (method, path, request body, status, answer)."""

    def __init__(self, upstream: str) -> None:
        self.exchanges: list[dict[str, Any]] = []
        recorder = self
        client = httpx.Client(base_url=upstream, timeout=60)

        class Handler(BaseHTTPRequestHandler):
            def _forward(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k: v for k, v in self.headers.items() if k.lower() in ("authorization", "content-type")}
                answer = client.request(self.command, self.path, content=body, headers=headers)
                recorder.exchanges.append({"method": self.command, "path": self.path, "body": body,
                                           "status": answer.status_code, "answer": answer.content})
                self.send_response(answer.status_code)
                self.send_header("content-type", answer.headers.get("content-type", "application/json"))
                self.send_header("content-length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_POST = do_PUT = do_DELETE = _forward

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def jobs(self) -> list[tuple[dict[str, Any], str]]:
        """Each created job: (the body CUDA-Q sent, its id)."""
        return [(json.loads(e["body"]), json.loads(e["answer"])["id"]) for e in self.exchanges
                if e["method"] == "POST"]

    def stop(self) -> None:
        self._server.shutdown()


@pytest.fixture(scope="module")
def cudaq_python() -> Path:
    return venv_python("cuda-quantum-0.16")


@pytest.fixture
def recorder(qharbor: Server) -> Iterator[Recorder]:
    proxy = Recorder(qharbor.url)
    yield proxy
    proxy.stop()


def cudaq(python: Path, flow: str, recorder: Recorder, key: str, cwd: Path) -> dict:
    return run_flow(python, "cudaq_flows.py", flow, recorder.url, key, cwd, timeout=300)


def histogram(api: httpx.Client, job_id: str, qubits: int) -> dict[str, int]:
    """The job's v0.4 histogram, keyed as CUDA-Q keys counts (qubit 0 leftmost)."""
    found = api.get(f"/jobs/{job_id}/results/histogram").json()
    return {format(int(k), f"0{qubits}b")[::-1]: c for k, c in found.items()}


def binomial_z(count: int, shots: int, p: float) -> float:
    return (count - shots * p) / math.sqrt(shots * p * (1 - p))


def test_simulator_counts(cudaq_python: Path, qharbor: Server, key: str, recorder: Recorder,
                          tmp_path: Path) -> None:
    out = cudaq(cudaq_python, "simulator", recorder, key, tmp_path)
    bell, ghz, flips = out["bell"], out["ghz"], out["flips"]
    assert flips == {"101": 100}  # x on qubits 0 and 2: exact
    assert set(bell) <= {"00", "11"} and sum(bell.values()) == 1000
    assert abs(binomial_z(bell.get("11", 0), 1000, 0.5)) < 5
    assert set(ghz) <= {"000", "111"} and sum(ghz.values()) == 500
    assert abs(binomial_z(ghz.get("111", 0), 500, 0.5)) < 5
    with qharbor.client(key) as api:
        for (body, job_id), expected, qubits in zip(recorder.jobs(), (bell, ghz, flips), (2, 3, 3), strict=True):
            job = api.get(f"/jobs/{job_id}").json()
            assert job["type"] == "ionq.qir.v1" and job["backend"] == "simulator"
            assert job["stats"]["qubits"] == qubits
            assert histogram(api, job_id, qubits) == expected  # its counts are the job's histogram, exactly


def test_what_it_sends_and_reads(cudaq_python: Path, key: str, recorder: Recorder, tmp_path: Path) -> None:
    cudaq(cudaq_python, "simulator", recorder, key, tmp_path)
    exchanges = recorder.exchanges
    assert all(e["path"].startswith("/v0.3/") for e in exchanges)  # v0.3 only
    assert all(e["status"] == 200 for e in exchanges), [(e["path"], e["status"]) for e in exchanges]
    for body, job_id in recorder.jobs():
        assert body["input"]["format"] == "qir" and isinstance(body["input"]["data"], str)
        assert isinstance(body["qubits"], str) and len(body["qubits"]) == 1  # ignored by the server
        polls = [e for e in exchanges if e["method"] == "GET" and e["path"] == f"/v0.3/jobs?id={job_id}"]
        assert 1 <= len(polls) <= 30, len(polls)  # no pause between polls: each one long-polls
        last = json.loads(polls[-1]["answer"])["jobs"][0]
        assert last["status"] == "completed" and isinstance(last["qubits"], int)
        reads = [e for e in exchanges if e["path"] == f"/v0.3/jobs/{job_id}/results?format=qir.quantum-log.v0"]
        assert len(reads) == 1
        probabilities = json.loads(reads[0]["answer"])
        shots = body["shots"]
        assert sum(int(p * shots) for p in probabilities.values()) == shots  # its truncation loses nothing


def test_noise_model(cudaq_python: Path, qharbor: Server, key: str, recorder: Recorder, tmp_path: Path) -> None:
    bell = cudaq(cudaq_python, "noisy", recorder, key, tmp_path)["bell"]
    assert sum(bell.values()) == 1000
    assert bell.get("00", 0) + bell.get("11", 0) >= 900 and len(bell) > 2  # aria-1's errors show, a few percent
    [(body, job_id)] = recorder.jobs()
    assert body["noise"] == {"model": "aria-1"}
    with qharbor.client(key) as api:
        job = api.get(f"/jobs/{job_id}").json()
        assert job["noise"]["model"] == "aria-1" and job["output"]["probabilities"] == "sampled"
        assert histogram(api, job_id, 2) == bell


def test_emulated_qpu(cudaq_python: Path, qharbor: Server, key: str, recorder: Recorder, tmp_path: Path) -> None:
    ghz = cudaq(cudaq_python, "qpu", recorder, key, tmp_path)["ghz"]
    assert sum(ghz.values()) == 1000 and ghz.get("000", 0) + ghz.get("111", 0) >= 850
    [(body, job_id)] = recorder.jobs()
    assert body["target"] == "qpu.aria-1"
    with qharbor.client(key) as api:
        assert api.get(f"/jobs/{job_id}").json()["backend"] == "qpu.aria-1"
        assert histogram(api, job_id, 3) == ghz
