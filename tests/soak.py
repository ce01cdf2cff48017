"""A qharbor cluster on a real network, under load, through faults (the test's and the bench's).

Hosts (``netns.py``): ``db`` (PostgreSQL), ``api1``/``api2`` (``qharbor serve --workers 0``)
and ``w1``..``w3`` (``qharbor worker``). The caller's process, in the root namespace,
submits jobs over the bridge, alternating APIs and failing over to the other on any
error, while :meth:`Soak.faults` kills, cuts, pauses and restarts things the way machines
fail. Each job is an X gate on the bits of its own number, so its one right answer is
that number's basis state with probability 1, and a result given to the wrong job shows.
:meth:`Soak.verify` then checks the database and both APIs.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from netns import Host, Network, wait_port
from support import postgres_tool

QHARBOR = [sys.executable, "-m", "qharbor"]
QUBITS = 10
PG_PORT, API_PORT = 5432, 8000
#: A slow job's width and rounds: a second or more of simulation, so a fault can catch one in hand.
SLOW_QUBITS, SLOW_ROUNDS = 20, 6
SLOW_FIRST = 1 << 20  # slow jobs' numbers start here (their outcome: the low QUBITS bits)


def program(value: int, slow: bool = False) -> dict[str, Any]:
    """A job whose only outcome is ``value``'s basis state: X on each of its set bits. A slow
    one first runs cnot ladders up and back down after a T gate (identity on |0...0>, but
    neither fusable nor Clifford, so it takes a while, as in ``test_recovery.slow_job``)."""
    gates = [{"gate": "x", "target": q} for q in range(QUBITS) if value >> q & 1]
    qubits = QUBITS
    if slow:
        qubits = SLOW_QUBITS
        ladder = [{"gate": "cnot", "control": q, "target": q + 1} for q in range(qubits - 1)]
        gates = [{"gate": "t", "target": 0}, *(ladder + ladder[::-1]) * SLOW_ROUNDS, *gates]
    return {"type": "ionq.circuit.v1", "backend": "simulator", "shots": 10, "name": f"soak-{value}",
            "input": {"gateset": "qis", "qubits": qubits, "circuit": gates}}


def expected(value: int) -> dict[str, float]:
    return {str(value % (1 << QUBITS)): 1.0}


@dataclass
class Outcome:
    """What a soak found; every list should be empty."""

    accepted: int = 0
    failovers: int = 0
    settled_s: float = 0.0
    unasked: int = 0
    discarded: int = 0
    retried: int = 0
    lost: list[str] = field(default_factory=list)
    stuck: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    listing: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)
    exited: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)

    def problems(self) -> dict[str, list[str]]:
        names = ("lost", "stuck", "failed", "duplicates", "listing", "wrong", "exited", "server_errors")
        return {n: getattr(self, n) for n in names if getattr(self, n)}


def listed(url: str, key: str, limit: int = 1000) -> dict[str, int]:
    """How many times each job appears paging the whole list (``limit``/``next``) at ``url``."""
    seen: dict[str, int] = {}
    cursor = None
    with httpx.Client(base_url=url + "/v0.4", headers={"Authorization": f"apiKey {key}"}, timeout=60) as api:
        while True:
            params = {"limit": limit, **({"next": cursor} if cursor else {})}
            page = api.get("/jobs", params=params)
            page.raise_for_status()
            body = page.json()
            for job in body["jobs"]:
                seen[job["id"]] = seen.get(job["id"], 0) + 1
            cursor = body.get("next")
            if not cursor:
                return seen


def wrong_results(urls: list[str], key: str, jobs: list[Accepted], threads: int = 4) -> list[str]:
    """Jobs whose results, read through the API that did not accept them, are not their own."""
    wrong: list[str] = []

    def check(part: list[Accepted]) -> None:
        clients = [httpx.Client(base_url=u + "/v0.4", headers={"Authorization": f"apiKey {key}"}, timeout=60)
                   for u in urls]
        for job in part:
            got = clients[1 - job.api].get(f"/jobs/{job.id}/results/probabilities")
            if got.status_code != 200 or got.json() != expected(job.value):
                wrong.append(f"{job.id} (job {job.value}): {got.status_code} {got.text[:100]}")
        for c in clients:
            c.close()

    pool = [threading.Thread(target=check, args=(jobs[i::threads],)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return wrong


@dataclass
class Proc:
    """A qharbor process on a host; ``killed`` marks one the soak itself ended."""

    name: str
    host: Host
    argv: list[str]
    log: Path
    env: dict[str, str]
    popen: subprocess.Popen[bytes] | None = None
    killed: bool = False

    def start(self) -> Proc:
        self.popen = self.host.popen(self.argv, self.log, self.env)
        return self

    def signal(self, sig: int) -> None:
        assert self.popen is not None
        if sig in (signal.SIGKILL, signal.SIGTERM):
            self.killed = True
        os.kill(self.popen.pid, sig)

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@dataclass
class Accepted:
    id: str
    value: int
    api: int  # which API (0 or 1) accepted it
    at: float


@dataclass
class Load:
    """Submits jobs at ``rate`` per second, alternating APIs, until ``total`` are accepted and
    ``keep_going`` is clear (the faults are over: recovering from them needs jobs to watch)."""

    urls: list[str]
    key: str
    total: int
    rate: float
    first: int = 0  # the first job's number
    accepted: list[Accepted] = field(default_factory=list)
    failovers: int = 0
    server_errors: list[str] = field(default_factory=list)  # 5xx other than 503: defects
    client_errors: list[str] = field(default_factory=list)  # 4xx: defects too
    done: threading.Event = field(default_factory=threading.Event)
    keep_going: threading.Event = field(default_factory=threading.Event)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        clients = [httpx.Client(base_url=u + "/v0.4", headers={"Authorization": f"apiKey {self.key}"},
                                timeout=httpx.Timeout(10, connect=3)) for u in self.urls]
        start = time.monotonic()
        try:
            n = 0
            while (n < self.total or self.keep_going.is_set()) and not self.stop.is_set():
                delay = start + n / self.rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                self._submit(clients, self.first + n)
                n += 1
        finally:
            for c in clients:
                c.close()
            self.done.set()

    def one(self, n: int, slow: bool = False) -> Accepted:
        """Submit job ``n`` now (from any thread), as the load does."""
        clients = [httpx.Client(base_url=u + "/v0.4", headers={"Authorization": f"apiKey {self.key}"},
                                timeout=httpx.Timeout(10, connect=3)) for u in self.urls]
        try:
            return self._submit(clients, n, slow)
        finally:
            for c in clients:
                c.close()

    def _submit(self, clients: list[httpx.Client], n: int, slow: bool = False) -> Accepted:
        api = n % len(clients)
        for attempt in range(600):
            try:
                r = clients[api].post("/jobs", json=program(n, slow))
            except httpx.HTTPError as exc:
                why = f"{type(exc).__name__}"
            else:
                if r.status_code in (200, 201):
                    job = Accepted(r.json()["id"], n, api, time.time())
                    self.accepted.append(job)
                    return job
                why = f"{r.status_code} {r.text[:200]}"
                if r.status_code != 503:
                    (self.server_errors if r.status_code >= 500 else self.client_errors).append(why)
                    if r.status_code < 500:
                        raise RuntimeError(f"job {n} was refused: {why}")
            self.failovers += 1
            api = (api + 1) % len(clients)
            time.sleep(min(0.05 * (attempt + 1), 1.0))
        raise RuntimeError(f"job {n} was never accepted")


class Soak:
    """The cluster: start it, load it, fault it, verify it, tear it down (:meth:`close`)."""

    def __init__(self, workdir: Path, stale_s: float = 5.0) -> None:
        self.workdir = workdir
        self.stale_s = stale_s
        self.net = Network()
        self.pg_dir = Path(tempfile.mkdtemp(prefix="qharbor-soak-pg-"))
        self.procs: list[Proc] = []
        self.recovery: dict[str, str] = {}  # fault: what recovering took, in words
        self.engine: sa.Engine | None = None
        try:
            self.db = self.net.host("db")
            self.apis = [self.net.host("api1"), self.net.host("api2")]
            self.hosts = [self.net.host(f"w{i}") for i in (1, 2, 3)]
        except BaseException:
            self.close()
            raise
        self.url = f"postgresql://postgres@{self.db.ip}:{PG_PORT}/qharbor"
        self.api_urls = [f"http://{h.ip}:{API_PORT}" for h in self.apis]
        self.api_procs: list[Proc] = []
        self.workers: dict[str, Proc] = {}  # worker id -> process, the current one per host
        self.key = ""
        self.load: Load | None = None
        self.slow = 0  # slow jobs submitted

    # -- starting ---------------------------------------------------------------------------

    def _pg(self, *args: str) -> subprocess.CompletedProcess[str]:
        as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        ctl = postgres_tool("pg_ctl") or "pg_ctl"
        return self.db.run([*as_pg, ctl, "-D", str(self.pg_dir / "data"), "-l", str(self.pg_dir / "log"),
                            "-w", *args], check=True)

    def start_postgres(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.pg_dir, "postgres")
        as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*as_pg, postgres_tool("initdb") or "initdb", "-D", str(self.pg_dir / "data"),
                        "-U", "postgres", "--auth=trust", "-E", "UTF8"], check=True, capture_output=True)
        with (self.pg_dir / "data" / "pg_hba.conf").open("a") as hba:
            hba.write("host all all 0.0.0.0/0 trust\n")
        self._pg("-o", f"-p {PG_PORT} -k {self.pg_dir} -h {self.db.ip} -c fsync=off -c max_connections=300",
                 "start")
        subprocess.run([postgres_tool("psql") or "psql", "-h", self.db.ip, "-p", str(PG_PORT), "-U", "postgres",
                        "-c", "CREATE DATABASE qharbor"], check=True, capture_output=True, timeout=60)
        out = subprocess.run([*QHARBOR, "keys", "create", "--name", "soak", "--database", self.url],
                             capture_output=True, text=True, timeout=120, check=True)
        self.key = out.stdout.strip().splitlines()[-1]
        self.engine = sa.create_engine(self.url.replace("postgresql://", "postgresql+psycopg://"),
                                       pool_pre_ping=True, connect_args={"connect_timeout": 5})

    def _env(self) -> dict[str, str]:
        """The qharbor processes' environment: this one's, with the short stale timeout, and
        without settings handed down to a worker of ``qharbor serve`` (none are here)."""
        env = {k: v for k, v in os.environ.items() if k != "QHARBOR_SETTINGS"}
        return {**env, "QHARBOR_WORKER_STALE_AFTER_S": str(self.stale_s), "PYTHONUNBUFFERED": "1"}

    def start_api(self, i: int) -> Proc:
        argv = [*QHARBOR, "serve", "--database", self.url, "--workers", "0", "--host", "0.0.0.0",
                "--port", str(API_PORT), "--log-level", "warning"]
        proc = Proc(f"api{i + 1}", self.apis[i], argv, self.workdir / f"api{i + 1}.log", self._env()).start()
        self.procs.append(proc)
        if i < len(self.api_procs):
            self.api_procs[i] = proc
        else:
            self.api_procs.append(proc)
        return proc

    def wait_api(self, i: int, timeout: float = 90, workers: bool = True) -> None:
        """Until API ``i`` is ready; with ``workers=False``, ready but for having no live worker
        (``/ready`` also asks for one) — for clusters that start their workers later."""
        wait_port(self.apis[i].ip, API_PORT, timeout)
        deadline = time.monotonic() + timeout
        while not self._is_ready(i, workers):
            assert time.monotonic() < deadline, f"api{i + 1} never ready"
            time.sleep(0.1)

    def _is_ready(self, i: int, workers: bool) -> bool:
        r = httpx.get(self.api_urls[i] + "/ready", timeout=5)
        if r.status_code == 200:
            return True
        return not workers and r.status_code == 503 and r.json()["message"].startswith("not ready: no worker")

    def start_worker(self, host: int, worker_id: str) -> Proc:
        argv = [*QHARBOR, "worker", "--database", self.url, "--worker-id", worker_id]
        proc = Proc(worker_id, self.hosts[host], argv, self.workdir / f"{worker_id}.log", self._env()).start()
        self.procs.append(proc)
        self.workers = {w: p for w, p in self.workers.items() if p.host is not proc.host}
        self.workers[worker_id] = proc
        return proc

    def wait_worker(self, proc: Proc, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while " ready: " not in proc.text():
            assert proc.popen is not None and proc.popen.poll() is None, f"{proc.name} exited:\n{proc.text()}"
            assert time.monotonic() < deadline, f"{proc.name} never ready:\n{proc.text()}"
            time.sleep(0.1)

    def start(self) -> None:
        """PostgreSQL, then both APIs and three workers (``w1``, ``w2``, ``w3``), all ready."""
        self.start_postgres()
        for i in range(2):
            self.start_api(i)
        started = [self.start_worker(h, f"w{h + 1}") for h in range(3)]
        for proc in started:
            self.wait_worker(proc)
        for i in range(2):
            self.wait_api(i)  # ready: it also needs a live worker

    # -- reading the database ------------------------------------------------------------------

    def query(self, sql: str, **params: Any) -> list[Any]:
        """Rows of ``sql``, retried while the database is out of reach (it may be restarting)."""
        assert self.engine is not None
        for attempt in range(120):
            try:
                with self.engine.connect() as conn:
                    return list(conn.execute(sa.text(sql), params))
            except sa.exc.OperationalError:
                if attempt == 119:
                    raise
                time.sleep(0.5)
        raise AssertionError("unreachable")

    def held_by(self, worker_id: str) -> list[str]:
        return [r[0] for r in self.query("SELECT id FROM jobs WHERE status = 'started' AND worker_id = :w",
                                         w=worker_id)]

    def watch(self, start: float, checks: dict[str, Callable[[], bool]], bound_s: float,
              until: float | None = None, seen: dict[str, float] | None = None) -> dict[str, float]:
        """Seconds from ``start`` (monotonic) until each check first held (those in ``seen``
        are not polled again), polling them all; fails naming those that never held within
        ``bound_s`` -- or, given ``until`` (monotonic), returns what held by then."""
        when = dict(seen or {})
        while len(when) < len(checks):
            for name, check in checks.items():
                if name not in when and check():
                    when[name] = time.monotonic() - start
            if until is not None and time.monotonic() >= until:
                break
            missing = [n for n in checks if n not in when]
            assert not missing or time.monotonic() - start < bound_s, f"not within {bound_s:.0f} s: {missing}"
            time.sleep(0.1)
        return when

    def finished(self, ids: list[str]) -> bool:
        """Whether every job of ``ids`` has reached an outcome."""
        return not ids or self.query("SELECT COUNT(*) FROM jobs WHERE id = ANY(:ids)"
                                     " AND status IN ('completed', 'failed')", ids=list(ids))[0][0] == len(ids)

    def completes_after(self, worker_id: str, since: float) -> bool:
        """Whether ``worker_id`` completed a job it took after ``since`` (epoch seconds)."""
        return self.query("SELECT COUNT(*) FROM jobs WHERE worker_id = :w AND status = 'completed'"
                          " AND started_at > :t", w=worker_id, t=since)[0][0] > 0

    # -- faults ----------------------------------------------------------------------------------

    def faults(self, load: Load, gap_s: float, cut_s: float, pause_s: float, bound_s: float = 120) -> None:
        """Every fault in turn, ``gap_s`` apart, while ``load`` flows, each waited out until the
        cluster has recovered from it (what that took goes in :attr:`recovery`). Before each,
        the worker it hits is made to hold a slow job, so each fault catches work in hand.
        ``w1`` is never restarted: its link is cut, the database restarts and is cut off under it."""
        self.load = load
        load.keep_going.set()
        try:
            for fault in (lambda: self.kill_worker(bound_s), lambda: self.kill_api(bound_s),
                          lambda: self.cut_link("w1", cut_s, bound_s), lambda: self.restart_postgres(bound_s),
                          lambda: self.cut_database(cut_s, bound_s), lambda: self.pause_worker("w3", pause_s, bound_s)):
                time.sleep(gap_s)
                fault()
                name, took = list(self.recovery.items())[-1]
                print(f"{time.strftime('%H:%M:%S')} {name}: {took}", flush=True)
        finally:
            load.keep_going.clear()

    def hold(self, worker_id: str, bound_s: float = 60) -> str:
        """Submit slow jobs (each waited for until it starts) until ``worker_id`` runs one;
        busy workers take no more, so a few suffice. Returns that job's id."""
        assert self.load is not None, "faults() sets the load"
        for _ in range(8):
            self.slow += 1
            job = self.load.one(SLOW_FIRST + self.slow, slow=True)
            deadline = time.monotonic() + bound_s
            while True:
                [(status, worker)] = self.query("SELECT status, worker_id FROM jobs WHERE id = :i", i=job.id)
                if status != "submitted" and status != "ready":
                    break
                assert time.monotonic() < deadline, f"slow job {job.id} never started"
                time.sleep(0.05)
            if status == "started" and worker == worker_id:
                return job.id
        raise AssertionError(f"{worker_id} never took a slow job")

    def kill_worker(self, bound_s: float) -> None:
        """SIGKILL ``w2`` mid-load and start a replacement at once (as systemd would)."""
        old = next(w for w, p in self.workers.items() if p.host is self.hosts[1])
        victim = self.workers[old]
        self.hold(old)
        start, stamp = time.monotonic(), time.time()
        victim.signal(signal.SIGKILL)
        victim.popen.wait()  # type: ignore[union-attr]
        held = self.held_by(old)
        new = self.start_worker(1, f"w2-{int(stamp)}")
        t = self.watch(start, {"held": lambda: self.finished(held),
                               "ready": lambda: " ready: " in new.text(),
                               "working": lambda: self.completes_after(new.name, stamp)}, bound_s)
        self.recovery["worker SIGKILL"] = (f"{len(held)} held job(s) done {t['held']:.1f} s after the kill;"
                                           f" replacement ready {t['ready']:.1f} s, completing jobs"
                                           f" {t['working']:.1f} s after it")

    def kill_api(self, bound_s: float) -> None:
        """SIGKILL ``api2`` (the load fails over to ``api1``) and restart it at once."""
        start = time.monotonic()
        self.api_procs[1].signal(signal.SIGKILL)
        self.api_procs[1].popen.wait()  # type: ignore[union-attr]
        self.start_api(1)
        self.wait_api(1, bound_s)
        self.recovery["API SIGKILL"] = f"restarted API ready {time.monotonic() - start:.1f} s after the kill"

    def cut_link(self, worker_id: str, cut_s: float, bound_s: float) -> None:
        """Cut a worker's host off for ``cut_s`` (past the stale timeout), then restore it:
        its jobs go to others meanwhile, and it takes jobs again afterwards, unrestarted."""
        host = self.workers[worker_id].host
        self.hold(worker_id)
        start = time.monotonic()
        host.cut()
        time.sleep(0.5)  # a claim in flight when the link went lands in the table or never
        held = self.held_by(worker_id)
        # Its jobs go to other workers while it is cut off (it is presumed dead).
        checks: dict[str, Callable[[], bool]] = {
            "taken": lambda: not set(held) & set(self.held_by(worker_id)),
            "held": lambda: self.finished(held)}
        t = self.watch(start, checks, cut_s, until=start + cut_s)
        assert "taken" in t, f"the jobs {worker_id} held stayed its own through a {cut_s:.0f} s cut"
        time.sleep(max(cut_s - (time.monotonic() - start), 0))
        host.restore()
        restored, stamp = time.monotonic(), time.time()
        checks["back"] = lambda: self.completes_after(worker_id, stamp)
        t = self.watch(start, checks, cut_s + bound_s, seen=t)
        self.recovery["link cut"] = (f"{cut_s:.0f} s cut of {worker_id}; its {len(held)} job(s) requeued"
                                     f" {t['taken']:.1f} s and done {t['held']:.1f} s after the cut began;"
                                     f" {worker_id} completing jobs again {t['back'] - (restored - start):.1f} s"
                                     " after the restore")

    def restart_postgres(self, bound_s: float) -> None:
        """``pg_ctl restart -m fast`` under load; every worker must complete jobs after it."""
        in_hand = self.hold("w1")
        start = time.monotonic()
        self._pg("-m", "fast", "restart")
        restarted, stamp = time.monotonic() - start, time.time()
        checks: dict[str, Callable[[], bool]] = {
            f"api{i + 1}": (lambda i=i: self._ready(i)) for i in range(2)}  # type: ignore[misc]
        checks["in hand"] = lambda: self.finished([in_hand])
        for worker_id in self.workers:
            checks[worker_id] = lambda w=worker_id: self.completes_after(w, stamp)  # type: ignore[misc]
        t = self.watch(start, checks, bound_s)
        self.recovery["PostgreSQL restart"] = (
            f"restart took {restarted:.1f} s; APIs ready {max(t['api1'], t['api2']):.1f} s, the job w1 had in"
            f" hand done {t['in hand']:.1f} s, every worker completing jobs"
            f" {max(t[w] for w in self.workers):.1f} s after it began")

    def cut_database(self, cut_s: float, bound_s: float) -> int:
        """Cut the database's host off for ``cut_s`` (past the stale timeout), then restore it;
        returns how many jobs ran a second time for it. Every worker lost it alike, so none
        should be judged dead for it -- given a stale timeout longer than a connection takes
        to fail and return (``tcp_user_timeout``, then a beat): with the soak's short one, a
        worker whose connection is still failing may be, and its job runs again (fenced)."""
        in_hand = self.hold("w1")
        rerun = self.query("SELECT COUNT(*) FROM jobs WHERE attempts > 1")[0][0]
        start = time.monotonic()
        self.db.cut()
        time.sleep(cut_s)
        self.db.restore()
        restored, stamp = time.monotonic(), time.time()
        checks: dict[str, Callable[[], bool]] = {
            f"api{i + 1}": (lambda i=i: self._ready(i)) for i in range(len(self.api_procs))}  # type: ignore[misc]
        checks["in hand"] = lambda: self.finished([in_hand])
        for worker_id in self.workers:
            checks[worker_id] = lambda w=worker_id: self.completes_after(w, stamp)  # type: ignore[misc]
        t = self.watch(restored, checks, bound_s)
        again = self.query("SELECT COUNT(*) FROM jobs WHERE attempts > 1")[0][0] - rerun
        self.recovery["database link cut"] = (
            f"{cut_s:.0f} s cut of PostgreSQL's host; APIs ready"
            f" {max(v for k, v in t.items() if k.startswith('api')):.1f} s, the job w1"
            f" had in hand done {t['in hand']:.1f} s, every worker completing jobs"
            f" {max(t[w] for w in self.workers):.1f} s after the restore (cut {restored - start:.0f} s);"
            f" {again} job(s) ran again")
        return int(again)

    def _ready(self, i: int) -> bool:
        try:
            return httpx.get(self.api_urls[i] + "/ready", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def pause_worker(self, worker_id: str, pause_s: float, bound_s: float) -> None:
        """SIGSTOP a worker past the stale timeout, then SIGCONT it: its jobs go to others,
        what it finishes of them is discarded, and it takes jobs again."""
        proc = self.workers[worker_id]
        self.hold(worker_id)
        start = time.monotonic()
        proc.signal(signal.SIGSTOP)
        held = self.held_by(worker_id)
        checks: dict[str, Callable[[], bool]] = {"held": lambda: self.finished(held)}
        t = self.watch(start, checks, pause_s, until=start + pause_s)
        time.sleep(max(pause_s - (time.monotonic() - start), 0))
        proc.signal(signal.SIGCONT)
        resumed, stamp = time.monotonic(), time.time()
        t = self.watch(start, checks, pause_s + bound_s, seen=t)
        back = self.watch(resumed, {"back": lambda: self.completes_after(worker_id, stamp)}, bound_s)["back"]
        self.recovery["SIGSTOP"] = (f"{pause_s:.0f} s stopped; {len(held)} held job(s) done elsewhere"
                                    f" {t['held']:.1f} s after the stop; {worker_id} completing jobs again"
                                    f" {back:.1f} s after SIGCONT")

    # -- checking --------------------------------------------------------------------------------

    def survivor_alone(self, survivor: str, jobs: int, bound_s: float) -> list[str]:
        """Stop every other worker (SIGTERM), submit ``jobs`` more, and return who ran each:
        a worker that lived through the faults unrestarted must still take jobs."""
        for worker_id, proc in self.workers.items():
            if worker_id != survivor:
                proc.signal(signal.SIGTERM)
                proc.popen.wait(60)  # type: ignore[union-attr]
        load = Load(self.api_urls, self.key, jobs, rate=50, first=1 << QUBITS)
        load.run()
        ids = [a.id for a in load.accepted]
        self.watch(time.monotonic(), {"done": lambda: self.finished(ids)}, bound_s)
        return [r[0] for r in self.query("SELECT worker_id FROM jobs WHERE id = ANY(:ids)", ids=ids)]

    def verify(self, load: Load, bound_s: float) -> Outcome:
        """Wait up to ``bound_s`` for every job to reach an outcome, then check it all."""
        accepted = {a.id: a for a in load.accepted}
        out = Outcome(accepted=len(accepted), failovers=load.failovers,
                      server_errors=list(load.server_errors + load.client_errors))
        found = {r[0] for r in self.query("SELECT id FROM jobs WHERE id = ANY(:ids)", ids=list(accepted))}
        out.lost = sorted(set(accepted) - found)
        start = time.monotonic()
        while True:
            rows = self.query("SELECT id, status FROM jobs WHERE parent_id IS NULL")
            open_ = [i for i, st in rows if st not in ("completed", "failed", "canceled")]
            if not open_ or time.monotonic() - start > bound_s:
                break
            time.sleep(0.2)
        out.settled_s = time.monotonic() - start
        out.stuck = open_
        out.failed = [i for i, st in rows if st in ("failed", "canceled")]
        out.unasked = len(rows) - len(found)  # accepted, but the answer was lost (a retried submission)
        # Completed once: one result document per completed job, and PostgreSQL never refused a
        # second one (results' primary key is (job, kind)); fenced-off runs are counted.
        out.duplicates = [r[0] for r in self.query(
            "SELECT j.id FROM jobs j LEFT JOIN results r ON r.job_id = j.id AND r.kind = 'probabilities'"
            " WHERE j.status = 'completed' GROUP BY j.id HAVING COUNT(r.job_id) <> 1")]
        pg_log = (self.pg_dir / "log").read_text(errors="replace")
        out.duplicates += [line for line in pg_log.splitlines() if "duplicate key" in line]
        out.discarded = sum(p.text().count("was discarded") for p in self.procs)
        out.retried = self.query("SELECT COUNT(*) FROM jobs WHERE attempts > 1")[0][0]
        for i, url in enumerate(self.api_urls):
            seen = listed(url, self.key)
            twice = [j for j, n in seen.items() if n > 1]
            missing = [j for j in accepted if j not in seen]
            if twice or missing:
                out.listing.append(f"api{i + 1}: {len(twice)} listed twice, {len(missing)} not listed")
        out.wrong = wrong_results(self.api_urls, self.key, list(accepted.values()))
        out.exited = self.exited_on_their_own()
        return out

    def exited_on_their_own(self) -> list[str]:
        """Processes that ended without the soak ending them, with their logs' tails."""
        return [f"{p.name} (exit {p.popen.returncode}):\n{p.text()[-3000:]}" for p in self.procs
                if p.popen is not None and p.popen.poll() is not None and not p.killed]

    def close(self) -> None:
        """Stop everything and remove the network; safe after any failure, and twice."""
        for p in self.procs:
            if p.popen is not None and p.popen.poll() is None:
                try:
                    os.kill(p.popen.pid, signal.SIGCONT)
                    os.kill(p.popen.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.popen.wait()
        if self.engine is not None:
            self.engine.dispose()
        if (self.pg_dir / "data").exists():
            as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
            subprocess.run([*as_pg, postgres_tool("pg_ctl") or "pg_ctl", "-D", str(self.pg_dir / "data"),
                            "-m", "immediate", "stop"], capture_output=True)
        self.net.close()
        shutil.rmtree(self.pg_dir, ignore_errors=True)
