"""Per-key rate limits: a token bucket shared by every API process of a database; over it,
429 with the JSON error body and ``Retry-After``."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from qiskit import QuantumCircuit
from qiskit_ionq import IonQProvider
from support import QHARBOR, Server, create_key


@pytest.fixture(scope="module")
def tight(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server allowing each key one request a second."""
    srv = Server(["--data-dir", str(tmp_path_factory.mktemp("tight"))], workers=1,
                 env={"QHARBOR_RATE_LIMIT": "1/s"}).start()
    yield srv
    srv.stop()


def test_over_the_limit_is_a_429_with_retry_after(tight: Server) -> None:
    with tight.client(create_key(tight.storage)) as api:
        assert api.get("/whoami").status_code == 200
        over = api.get("/jobs", headers={"x-request-id": "over-1"})
        assert over.status_code == 429
        assert over.json()["statusCode"] == 429 and "1/s" in over.json()["message"]
        assert int(over.headers["retry-after"]) >= 1 and over.headers["x-request-id"] == "over-1"
        with tight.client(create_key(tight.storage)) as other:  # another key has its own bucket
            assert other.get("/whoami").status_code == 200
        assert httpx.get(tight.url + "/v0.4/backends").status_code == 200  # no key, no bucket
        time.sleep(int(over.headers["retry-after"]))
        assert api.get("/whoami").status_code == 200
    assert "over its rate limit of 1/s" in tight.logs()


def test_a_qiskit_job_completes_under_a_tight_limit(tight: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    """qiskit-ionq retries 429s on its reads; the job's polls outrun 1/s and still complete."""
    base = tight.url + "/v0.4"
    monkeypatch.setenv("IONQ_API_URL", base)
    key = create_key(tight.storage)
    before = tight.logs().count("over its rate limit")
    qc = QuantumCircuit(2, 2)
    qc.h(0)
    qc.cx(0, 1)
    qc.measure([0, 1], [0, 1])
    backend = IonQProvider(token=key, url=base).get_backend("ionq_simulator")
    with pytest.warns(UserWarning, match="Retrying"):
        counts = backend.run(qc, shots=200).get_counts()
    assert set(counts) == {"00", "11"} and sum(counts.values()) == 200
    assert tight.logs().count("over its rate limit") > before


@pytest.mark.parametrize("env,flag,named", [
    ({"QHARBOR_RATE_LIMIT": "20/x"}, [], "QHARBOR_RATE_LIMIT"),
    ({}, ["--rate-limit", "0/s"], "--rate-limit"),
])
def test_an_unusable_limit_stops_serve_naming_it(tmp_path: Path, env: dict, flag: list, named: str) -> None:
    out = subprocess.run([*QHARBOR, "serve", "--data-dir", str(tmp_path), "--workers", "0", *flag],
                         capture_output=True, text=True, timeout=60, env={**os.environ, **env})
    assert out.returncode != 0 and named in out.stderr and "20/s" in out.stderr


@pytest.mark.parametrize("two_apis", [{"QHARBOR_RATE_LIMIT": "10/s"}], indirect=True)
def test_two_processes_share_one_bucket(two_apis: list[Server]) -> None:
    """Hammered through both processes for 3 s, the key gets its 10 a second (plus the burst
    of 10) in all, within 20 %, not 10 a second from each."""
    clients = [s.client() for s in two_apis]
    ok = [0]
    lock = threading.Lock()
    stop = time.monotonic() + 3.0

    def hammer(i: int) -> None:
        while time.monotonic() < stop:
            r = clients[i % 2].get("/whoami")
            assert r.status_code in (200, 429), r.text
            if r.status_code == 200:
                with lock:
                    ok[0] += 1

    started = time.monotonic()
    threads = [threading.Thread(target=hammer, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    expected = 10 + 10 * (time.monotonic() - started)
    print(f"two processes, 10/s: {ok[0]} requests allowed, {expected:.1f} expected")
    assert 0.8 * expected <= ok[0] <= 1.2 * expected, (ok[0], expected)
    for c in clients:
        c.close()
