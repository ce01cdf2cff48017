"""Real processes for tests: a PostgreSQL cluster and qharbor servers, driven over HTTP."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

QHARBOR = [sys.executable, "-m", "qharbor"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_cli(*args: str, env: dict[str, str] | None = None) -> str:
    out = subprocess.run([*QHARBOR, *args], capture_output=True, text=True, timeout=60,
                         env={**os.environ, **(env or {})})
    assert out.returncode == 0, out.stderr
    return out.stdout


def create_key(storage: list[str], name: str = "test", project: str | None = None) -> str:
    extra = ["--project", project] if project else []
    return run_cli("keys", "create", "--name", name, *extra, *storage).strip().splitlines()[-1]


def database_url(storage: list[str]) -> str:
    """The SQLAlchemy URL of a server's store (``["--data-dir", d]`` or ``["--database", url]``)."""
    if storage[0] == "--data-dir":
        return f"sqlite:///{storage[1]}/qharbor.db"
    return storage[1].replace("postgresql://", "postgresql+psycopg://")


def postgres_tool(name: str) -> str | None:
    """A PostgreSQL server program: on PATH, or where Debian keeps them
    (``/usr/lib/postgresql/<version>/bin``, the newest version)."""
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
                      key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    return str(versions[-1]) if versions else None


class Postgres:
    """A throwaway PostgreSQL cluster, run as the ``postgres`` user (initdb refuses root).
    ``settings`` replace the defaults for tests (no fsync; bench/scale.py keeps it)."""

    def __init__(self, settings: dict[str, str] | None = None) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="qharbor-pg-"))
        self.port = free_port()
        self._n = 0
        as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self._as_pg = as_pg
        shutil.chown(self.dir, "postgres") if os.geteuid() == 0 else None
        data = self.dir / "data"
        self.settings = settings if settings is not None else {"fsync": "off", "max_connections": "300"}
        self._pg_ctl = postgres_tool("pg_ctl") or "pg_ctl"
        subprocess.run([*as_pg, postgres_tool("initdb") or "initdb", "-D", str(data), "-U", "postgres",
                        "--auth=trust", "-E", "UTF8"], check=True, capture_output=True)
        self.data = data
        self.pg_ctl("start")

    def new_database(self) -> str:
        """A fresh, empty database; returns its URL."""
        self._n += 1
        name = f"qharbor_{self._n}"
        subprocess.run([postgres_tool("psql") or "psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-c",
                        f"CREATE DATABASE {name}"], check=True, capture_output=True)
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def pg_ctl(self, action: str, mode: str = "fast") -> None:
        """Start, stop or restart the server, always on its same port and settings (tests make
        outages with it as an operator would)."""
        options = f"-p {self.port} -k {self.dir} -h 127.0.0.1 " + " ".join(f"-c {k}={v}" for k, v in self.settings.items())
        extra = ["-l", str(self.dir / "log"), "-o", options]
        subprocess.run([*self._as_pg, self._pg_ctl, "-D", str(self.data), "-w", "-m", mode,
                        *(extra if action != "stop" else []), action], check=True, capture_output=True)

    def stop(self) -> None:
        subprocess.run([*self._as_pg, self._pg_ctl, "-D", str(self.data), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


def postgres_available() -> str | None:
    """Why PostgreSQL tests cannot run here, or None if they can."""
    for tool in ("initdb", "pg_ctl", "psql"):
        if postgres_tool(tool) is None:
            return f"{tool} not found on PATH or in /usr/lib/postgresql/*/bin"
    return None


@dataclass
class Server:
    """``qharbor serve`` in a subprocess, on its own port and database."""

    storage: list[str]  # ["--data-dir", d] or ["--database", url]
    workers: int = 2
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    key: str = ""
    proc: subprocess.Popen[str] | None = None
    output: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        self.proc = subprocess.Popen(
            [*QHARBOR, "serve", "--port", str(self.port), "--workers", str(self.workers), *self.storage],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, **self.env}, start_new_session=True,
        )
        assert self.proc.stdout is not None
        os.set_blocking(self.proc.stdout.fileno(), False)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            self._drain()
            if self.proc.poll() is not None:
                raise RuntimeError("server exited:\n" + "".join(self.output))
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise RuntimeError("server did not become healthy:\n" + "".join(self.output))
        while "".join(self.output).count(" ready: ") < self.workers:  # warmed up, taking jobs
            if time.monotonic() > deadline + 60:
                raise RuntimeError("workers did not become ready:\n" + "".join(self.output))
            time.sleep(0.05)
            self._drain()
        self._drain()
        printed = re.search(r"Created the first API key.*\n\s+(\S+)", "".join(self.output))
        if printed:
            self.key = printed.group(1)
        return self

    def _drain(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        try:
            while chunk := self.proc.stdout.read():
                self.output.append(chunk)
        except (BlockingIOError, TypeError):
            pass

    def logs(self) -> str:
        """Everything the server (API and workers) has written so far."""
        self._drain()
        return "".join(self.output)

    def new_key(self, name: str = "test", project: str | None = None) -> str:
        """A fresh member key (its own user; a new project unless ``project``), made through the
        admin API with the server's first key: a request, where ``create_key``'s CLI process
        costs seconds of start-up per test. Without the first key (a server restarted on its
        store), through the CLI."""
        if not self.key:
            return create_key(self.storage, name, project)
        made = httpx.post(self.url + "/admin/v1/keys", json={"name": name, "project_id": project},
                          headers={"Authorization": f"apiKey {self.key}"}, timeout=30)
        assert made.status_code == 201, made.text
        return made.json()["secret"]

    def client(self, key: str | None = None, **headers: str) -> httpx.Client:
        auth = {"Authorization": f"apiKey {key or self.key}"}
        return httpx.Client(base_url=self.url + "/v0.4", headers={**auth, **headers}, timeout=30)

    def worker_pids(self) -> list[int]:
        assert self.proc is not None
        out = subprocess.run(["pgrep", "-f", "-s", str(self.proc.pid), "qharbor worker"],
                             capture_output=True, text=True).stdout
        return [int(p) for p in out.split()]

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.proc and self.proc.poll() is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)  # any worker left behind
            except ProcessLookupError:
                pass


def wait_for(client: httpx.Client, job_id: str, statuses: tuple[str, ...] = ("completed", "failed", "canceled"),
             timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/jobs/{job_id}").json()
        if job["status"] in statuses:
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} stuck in {job['status']}")
        time.sleep(0.02)


def run_job(client: httpx.Client, body: dict) -> dict:
    """Submit a job, wait for it, and return it completed (failing the test otherwise)."""
    response = client.post("/jobs", json=body)
    assert response.status_code == 201, response.text
    job = wait_for(client, response.json()["id"])
    assert job["status"] == "completed", job["failure"]
    return job


def slow_job(qubits: int = 23, rounds: int = 24) -> dict:
    """A few seconds of simulation that ends in |0...0>: ladders of cnots up and back down,
    which gate fusion cannot collapse (neighbouring cnots share one qubit only), after a T
    gate (a phase on |0>) that makes it no Clifford circuit, which a stabilizer tableau would
    finish at once. It must outlast the 2 s long poll of ``GET /jobs/{id}``, or ``wait_for``
    never sees it started. Cache tiles (``engine/tiles.py``) run its ladders about twice as
    fast as one pass per gate did: 23 qubits and 12 rounds took 9 s on the 2-core development
    machine at load average 4 before them, 4.8 s at load 3 after (16 rounds: 5.9 s), so the
    default is 24 rounds; tests that need longer ask for more."""
    ladder = [{"gate": "cnot", "control": q, "target": q + 1} for q in range(qubits - 1)]
    gates = [{"gate": "t", "target": 0}] + (ladder + ladder[::-1]) * rounds
    body = bell()
    body["input"] = {"gateset": "qis", "qubits": qubits, "circuit": gates}
    return body


def bell(**extra: object) -> dict:
    body = {
        "type": "ionq.circuit.v1",
        "backend": "simulator",
        "shots": 100,
        "input": {"gateset": "qis", "qubits": 2,
                  "circuit": [{"gate": "h", "target": 0}, {"gate": "cnot", "control": 0, "target": 1}]},
    }
    body.update(extra)
    return body


def start_worker(storage: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """A standalone ``qharbor worker`` (output in ``log``), returned once it takes jobs."""
    with log.open("ab") as out:
        proc = subprocess.Popen([*QHARBOR, "worker", *storage], env={**os.environ, **(env or {})},
                                start_new_session=True, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while " ready: " not in log.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_worker(proc)
            raise RuntimeError("worker did not become ready:\n" + log.read_text(errors="replace"))
        time.sleep(0.05)
    return proc


def stop_worker(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM (it finishes the job in hand), SIGKILL after 30 s."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
