"""Fault injection per key: seeded shares of 429/503 answers and added latency, logged, that
the real clients' retry code gets through."""

from __future__ import annotations

import subprocess
import time

import pytest
from qiskit import QuantumCircuit
from qiskit_ionq import IonQProvider
from support import QHARBOR, Server, run_cli


def _key(server: Server, faults: str) -> str:
    return _made(server, faults)[1]


def _made(server: Server, faults: str) -> tuple[str, str]:
    """(key id, secret) of a new key with ``faults``."""
    lines = run_cli("keys", "create", "--name", "flaky", "--faults", faults, *server.storage).strip().splitlines()
    return lines[0].split()[3], lines[-1]


def test_shares_are_seeded_and_latency_is_added(server: Server) -> None:
    spec = "429=0.3,503=0.2,latency=50ms,seed=11"
    answers = []
    for _ in range(2):  # two keys with the same seed draw the same sequence
        with server.client(_key(server, spec)) as api:
            started = time.monotonic()
            codes = [api.get("/whoami").status_code for _ in range(40)]
            assert time.monotonic() - started >= 40 * 0.05
            answers.append(codes)
    assert answers[0] == answers[1]
    assert set(answers[0]) == {200, 429, 503}
    assert 0.2 <= answers[0].count(429) / 40 <= 0.45 and 0.08 <= answers[0].count(503) / 40 <= 0.35
    assert "fault injection: answering 503" in server.logs()


@pytest.mark.parametrize("bad", ["429=2", "418=0.1", "latency=fast", "429=0.7,503=0.5"])
def test_an_unusable_spec_is_refused(server: Server, bad: str) -> None:
    out = subprocess.run([*QHARBOR, "keys", "create", "--name", "x", "--faults", bad, *server.storage],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and "--faults" in out.stderr


def test_qiskit_ionq_retries_through_injected_faults(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    base = server.url + "/v0.4"
    monkeypatch.setenv("IONQ_API_URL", base)
    key_id, key = _made(server, "429=0.3,503=0.2,latency=20ms,seed=1")
    qc = QuantumCircuit(2, 2)
    qc.h(0)
    qc.cx(0, 1)
    qc.measure([0, 1], [0, 1])
    backend = IonQProvider(token=key, url=base).get_backend("ionq_simulator")
    counts = backend.run(qc, shots=100).get_counts()
    assert set(counts) == {"00", "11"} and sum(counts.values()) == 100
    assert f"to key {key_id}" in server.logs()  # it did meet faults on the way
