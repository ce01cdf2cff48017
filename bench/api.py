"""HTTP throughput of the qharbor API, against the framework's own ceiling.

Measures, in one run, on the embedded default (SQLite in a fresh temporary data
directory):

1. ``POST /v0.4/jobs`` -- jobs created per second, against a real server started
   with ``qharbor serve`` in a subprocess (its default worker count, or
   ``--workers N``);
2. ``GET /v0.4/jobs/{id}`` -- job reads per second, cycling through the ids
   created in step 1 (after the workers have drained that queue, so the
   simulations do not compete for the CPU);
3. a hello-world route of the same framework -- a minimal Starlette app whose
   one route returns a small JSON body through a plain
   ``starlette.responses.Response``, served by ``uvicorn.run`` with the same
   options as ``qharbor serve`` (default loop and HTTP implementation,
   ``access_log=False``, ``log_level="warning"``) in its own subprocess. This is
   the ceiling that the job GET is compared with (target: at least 50%).

All three use the same load generator: a small asyncio HTTP/1.1 client over
raw keep-alive sockets, ``--connections`` concurrent connections, run for a
short warmup and then ``--seconds``; only 2xx responses are counted, anything
else (other statuses, dropped connections) is reported as an error. The client
is deliberately cheap, since on a small machine it shares the cores with the
server under test.

Run from the repository root::

    .venv/bin/python bench/api.py                      # table
    .venv/bin/python bench/api.py --seconds 3 --json   # JSON
    .venv/bin/python bench/api.py --workers 1 --connections 16

``--hello-server PORT`` is the internal mode that serves the hello-world app.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

HOST = "127.0.0.1"
REPO = Path(__file__).resolve().parent.parent
JOB_BODY = json.dumps({
    "type": "ionq.circuit.v1", "backend": "simulator", "shots": 100,
    "input": {"gateset": "qis", "qubits": 2,
              "circuit": [{"gate": "h", "target": 0}, {"gate": "cnot", "control": 0, "target": 1}]},
}, separators=(",", ":")).encode()
TERMINAL = {"completed", "failed", "canceled"}


# --------------------------------------------------------------------------- hello-world server

def hello_server(port: int) -> None:
    """Serve the hello-world ceiling exactly as ``qharbor serve`` runs its app."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    async def hello(_: Request) -> Response:
        return Response(b'{"hello":"world"}', media_type="application/json")

    async def health(_: Request) -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    app = Starlette(routes=[Route("/hello", hello, methods=["GET"]), Route("/health", health, methods=["GET"])])
    uvicorn.run(app, host=HOST, port=port, log_level="warning", access_log=False)


# --------------------------------------------------------------------------- load generator

@dataclass
class Result:
    name: str
    requests: int            # 2xx responses completed inside the measured window
    seconds: float
    errors: int              # non-2xx responses and connection failures in the window
    error_kinds: dict[str, int] = field(default_factory=dict)
    error_sample: str = ""   # the first error body seen, truncated

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


class _Window:
    """Shared by every connection: whether responses count yet, and when to stop."""

    def __init__(self) -> None:
        self.counting = False
        self.stop = False
        self.ok = 0
        self.errors: Counter[str] = Counter()
        self.error_sample = ""
        self.bodies: list[bytes] = []   # 2xx bodies, kept only when asked for

    def error(self, kind: str, detail: bytes | str = b"") -> None:
        if self.counting:
            self.errors[kind] += 1
            if not self.error_sample:
                text = detail.decode(errors="replace") if isinstance(detail, bytes) else detail
                self.error_sample = f"{kind}: {text}"[:300]


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """One response: (status, body, whether the server keeps the connection open)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length, keep_alive = 0, True
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection" and value.strip().lower() == b"close":
            keep_alive = False
        elif name == b"transfer-encoding":
            raise ValueError("chunked responses are not supported by this client")
    body = await reader.readexactly(length) if length else b""
    return status, body, keep_alive


async def _connection(port: int, requests: Iterator[bytes], window: _Window, keep_bodies: bool) -> None:
    """Send requests back to back on one keep-alive connection, reconnecting on failure."""
    while not window.stop:
        try:
            reader, writer = await asyncio.open_connection(HOST, port)
        except OSError as exc:
            window.error("connect", repr(exc))
            await asyncio.sleep(0.05)
            continue
        try:
            while not window.stop:
                writer.write(next(requests))
                status, body, keep_alive = await _read_response(reader)
                if 200 <= status < 300:
                    if window.counting and not window.stop:
                        window.ok += 1
                        if keep_bodies:
                            window.bodies.append(body)
                else:
                    window.error(f"HTTP {status}", body)
                if not keep_alive:
                    break
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
            window.error(type(exc).__name__, repr(exc))
        finally:
            writer.close()


async def _load(port: int, make_requests: Callable[[int], Iterator[bytes]], connections: int,
                warmup: float, seconds: float, keep_bodies: bool) -> tuple[_Window, float]:
    window = _Window()
    tasks = [asyncio.create_task(_connection(port, make_requests(i), window, keep_bodies))
             for i in range(connections)]
    await asyncio.sleep(warmup)
    window.counting = True
    start = time.perf_counter()
    await asyncio.sleep(seconds)
    window.stop = True
    elapsed = time.perf_counter() - start
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return window, elapsed


def measure(name: str, port: int, make_requests: Callable[[int], Iterator[bytes]], connections: int,
            warmup: float, seconds: float, keep_bodies: bool = False) -> tuple[Result, list[bytes]]:
    """Run the load for warmup + seconds; ``make_requests(i)`` yields connection i's requests."""
    runner = _runner()
    window, elapsed = runner(_load(port, make_requests, connections, warmup, seconds, keep_bodies))
    result = Result(name, window.ok, elapsed, sum(window.errors.values()), dict(window.errors),
                    window.error_sample)
    return result, window.bodies


def _runner() -> Callable[..., tuple[_Window, float]]:
    """uvloop when available (a project dependency), so the client costs little CPU."""
    try:
        import uvloop
        return uvloop.run  # type: ignore[no-any-return]
    except ImportError:
        return asyncio.run


def request_bytes(method: str, path: str, key: str | None = None, body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}", "User-Agent: qharbor-bench"]
    if key:
        lines.append(f"Authorization: apiKey {key}")
    if body or method in ("POST", "PUT"):
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def repeat(request: bytes) -> Iterator[bytes]:
    while True:
        yield request


def cycle_from(requests: list[bytes], start: int) -> Iterator[bytes]:
    i = start % len(requests)
    while True:
        yield requests[i]
        i = (i + 1) % len(requests)


# --------------------------------------------------------------------------- subprocesses

def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@contextmanager
def process(cmd: list[str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``cmd`` in its own process group (stdout+stderr to ``log``); always end the whole group."""
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                cwd=REPO, start_new_session=True)
        try:
            yield proc
        finally:
            _end_group(proc)


def _end_group(proc: subprocess.Popen[bytes]) -> None:
    for sig, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)  # the group is the server and the workers it started
        except ProcessLookupError:
            return
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            continue
        # The leader is gone; make sure no worker it started outlives it.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return


def http(method: str, port: int, path: str, key: str | None = None, body: bytes | None = None,
         timeout: float = 5.0) -> tuple[int, bytes]:
    """A one-off request for setup and checks (not for load)."""
    req = urllib.request.Request(f"http://{HOST}:{port}{path}", data=body, method=method)
    if key:
        req.add_header("Authorization", f"apiKey {key}")
    if body is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def wait_healthy(proc: subprocess.Popen[bytes], port: int, log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"server exited with {proc.returncode} before it was up; its output:\n{log.read_text()}")
        try:
            if http("GET", port, "/health", timeout=1.0)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    sys.exit(f"server not healthy after {timeout:.0f}s; its output:\n{log.read_text()}")


def first_key(log: Path) -> str:
    """The secret printed on the line after 'Created the first API key'."""
    lines = log.read_text().splitlines()
    for i, line in enumerate(lines):
        if line.startswith("Created the first API key") and i + 1 < len(lines):
            return lines[i + 1].strip()
    sys.exit(f"no API key in the server's output:\n{log.read_text()}")


def wait_drained(port: int, key: str, job_id: str, timeout: float) -> float | None:
    """Seconds until ``job_id`` (the last one created) is terminal; None past ``timeout``."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        status, body = http("GET", port, f"/v0.4/jobs/{job_id}", key)
        if status == 200 and json.loads(body).get("status") in TERMINAL:
            return time.monotonic() - start
        time.sleep(0.2)
    return None


def log_problems(log: Path) -> list[str]:
    """Lines of the server's output that look like errors."""
    marks = ("Traceback", "ERROR", "Error", "Exception", "exited with")
    return [line for line in log.read_text(errors="replace").splitlines() if any(m in line for m in marks)]


# --------------------------------------------------------------------------- the run

def run(args: argparse.Namespace) -> dict[str, object]:
    common = dict(connections=args.connections, warmup=args.warmup, seconds=args.seconds)
    results: list[Result] = []
    notes: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="qharbor-bench-") as tmp:
        tmpdir = Path(tmp)
        data, server_log, hello_log = tmpdir / "data", tmpdir / "server.log", tmpdir / "hello.log"

        port = free_port()
        cmd = [str(Path(sys.executable).parent / "qharbor"), "serve", "--data-dir", str(data),
               "--port", str(port), "--log-level", "warning"]
        if args.workers is not None:
            cmd += ["--workers", str(args.workers)]
        with process(cmd, server_log) as proc:
            wait_healthy(proc, port, server_log)
            key = first_key(server_log)
            status, body = http("POST", port, "/v0.4/jobs", key, JOB_BODY)
            if status != 201:
                sys.exit(f"creating a job failed: {status} {body[:300]!r}")

            post = request_bytes("POST", "/v0.4/jobs", key, JOB_BODY)
            created, bodies = measure("POST /v0.4/jobs", port, lambda _: repeat(post), keep_bodies=True, **common)
            results.append(created)
            ids = [json.loads(b)["id"] for b in bodies] or [json.loads(body)["id"]]
            notes["jobs_for_get"] = len(ids)

            drained = wait_drained(port, key, ids[-1], args.drain_timeout)
            notes["queue_drain_s"] = None if drained is None else round(drained, 2)
            gets = [request_bytes("GET", f"/v0.4/jobs/{i}", key) for i in ids]
            step = max(len(gets) // args.connections, 1)
            results.append(measure("GET /v0.4/jobs/{id}", port, lambda c: cycle_from(gets, c * step), **common)[0])
            server_running = proc.poll() is None
        notes["server_problems"] = log_problems(server_log)[:20]
        if not server_running:
            notes["server_problems"].insert(0, f"server exited with {proc.returncode} during the run")

        port = free_port()
        with process([sys.executable, str(Path(__file__).resolve()), "--hello-server", str(port)], hello_log) as proc:
            wait_healthy(proc, port, hello_log)
            hello = request_bytes("GET", "/hello")
            results.append(measure("hello world (Starlette)", port, lambda _: repeat(hello), **common)[0])

    ceiling = results[2].rps
    ratio = 100.0 * results[1].rps / ceiling if ceiling else 0.0
    return {
        "settings": {"connections": args.connections, "seconds": args.seconds, "warmup": args.warmup,
                     "workers": args.workers if args.workers is not None else "default (one per core)",
                     "cpus": os.cpu_count()},
        "results": [{**asdict(r), "rps": round(r.rps, 1)} for r in results],
        "get_vs_hello_percent": round(ratio, 1),
        "target_percent": 50.0,
        **notes,
    }


def print_table(report: dict[str, object]) -> None:
    s = report["settings"]
    assert isinstance(s, dict)
    print(f"connections={s['connections']}  seconds={s['seconds']}  warmup={s['warmup']}  "
          f"workers={s['workers']}  cpus={s['cpus']}")
    print(f"{'measurement':<26}{'req/s':>10}{'requests':>10}{'errors':>8}")
    results = report["results"]
    assert isinstance(results, list)
    for r in results:
        print(f"{r['name']:<26}{r['rps']:>10.1f}{r['requests']:>10}{r['errors']:>8}")
    verdict = "meets" if report["get_vs_hello_percent"] >= 50.0 else "below"  # type: ignore[operator]
    print(f"\nGET job / hello world: {report['get_vs_hello_percent']}%  ({verdict} the 50% target)")
    print(f"jobs cycled in GET: {report['jobs_for_get']}; queue drained in "
          f"{report['queue_drain_s'] if report['queue_drain_s'] is not None else '> timeout'} s")
    for r in results:
        if r["errors"]:
            print(f"errors in {r['name']}: {r['error_kinds']}; first: {r['error_sample']}")
    problems = report["server_problems"]
    assert isinstance(problems, list)
    if problems:
        print("server output with errors:")
        for line in problems:
            print(f"  {line}")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--connections", type=int, default=8, help="concurrent keep-alive connections (default 8)")
    p.add_argument("--seconds", type=float, default=5.0, help="measured seconds per measurement (default 5)")
    p.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds before each (default 1)")
    p.add_argument("--workers", type=int, default=None, help="qharbor serve --workers (default: its own)")
    p.add_argument("--drain-timeout", type=float, default=30.0,
                   help="longest wait for the created jobs to finish before the GET run (default 30)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument("--hello-server", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.hello_server is not None:
        hello_server(args.hello_server)
        return
    report = run(args)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_table(report)


if __name__ == "__main__":
    main()
