"""HTTP throughput of the qharbor API, against the framework's own ceiling.

Measures, in one run, on the embedded default (SQLite in a fresh temporary data
directory):

1. ``POST /v0.4/jobs`` -- jobs created per second, against a real server started
   with ``qharbor serve`` in a subprocess (its default worker count, or
   ``--workers N``);
2. seeding: more POSTs (the Python client, ``--connections`` at a time) until the
   database holds ``--jobs`` jobs (default 10,000), reported as a second POST rate;
3. ``GET /v0.4/jobs/{id}`` -- job reads per second, cycling through the ids
   created in steps 1-2 (after the workers have drained that queue, so the
   simulations do not compete for the CPU);
4. job lists, ``limit=25``: ``GET /v0.4/jobs`` and ``GET /v0.3/jobs``, each once as
   the first page over and over and once cycling through every page of the
   listing (the ``next`` cursors, collected beforehand);
5. a hello-world route of the same framework -- a minimal Starlette app whose
   one route returns a small JSON body through a plain
   ``starlette.responses.Response``, served by ``uvicorn.run`` with the same
   options as ``qharbor serve`` (default loop and HTTP implementation,
   ``access_log=False``, ``log_level="warning"``) in its own subprocess, beside
   the server under test. This is the ceiling the reads are compared with
   (targets: job GET at least 0.50x, each list at least 0.25x). It is measured
   before the first read and after each, and each read is compared with the mean
   of the two measurements around it: on a shared machine the load drifts
   during a run, and ratios of neighbouring measurements drift far less.

After the measurements it prints SQLite's ``EXPLAIN QUERY PLAN`` of the list page
queries (unfiltered, children, session, one and two statuses, a deep cursor) on
the benchmark's own database, whose job count it also reports.

All measurements use the same load generator, ``--connections`` concurrent keep-alive
connections, run for a short unmeasured warmup and then ``--seconds``; only 2xx
responses are counted, anything else (other statuses, dropped connections,
timeouts) is reported as an error. ``--client`` picks the generator:

* ``wrk`` (preferred; ``apt-get install wrk``) -- the C load generator, run as
  ``wrk -t1 -c<connections> -d<seconds>s --latency`` with a generated Lua
  script (one thread: on a small machine wrk shares the cores with the server
  under test, and one thread saturates a Python server while costing it the
  least CPU). The warmup is a separate, short wrk run that is not counted. wrk
  takes whole seconds, so ``--seconds`` and ``--warmup`` are rounded (at least
  1 s; ``--warmup 0`` skips the warmup), and the measured time is the run time
  wrk reports. wrk counts errors
  but keeps no bodies; ``--client python`` shows the first error body. The job
  ids for the GET run are read back afterwards through ``GET /v0.4/jobs``
  (newest first, at most 20,000).
* ``python`` -- a small asyncio HTTP/1.1 client over raw sockets (uvloop when
  installed). It needs nothing beyond the project, but on a 2-core machine it
  is itself a bottleneck: it competes with the server for the same cores, and
  needs more CPU the faster the route, which distorts the GET-vs-hello ratio.
* ``auto`` (default) -- ``wrk`` when it is on the PATH, else ``python``. The
  table header and the JSON settings say which one ran.

Run from the repository root::

    .venv/bin/python bench/api.py                      # table
    .venv/bin/python bench/api.py --seconds 3 --json   # JSON
    .venv/bin/python bench/api.py --workers 1 --connections 16
    .venv/bin/python bench/api.py --client python      # without wrk
    .venv/bin/python bench/api.py --jobs 2000          # a smaller database

``--hello-server PORT`` is the internal mode that serves the hello-world app.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from common import (  # bench/ is on sys.path
    HOST,
    first_key,
    free_port,
    http,
    process,
    qharbor_serve,
    wait_healthy,
)

JOB_BODY = json.dumps({
    "type": "ionq.circuit.v1", "backend": "simulator", "shots": 100,
    "input": {"gateset": "qis", "qubits": 2,
              "circuit": [{"gate": "h", "target": 0}, {"gate": "cnot", "control": 0, "target": 1}]},
}, separators=(",", ":")).encode()
TERMINAL = {"completed", "failed", "canceled"}
MAX_GET_IDS = 20_000     # job ids cycled through by the wrk GET run
LIST_PAGE = 1000         # the API's largest page of GET /v0.4/jobs
BENCH_PAGE = 25          # the page size of the measured lists
JOB_TARGET = 0.50        # job GET / hello world
LIST_TARGET = 0.25       # job list / hello world


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


# --------------------------------------------------------------------------- load generator: results

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


# --------------------------------------------------------------------------- load generator: python

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


# --------------------------------------------------------------------------- load generator: wrk

WRK_TIMEOUT = "10s"   # a response slower than this counts as a timeout error (wrk's default is 2s)


def lua_string(text: str) -> str:
    """``text`` as a Lua string literal: quotes and backslashes escaped, other bytes
    outside printable ASCII as decimal escapes (valid in Lua 5.1 and LuaJIT)."""
    out: list[str] = []
    for byte in text.encode():
        char = chr(byte)
        if char in '"\\':
            out.append("\\" + char)
        elif 32 <= byte < 127:
            out.append(char)
        else:
            out.append(f"\\{byte:03d}")
    return '"' + "".join(out) + '"'


def post_script(key: str) -> str:
    """wrk sends this one POST over and over (a static request: no Lua per request)."""
    return (f'wrk.method = "POST"\n'
            f"wrk.body = {lua_string(JOB_BODY.decode())}\n"
            f'wrk.headers["Authorization"] = {lua_string("apiKey " + key)}\n'
            f'wrk.headers["Content-Type"] = "application/json"\n')


def get_script(key: str, paths_file: Path) -> str:
    """GET each path in ``paths_file`` (one a line) in turn, over and over.

    The requests are formatted once, in init(); with ``-t1`` every connection
    shares the one Lua state, so consecutive requests take consecutive paths.
    """
    return f"""local requests = {{}}
local n = 0

function init(args)
   local headers = {{ ["Authorization"] = {lua_string("apiKey " + key)} }}
   for path in io.lines({lua_string(str(paths_file))}) do
      requests[#requests + 1] = wrk.format("GET", path, headers)
   end
end

function request()
   n = n % #requests + 1
   return requests[n]
end
"""


def wrk_seconds(seconds: float) -> int:
    """wrk's -d takes whole seconds."""
    return max(1, round(seconds))


def _wrk(url: str, script: Path | None, connections: int, seconds: float) -> str:
    """One wrk run; its stdout. Exits the benchmark when wrk fails."""
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{wrk_seconds(seconds)}s", "--timeout", WRK_TIMEOUT,
           "--latency"]
    if script is not None:
        cmd += ["-s", str(script)]
    cmd.append(url)
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                              timeout=wrk_seconds(seconds) + 60)
    except subprocess.TimeoutExpired:
        sys.exit(f"{' '.join(cmd)} did not finish")
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} exited with {done.returncode}:\n{done.stdout}{done.stderr}")
    return done.stdout


_WRK_TOTAL = re.compile(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h),", re.MULTILINE)
_WRK_RPS = re.compile(r"^Requests/sec:\s*([\d.]+)", re.MULTILINE)
_WRK_NON_2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")
_WRK_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_WRK_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_wrk(name: str, output: str) -> Result:
    """A ``Result`` from wrk's report: requests, errors, and the measured time."""
    total, rps = _WRK_TOTAL.search(output), _WRK_RPS.search(output)
    if total is None or rps is None:
        sys.exit(f"cannot read wrk's report for {name}:\n{output}")
    completed = int(total.group(1))
    # wrk prints the run time rounded to two decimals; completed / (Requests/sec) is its exact value.
    per_second = float(rps.group(1))
    seconds = completed / per_second if per_second else float(total.group(2)) * _WRK_UNITS[total.group(3)]
    kinds: dict[str, int] = {}
    if (non_2xx := _WRK_NON_2XX.search(output)) is not None:
        kinds["non-2xx/3xx"] = int(non_2xx.group(1))   # wrk counts 3xx as success; the API sends none
    if (sock := _WRK_SOCKET.search(output)) is not None:
        for kind, count in zip(("connect", "read", "write", "timeout"), sock.groups()):
            kinds[kind] = int(count)
    kinds = {kind: count for kind, count in kinds.items() if count}
    errors = sum(kinds.values())
    sample = "wrk keeps no response bodies; rerun with --client python to see one" if errors else ""
    return Result(name, completed - kinds.get("non-2xx/3xx", 0), seconds, errors, kinds, sample)


def wrk_measure(name: str, port: int, path: str, script: Path | None, connections: int,
                warmup: float, seconds: float) -> Result:
    """A warmup wrk run (unless ``warmup`` is 0), then the measured one."""
    url = f"http://{HOST}:{port}{path}"
    if warmup > 0:
        _wrk(url, script, connections, warmup)
    return parse_wrk(name, _wrk(url, script, connections, seconds))


def resolve_client(choice: str) -> str:
    """``auto``: wrk when it is installed, else the Python client."""
    if choice == "auto":
        return "wrk" if shutil.which("wrk") else "python"
    if choice == "wrk" and not shutil.which("wrk"):
        sys.exit("wrk is not on the PATH (apt-get install wrk), or use --client python")
    return choice


# --------------------------------------------------------------------------- checks

def wait_drained(port: int, key: str, job_id: str, timeout: float) -> float | None:
    """Seconds until ``job_id`` (the last one created) is terminal; None past ``timeout``."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        status, body = http("GET", port, f"/v0.4/jobs/{job_id}", key)
        if status == 200 and json.loads(body).get("status") in TERMINAL:
            return time.monotonic() - start
        time.sleep(0.2)
    return None


def newest_job_ids(port: int, key: str, limit: int = MAX_GET_IDS) -> list[str]:
    """The ids of the newest ``limit`` jobs, oldest first, paging through ``GET /v0.4/jobs``."""
    ids: list[str] = []
    query = {"limit": str(LIST_PAGE)}
    while len(ids) < limit:
        status, body = http("GET", port, "/v0.4/jobs?" + urllib.parse.urlencode(query), key, timeout=60.0)
        if status != 200:
            sys.exit(f"listing the jobs failed: {status} {body[:300]!r}")
        page = json.loads(body)
        ids += [job["id"] for job in page["jobs"]]
        if not page.get("next"):
            break
        query["next"] = page["next"]
    return ids[:limit][::-1]


def page_paths(port: int, key: str, version: str, limit: int = BENCH_PAGE) -> list[str]:
    """The path of every page of ``GET /{version}/jobs?limit=...``, first to last (following ``next``)."""
    paths = [f"/{version}/jobs?limit={limit}"]
    while True:
        status, body = http("GET", port, paths[-1], key, timeout=60.0)
        if status != 200:
            sys.exit(f"listing the jobs failed: {status} {body[:300]!r}")
        cursor = json.loads(body).get("next")
        if not cursor:
            return paths
        paths.append(f"/{version}/jobs?" + urllib.parse.urlencode({"limit": limit, "next": cursor}))


async def _post_many(port: int, key: str, count: int, connections: int) -> int:
    """Send ``count`` job POSTs over ``connections`` keep-alive connections; how many got a 201."""
    post = request_bytes("POST", "/v0.4/jobs", key, JOB_BODY)
    left, created = [count], [0]

    async def one_connection() -> None:
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            while left[0] > 0:
                left[0] -= 1
                writer.write(post)
                status, _, _ = await _read_response(reader)
                created[0] += status == 201
        finally:
            writer.close()

    await asyncio.gather(*(one_connection() for _ in range(min(connections, count))))
    return created[0]


def seed(port: int, key: str, count: int, connections: int) -> Result:
    """POST ``count`` more jobs, as fast as the server takes them (the Python client)."""
    start = time.perf_counter()
    created = _runner()(_post_many(port, key, count, connections)) if count > 0 else 0
    return Result("POST /v0.4/jobs (seeding)", created, time.perf_counter() - start, count - created)


#: The list page shapes whose SQLite plans the report shows (the service's own statements).
PLAN_SHAPES = {
    "unfiltered, first page": {},
    "unfiltered, deep cursor": {"before_seq": 10},
    "children (parent_job_id)": {"parent_id": "p"},
    "session_id": {"session_id": "s"},
    "status=completed": {"statuses": ("completed",)},
    "status=queued (submitted, ready)": {"statuses": ("submitted", "ready")},
    "ids (3)": {"ids": ("a", "b", "c")},
}


def query_plans(database: Path) -> dict[str, list[str]]:
    """SQLite's ``EXPLAIN QUERY PLAN`` of each list page shape, on the benchmark's database."""
    import sqlite3

    try:
        from qharbor.store.jobs import page_query
    except ImportError:  # a qharbor without the per-shape page statements
        return {}
    from sqlalchemy.dialects import sqlite

    plans: dict[str, list[str]] = {}
    with sqlite3.connect(database) as conn:
        for name, shape in PLAN_SHAPES.items():
            stmt, params = page_query("project", limit=BENCH_PAGE + 1, **shape)  # type: ignore[arg-type]
            compiled = stmt.compile(dialect=sqlite.dialect())
            given = {**compiled.params, **params}
            values = [given[k] for k in compiled.positiontup or ()]
            plans[name] = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + str(compiled), values)]
    return plans


def job_count(database: Path) -> int:
    import sqlite3

    with sqlite3.connect(database) as conn:
        return int(conn.execute("SELECT count(*) FROM jobs").fetchone()[0])


def log_problems(log: Path) -> list[str]:
    """Lines of the server's output that look like errors."""
    marks = ("Traceback", "ERROR", "Error", "Exception", "exited with")
    return [line for line in log.read_text(errors="replace").splitlines() if any(m in line for m in marks)]


# --------------------------------------------------------------------------- the run

def run(args: argparse.Namespace) -> dict[str, object]:
    client = resolve_client(args.client)
    warmup, seconds = args.warmup, args.seconds
    if client == "wrk":   # what wrk will run: whole seconds
        warmup, seconds = wrk_seconds(warmup) if warmup > 0 else 0, wrk_seconds(seconds)
    common = dict(connections=args.connections, warmup=warmup, seconds=seconds)
    results: list[Result] = []
    notes: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="qharbor-bench-") as tmp:
        tmpdir = Path(tmp)
        data, server_log, hello_log = tmpdir / "data", tmpdir / "server.log", tmpdir / "hello.log"

        def cycle(name: str, port: int, paths: list[str], key: str) -> Result:
            """GET ``paths`` in turn (each connection from its own offset with the Python client)."""
            if client == "wrk":
                paths_file, lua = tmpdir / "paths.txt", tmpdir / "get.lua"
                paths_file.write_text("".join(f"{path}\n" for path in paths))
                lua.write_text(get_script(key, paths_file))
                return wrk_measure(name, port, paths[0], lua, **common)
            gets = [request_bytes("GET", path, key) for path in paths]
            step = max(len(gets) // args.connections, 1)
            return measure(name, port, lambda c: cycle_from(gets, c * step), **common)[0]

        # The ceiling runs beside the server under test, and is measured before the first read
        # and after each: every read is compared with the mean of the two measured around it,
        # which on a shared machine drifts far less than one measurement at the end would.
        hello_port = free_port()
        hello_cmd = [sys.executable, str(Path(__file__).resolve()), "--hello-server", str(hello_port)]

        def hello() -> Result:
            if client == "wrk":   # a static request, as before this benchmark measured lists
                return wrk_measure("hello world (Starlette)", hello_port, "/hello", None, **common)
            request = request_bytes("GET", "/hello")
            return measure("hello world (Starlette)", hello_port, lambda _: repeat(request), **common)[0]

        port = free_port()
        cmd = qharbor_serve(data, port, args.workers, "--log-level", "warning")
        with process(cmd, server_log) as proc, process(hello_cmd, hello_log) as hello_proc:
            wait_healthy(proc, port, server_log)
            wait_healthy(hello_proc, hello_port, hello_log)
            key = first_key(server_log)
            status, body = http("POST", port, "/v0.4/jobs", key, JOB_BODY)
            if status != 201:
                sys.exit(f"creating a job failed: {status} {body[:300]!r}")

            if client == "wrk":
                post_lua = tmpdir / "post.lua"
                post_lua.write_text(post_script(key))
                results.append(wrk_measure("POST /v0.4/jobs", port, "/v0.4/jobs", post_lua, **common))
            else:
                post = request_bytes("POST", "/v0.4/jobs", key, JOB_BODY)
                results.append(measure("POST /v0.4/jobs", port, lambda _: repeat(post), **common)[0])
            stored = job_count(data / "qharbor.db")   # the warmup's jobs too
            results.append(seed(port, key, args.jobs - stored, args.connections))
            ids = newest_job_ids(port, key)   # oldest first
            notes["jobs_for_get"] = len(ids)

            drained = wait_drained(port, key, ids[-1], args.drain_timeout)
            notes["queue_drain_s"] = None if drained is None else round(drained, 2)
            notes["jobs_in_database"] = job_count(data / "qharbor.db")
            reads = [("GET /v0.4/jobs/{id}", [f"/v0.4/jobs/{i}" for i in ids])]
            for version in ("v0.4", "v0.3"):
                paths = page_paths(port, key, version)
                notes[f"{version}_pages"] = len(paths)
                reads += [(f"GET /{version}/jobs?limit={BENCH_PAGE} (first page)", paths[:1]),
                          (f"GET /{version}/jobs?limit={BENCH_PAGE} (all pages)", paths)]
            hellos = [hello()]
            for name, paths in reads:
                results.append(cycle(name, port, paths, key))
                hellos.append(hello())
            server_running = proc.poll() is None
            notes["query_plans"] = query_plans(data / "qharbor.db")
        notes["server_problems"] = log_problems(server_log)[:20]
        if not server_running:
            notes["server_problems"].insert(0, f"server exited with {proc.returncode} during the run")

    ceilings = {name: (before.rps + after.rps) / 2
                for (name, _), before, after in zip(reads, hellos, hellos[1:])}
    targets = {"GET /v0.4/jobs/{id}": JOB_TARGET}
    return {
        "settings": {"client": client, "connections": args.connections, "seconds": seconds, "warmup": warmup,
                     "workers": args.workers if args.workers is not None else "default (one per core)",
                     "cpus": os.cpu_count(), "jobs": args.jobs},
        "results": [{**asdict(r), "rps": round(r.rps, 1)} for r in results],
        "hello_rps": [round(h.rps, 1) for h in hellos],
        "hello_errors": sum(h.errors for h in hellos),
        "ceilings": {name: round(c, 1) for name, c in ceilings.items()},
        "vs_hello": {r.name: round(r.rps / ceilings[r.name], 3) for r in results if ceilings.get(r.name)},
        "targets": {name: targets.get(name, LIST_TARGET) for name in ceilings},
        **notes,
    }


def print_table(report: dict[str, object]) -> None:
    s = report["settings"]
    assert isinstance(s, dict)
    print(f"client={s['client']}  connections={s['connections']}  seconds={s['seconds']}  "
          f"warmup={s['warmup']}  workers={s['workers']}  cpus={s['cpus']}")
    print(f"{'measurement':<44}{'req/s':>10}{'requests':>10}{'errors':>8}{'hello':>10}{'/ hello':>9}"
          f"{'target':>8}")
    results, ratios, targets = report["results"], report["vs_hello"], report["targets"]
    ceilings = report["ceilings"]
    assert isinstance(results, list) and isinstance(ratios, dict) and isinstance(targets, dict)
    assert isinstance(ceilings, dict)
    for r in results:
        name = r["name"]
        extra = f"{ceilings[name]:>10.1f}{ratios[name]:>8.2f}x{targets[name]:>7.2f}x" if name in ratios else ""
        print(f"{name:<44}{r['rps']:>10.1f}{r['requests']:>10}{r['errors']:>8}{extra}")
    hellos = report["hello_rps"]
    assert isinstance(hellos, list)
    print(f"hello world (Starlette), before the first read and after each: "
          f"{', '.join(f'{h:.0f}' for h in hellos)} req/s ({report['hello_errors']} errors); "
          f"each read's 'hello' is the mean of the two around it")
    missed = [name for name, share in ratios.items() if share < targets[name]]
    print(f"\n{'every read meets its target' if not missed else 'below target: ' + ', '.join(missed)}")
    print(f"jobs in the database: {report['jobs_in_database']}; cycled in GET: {report['jobs_for_get']}; "
          f"list pages: {report['v0.4_pages']} (v0.4), {report['v0.3_pages']} (v0.3); queue drained in "
          f"{report['queue_drain_s'] if report['queue_drain_s'] is not None else '> timeout'} s")
    plans = report["query_plans"]
    assert isinstance(plans, dict)
    if plans:
        print("\nSQLite query plans of the list page statement, per filter shape:")
        for name, lines in plans.items():
            print(f"  {name:<34}{' | '.join(lines)}")
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
    p.add_argument("--jobs", type=int, default=10_000,
                   help="jobs in the database for the reads: POSTs are added after the POST measurement "
                        "until there are this many (default 10,000)")
    p.add_argument("--drain-timeout", type=float, default=120.0,
                   help="longest wait for the created jobs to finish before the GET run (default 120)")
    p.add_argument("--client", choices=("auto", "wrk", "python"), default="auto",
                   help="load generator: wrk (preferred), the built-in python one, or auto = wrk when "
                        "installed (default auto)")
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
