"""Hostile input and stalled clients against a real ``qharbor serve``: every size has a limit
and a 4xx with the JSON error body (never a 500, a hang or unbounded memory), a job the
workers could not run is refused at submission with the prediction, and a client that stalls
is dropped within a stated time while others are still served."""

from __future__ import annotations

import base64
import socket
import time
from collections.abc import Iterator

import httpx
import pytest
from support import Server, bell, create_key

HEADER_S, BODY_S = 1.0, 2.0
#: A worker share that holds 26 qubits in single precision (0.5 GiB) but not 27 (1 GiB).
MEMORY = 800 << 20


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(["--data-dir", str(tmp_path_factory.mktemp("hostile"))], workers=1, env={
        "QHARBOR_HEADER_TIMEOUT_S": str(HEADER_S), "QHARBOR_BODY_TIMEOUT_S": str(BODY_S),
        "QHARBOR_ENGINE_MEMORY_BYTES": str(MEMORY)}).start()
    yield srv
    srv.stop()


@pytest.fixture
def api(guarded: Server) -> Iterator[httpx.Client]:
    with guarded.client(create_key(guarded.storage)) as client:
        yield client


def _refused(r: httpx.Response, status: int, key: str | None = "body") -> str:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["statusCode"] == status and body["error"] and body["message"]
    if key is not None:
        assert body["validation"]["keys"] == [key]
    return str(body["message"])


def _circuit(gates: list[dict], qubits: int = 2, **extra: object) -> dict:
    return {"type": "ionq.circuit.v1", "backend": "simulator",
            "input": {"gateset": "qis", "qubits": qubits, "circuit": gates}, **extra}


def _nested(depth: int) -> object:
    value: object = 1
    for _ in range(depth - 1):
        value = [value]
    return value


def test_json_nested_deeper_than_storable_is_a_400_naming_the_body(api: httpx.Client) -> None:
    # metadata/registers are stored as JSON; nested past 254 levels they were a 500
    for field in ("metadata", "registers"):
        message = _refused(api.post("/jobs", json=_circuit([{"gate": "h", "target": 0}],
                                                           **{field: {"a": _nested(300)}})), 400)
        assert "254 deep" in message
    assert "depth limit" in _refused(api.post("/jobs", content=b"[" * 2000 + b"]" * 2000), 400)
    deep_but_fine = _circuit([{"gate": "h", "target": 0}], metadata={"a": "x"}, registers={"m": [[0, 1]]})
    assert api.post("/jobs", json=deep_but_fine).status_code == 201


def test_a_declared_oversized_body_is_refused_before_it_is_sent(guarded: Server) -> None:
    """1 GB announced, one byte sent: the 413 comes at once (nothing waited for, or kept)."""
    with socket.create_connection(("127.0.0.1", guarded.port), timeout=10) as s:
        started = time.monotonic()
        s.sendall(b"POST /v0.4/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: apiKey " + guarded.key.encode()
                  + b"\r\nContent-Length: 1000000000\r\n\r\n{")
        reply = _read_reply(s)
        assert time.monotonic() - started < 5
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413") and b'"statusCode":413' in body and b"10485760 byte limit" in body


def test_a_chunked_body_over_the_limit_is_a_413(api: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: refused while streaming
        for _ in range(12):
            yield b" " * (1 << 20)

    _refused(api.post("/jobs", content=chunks()), 413, None)


def test_gates_and_circuits_per_job_have_the_spec_limits(api: httpx.Client) -> None:
    started = time.monotonic()
    message = _refused(api.post("/jobs", json=_circuit([{"gate": "h", "target": 0}] * 150_001)), 400, "input")
    assert "150001 gates; at most 150000" in message
    multi = {"type": "ionq.multi-circuit.v1", "backend": "simulator", "input": {"gateset": "qis", "circuits": [
        {"qubits": 1, "circuit": [{"gate": "h", "target": 0}] * 50_001}] * 3}}
    assert "150003 gates" in _refused(api.post("/jobs", json=multi), 400, "input")
    multi["input"]["circuits"] = [{"qubits": 1, "circuit": [{"gate": "h", "target": 0}]}] * 5_001  # type: ignore[index]
    assert "at most 5000 circuits" in _refused(api.post("/jobs", json=multi), 400, "input.circuits")
    assert "1000000" in _refused(api.post("/jobs", json=bell(shots=1_000_001)), 400, "shots")
    assert time.monotonic() - started < 30


def test_openqasm_size_and_nesting_are_refused_before_parsing(api: httpx.Client) -> None:
    def qasm(data: str) -> dict:
        return {"type": "ionq.qasm3.v1", "backend": "simulator", "input": {"data": data}}

    started = time.monotonic()  # unchecked, these took the reference parser 4 s and 37 s
    nested = "OPENQASM 3; qubit q; rx(" + "(" * 5000 + "1" + ")" * 5000 + ") q;"
    assert "5001 deep; at most 100" in _refused(api.post("/jobs", json=qasm(nested)), 400, "input.data")
    long = "OPENQASM 3; qubit q; " + "x q;" * 200_000
    assert "200002 statements; at most 170000" in _refused(api.post("/jobs", json=qasm(long)), 400, "input.data")
    assert time.monotonic() - started < 10
    assert "at most 1000000" in _refused(api.post("/jobs", json=qasm("//" + "x" * 1_000_001)), 400, "input.data")
    fine = "OPENQASM 3; include \"stdgates.inc\"; qubit[2] q; rx(((0.5) * 2)) q[0]; cx q[0], q[1];"
    assert api.post("/jobs", json=qasm(fine)).status_code == 201


def test_a_qir_program_over_the_gate_limit_is_refused_before_llvm_parses_it(api: httpx.Client) -> None:
    calls = "\n".join("  call void @__quantum__qis__h__body(ptr null)" for _ in range(150_001))
    text = ("declare void @__quantum__qis__h__body(ptr)\ndefine void @main() #0 {\nentry:\n" + calls
            + "\n  ret void\n}\nattributes #0 = { \"entry_point\" \"requiredQubits\"=\"1\" }\n")
    started = time.monotonic()
    body = {"type": "ionq.qir.v1", "backend": "simulator", "input": {"data": base64.b64encode(text.encode()).decode()}}
    r = api.post("/jobs", json=body)
    message = _refused(r, 400, "input.data")
    assert "at most 150000 gates" in message
    assert time.monotonic() - started < 15


def test_a_job_beyond_a_workers_memory_or_time_is_refused_with_the_prediction(api: httpx.Client) -> None:
    rotations = [{"gate": "rx", "target": q, "rotation": 0.3} for q in range(27)]
    message = _refused(api.post("/jobs", json=_circuit(rotations, 27)), 400, "input")
    assert "27 qubits need at least 1.1 GiB" in message and "0.8 GiB" in message
    ghz = [{"gate": "h", "target": 0}] + [{"gate": "cnot", "control": q, "target": q + 1} for q in range(26)]
    assert api.post("/jobs", json=_circuit(ghz, 27)).status_code == 201  # a tableau: no state vector
    assert api.post("/jobs", json=_circuit(rotations[:26], 26, dry_run=True)).status_code == 201
    # noisy: 100,000 shots of 2,000 gates on 20 qubits are ~1.5 h at the calibrated bound
    layer = [{"gate": "rx", "target": i % 20, "rotation": 0.3} for i in range(2000)]
    noisy = _circuit(layer, 20, shots=100_000, noise={"model": "aria-1"})
    message = _refused(api.post("/jobs", json=noisy), 400, "input")
    assert "predicted to take at least" in message and "600 s limit" in message
    noisy["shots"] = 10  # ~0.2 s predicted: accepted
    assert api.post("/jobs", json=noisy).status_code == 201


def _read_reply(s: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def _closed_after(s: socket.socket, limit: float) -> float:
    """Seconds until the server closes ``s`` (reading whatever it says first)."""
    started = time.monotonic()
    s.settimeout(limit)
    while s.recv(65536):
        pass
    return time.monotonic() - started


def test_stalled_and_trickling_clients_are_dropped_and_others_still_served(guarded: Server) -> None:
    silent = socket.create_connection(("127.0.0.1", guarded.port))
    trickle = socket.create_connection(("127.0.0.1", guarded.port))
    started = time.monotonic()
    try:
        for byte in b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ":  # slowloris: a byte at a time
            try:
                trickle.send(bytes([byte]))
            except OSError:
                break  # closed under us: what should happen
            time.sleep(0.1)
            if time.monotonic() - started > HEADER_S + 2:
                break
        assert _closed_after(trickle, HEADER_S + 3) < HEADER_S + 3
        assert _closed_after(silent, HEADER_S + 3) < HEADER_S + 3
        assert time.monotonic() - started < HEADER_S + 4
    finally:
        silent.close()
        trickle.close()
    with socket.create_connection(("127.0.0.1", guarded.port)) as slow_body:
        slow_body.sendall(b"POST /v0.4/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: apiKey " + guarded.key.encode()
                          + b"\r\nContent-Length: 100\r\n\r\n{")
        slow_body.settimeout(BODY_S + 5)
        reply = _read_reply(slow_body)
        assert reply.startswith(b"HTTP/1.1 408") and b'"statusCode":408' in reply
    assert httpx.get(guarded.url + "/health", timeout=5).status_code == 200
