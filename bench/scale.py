"""Scale-out on PostgreSQL: trivial jobs per second end to end, submit-to-completed latency,
the dispatch cost per job and the CPU each component spends per job, with 1, 2, 4 and 8
standalone worker processes.

What runs, all on this machine: a PostgreSQL server started here (``tests/support.py``'s
``Postgres``, with PostgreSQL's default durability: ``fsync`` and ``synchronous_commit`` on;
``--pg-option name=value`` adds settings), a fresh database per worker count, ``--apis`` API
processes (``qharbor serve --database URL --workers 0``) and N workers (``qharbor worker
--database URL``). The job is a Bell circuit, 100 shots (``bench/api.py``'s ``JOB_BODY``).

**Throughput and latency.** For each worker count, an open-loop load (asyncio, raw keep-alive
HTTP/1.1, ``--connections`` spread over the API processes) POSTs jobs at each rate of
``--rates`` in turn: job *i* is sent at ``t0 + i/rate`` whatever the answers before it did.
After ``--warmup`` seconds, ``--seconds`` are measured. A rate is *sustained* when the jobs
completed in the window are at least 95 % of it, the queue is empty within 5 s after it, and
nothing failed; the sweep stops at the first rate that is not. Latency (p50, p99) is
``completed_at - submitted_at`` of the jobs submitted in the window, from their records (both
stamped with this machine's clock, by the API and the worker); *queued* is the part before a
worker took the job. A client adds its POST's answer and its read of the outcome.

**Where the CPU goes.** CPU seconds (``/proc/<pid>/stat``) over the window, per component:
PostgreSQL (the postmaster and all its children), the API processes, the workers, this load
generator, and *other* (the rest of the machine's busy time, ``/proc/stat``: other work on a
shared machine), each divided by the jobs completed: CPU ms per job. The first three summed
are what one job costs the cluster; C cores bound it at C x 1000 / that sum jobs/s.

**Dispatch cost** (the probe, before the sweep): ``--probe-jobs`` jobs are queued, then this
process works them off one at a time through qharbor's own worker code (``Worker._next_jobs``,
``dispatch.worker.execute``), timing the claim transaction, the completion transaction (result
rows, status, ``NOTIFY``, commit) and the rest (decode, simulate, result JSON), with nothing
else running: costs, not queueing.

Run from the repository root::

    .venv/bin/python bench/scale.py                       # 1 2 4 8 workers
    .venv/bin/python bench/scale.py --workers 2 --rates 100 200 300 --seconds 5
    .venv/bin/python bench/scale.py --apis 2 --json scale.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from api import JOB_BODY, _read_response, _runner, request_bytes  # bench/ is on sys.path
from common import HOST, REPO, first_key, free_port, process, wait_healthy, wait_ready

sys.path.insert(0, str(REPO / "tests"))
from support import Postgres

QHARBOR = str(Path(sys.executable).parent / "qharbor")
SUSTAINED = 0.95      # completed/s at least this share of the offered rate ...
DRAIN_LIMIT_S = 5.0   # ... and the queue empty within this long after the window
TICK = os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------- CPU accounting

def cpu_by_pid() -> dict[int, tuple[int, float]]:
    """Every process: (parent pid, user + system CPU seconds so far)."""
    found = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                text = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            fields = text[text.rindex(")") + 2:].split()   # after "pid (comm) "
            found[int(entry.name)] = int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK
    return found


def machine_busy_s() -> float:
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:8]]
    return (sum(values) - values[3] - values[4]) / TICK   # all but idle and iowait


class CpuMeter:
    """CPU seconds per component between ``start()`` and ``stop()``."""

    def __init__(self, postmaster: int, groups: dict[str, list[int]]) -> None:
        self.postmaster, self.groups = postmaster, groups

    def _sample(self) -> dict[str, Any]:
        procs = cpu_by_pid()
        pg = [self.postmaster] + [pid for pid, (parent, _) in procs.items() if parent == self.postmaster]
        return {"pids": {name: {p: procs[p][1] for p in pids if p in procs}
                         for name, pids in {"pg": pg, **self.groups}.items()},
                "bench": time.process_time(), "machine": machine_busy_s(), "wall": time.monotonic()}

    def start(self) -> None:
        self._before = self._sample()

    def stop(self) -> dict[str, float]:
        after, before = self._sample(), self._before
        used = {name: sum(t - before["pids"][name].get(pid, 0.0) for pid, t in pids.items())  # new ones from 0
                for name, pids in after["pids"].items()}
        used.update({k: after[k] - before[k] for k in ("bench", "machine", "wall")})
        used["other"] = used["machine"] - sum(used.get(k, 0.0) for k in ("pg", "api", "workers", "bench"))
        return used


# --------------------------------------------------------------------------- load and measurement

async def _submit(ports: list[int], key: str, connections: int, rate: float, warmup: float, seconds: float,
                  meter: CpuMeter) -> tuple[float, float, list[str]]:
    """POST jobs at ``rate`` for warmup + seconds; the measured window (wall clock) and errors."""
    loop = asyncio.get_running_loop()
    post = request_bytes("POST", "/v0.4/jobs", key, JOB_BODY)
    t0 = loop.time() + 0.05
    t_measure, t_end = t0 + warmup, t0 + warmup + seconds
    slots, errors = iter(range(1 << 62)), []

    async def connection(c: int) -> None:
        reader, writer = await asyncio.open_connection(HOST, ports[c % len(ports)])
        try:
            while (slot := t0 + next(slots) / rate) < t_end:
                await asyncio.sleep(slot - loop.time())
                writer.write(post)
                status, body, _ = await _read_response(reader)
                if status != 201:
                    errors.append(f"HTTP {status}: {body[:200]!r}")
        finally:
            writer.close()

    async def window() -> None:
        await asyncio.sleep(t_measure - loop.time())
        meter.start()

    await asyncio.gather(window(), *(connection(c) for c in range(connections)))
    to_wall = time.time() - loop.time()
    return t_measure + to_wall, t_end + to_wall, errors


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def drained(conn, timeout: float) -> float | None:  # type: ignore[no-untyped-def]
    """Seconds until no job is queued or running; None past ``timeout``."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if not conn.execute("SELECT 1 FROM jobs WHERE status IN ('submitted', 'ready', 'started') LIMIT 1").fetchone():
            return time.monotonic() - start
        time.sleep(0.05)
    return None


def measure(conn, ports: list[int], key: str, workers: int, rate: float, args: argparse.Namespace,  # type: ignore[no-untyped-def]
            meter: CpuMeter) -> dict[str, Any]:
    start, end, errors = _runner()(_submit(ports, key, args.connections, rate, args.warmup, args.seconds, meter))
    cpu = meter.stop()
    drain = drained(conn, args.drain_timeout)
    completed = conn.execute("SELECT count(*) FROM jobs WHERE completed_at >= %s AND completed_at < %s",
                             (start, end)).fetchone()[0]
    jobs = conn.execute("SELECT submitted_at, started_at, completed_at, status FROM jobs"
                        " WHERE submitted_at >= %s AND submitted_at < %s", (start, end)).fetchall()
    done = [(s, b, c) for s, b, c, status in jobs if status == "completed"]
    errors += [f"{len(jobs) - len(done)} jobs did not complete"] if len(done) < len(jobs) else []
    per_s = completed / (end - start)
    p = lambda values, q: round(percentile(values, q), 1) if values else None
    return {
        "workers": workers, "rate": rate, "submitted_per_s": round(len(jobs) / (end - start), 1),
        "completed_per_s": round(per_s, 1),
        "sustained": per_s >= SUSTAINED * rate and drain is not None and drain <= DRAIN_LIMIT_S and not errors,
        "p50_ms": p([(c - s) * 1000 for s, _, c in done], 50), "p99_ms": p([(c - s) * 1000 for s, _, c in done], 99),
        "queued_p50_ms": p([(b - s) * 1000 for s, b, _ in done], 50), "drain_s": drain,
        "cpu_ms_per_job": {k: round(cpu[k] * 1000 / max(completed, 1), 2)
                           for k in ("pg", "api", "workers", "bench", "other")},
        "busy": round(cpu["machine"] / (cpu["wall"] * (os.cpu_count() or 1)), 2),
        "errors": len(errors), "first_error": errors[0] if errors else "",
    }


# --------------------------------------------------------------------------- the dispatch probe

def probe(pg: Postgres, url: str, post: Any, jobs: int, batch: int) -> dict[str, Any]:
    """Work off ``jobs`` queued jobs in this process, ``batch`` at most per claim (see the
    docstring); each claim's and completion's time is shared among the jobs it took."""
    from qharbor.dispatch.worker import Worker, execute
    from qharbor.settings import Settings
    from qharbor.store import queue

    post(jobs)
    settings = Settings(database_url=url, workers=1, engine_memory_bytes=1 << 30)
    worker = Worker(settings)
    commits: list[float] = []
    begin = worker.db.begin

    @contextmanager
    def timed_begin():  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        with begin() as conn:
            yield conn
        commits.append(time.perf_counter() - start)

    worker.db.begin = timed_begin  # type: ignore[method-assign]
    worker._warm_up()
    worker._register()
    meter = CpuMeter(int((pg.data / "postmaster.pid").read_text().split()[0]), {})
    claims, completions, rest = [], [], []
    meter.start()
    while True:
        start = time.perf_counter()
        with worker.db.begin() as conn:
            claimed = queue.claim(conn, worker.id, batch)
        if not claimed:
            break
        took = time.perf_counter()
        execute(worker.db, claimed, worker.id, settings)
        k = len(claimed)
        claims += [(took - start) / k] * k
        completions += [commits[-1] / k] * k
        rest += [(time.perf_counter() - took - commits[-1]) / k] * k
    cpu = meter.stop()
    worker._release()
    worker.db.dispose()
    n = len(claims)
    if n != jobs:
        sys.exit(f"probe: worked off {n} jobs of {jobs}")
    ms = lambda values: [round(percentile(values, q) * 1000, 2) for q in (50, 99)]
    return {"jobs": n, "batch": batch, "claim_ms": ms(claims), "complete_ms": ms(completions),
            "dispatch_ms": ms([a + b for a, b in zip(claims, completions)]), "simulate_ms": ms(rest),
            "pg_cpu_ms": round(cpu["pg"] * 1000 / n, 2), "worker_cpu_ms": round(cpu["bench"] * 1000 / n, 2)}


# --------------------------------------------------------------------------- the run

def start(stack: ExitStack, pg: Postgres, apis: int, workers: int, logs: Path) -> tuple[str, list[int], str, dict]:
    """A fresh database with ``apis`` API and ``workers`` worker processes: its URL, the API
    ports, the key, the pids of each kind."""
    url = pg.new_database()
    # No free-memory probing per worker; no per-key rate limit (the load is one key's).
    env = {"QHARBOR_ENGINE_MEMORY_BYTES": str(1 << 30), "QHARBOR_RATE_LIMIT": "off"}
    name = url.rsplit("/", 1)[1]
    ports: list[int] = []
    pids: dict[str, list[int]] = {"api": [], "workers": []}
    for i in range(apis):
        port, log = free_port(), logs / f"{name}-api-{i}.log"
        proc = stack.enter_context(process([QHARBOR, "serve", "--database", f"{url}?application_name=qharbor-api",
                                            "--workers", "0", "--port", str(port)], log, env))
        wait_healthy(proc, port, log)
        ports.append(port)
        pids["api"].append(proc.pid)
    started = [(stack.enter_context(process([QHARBOR, "worker", "--database",
                                             f"{url}?application_name=qharbor-worker"], log, env)), log)
               for log in (logs / f"{name}-worker-{i}.log" for i in range(workers))]
    for proc, log in started:
        wait_ready(proc, log, 1)
        pids["workers"].append(proc.pid)
    return url, ports, first_key(logs / f"{name}-api-0.log"), pids


def poster(port: int, key: str):  # type: ignore[no-untyped-def]
    async def post(n: int) -> None:
        reader, writer = await asyncio.open_connection(HOST, port)
        for _ in range(n):
            writer.write(request_bytes("POST", "/v0.4/jobs", key, JOB_BODY))
            status, body, _ = await _read_response(reader)
            if status != 201:
                sys.exit(f"POST failed: {status} {body[:200]!r}")
        writer.close()

    return lambda n: _runner()(post(n))


def run(args: argparse.Namespace) -> dict[str, Any]:
    settings = {"max_connections": "300", **dict(o.split("=", 1) for o in args.pg_option)}
    report: dict[str, Any] = {"date": time.strftime("%Y-%m-%d"), "cpus": os.cpu_count(), "apis": args.apis,
                              "pg_settings": settings, "load_before": os.getloadavg(), "rows": [],
                              "connections": {}, "problems": []}
    pg = Postgres(settings)
    try:
        with tempfile.TemporaryDirectory(prefix="qharbor-scale-") as tmp:
            import psycopg

            from qharbor.store.queue import BATCH

            logs = Path(tmp)
            if args.probe_jobs:
                with ExitStack() as stack:
                    url, ports, key, _ = start(stack, pg, 1, 0, logs)
                    report["probe"] = [probe(pg, url, poster(ports[0], key), args.probe_jobs, batch)
                                       for batch in (1, BATCH)]
                print(f"probe: {report['probe']}", file=sys.stderr)
            for n in args.workers:
                with ExitStack() as stack:
                    url, ports, key, pids = start(stack, pg, args.apis, n, logs)
                    conn = stack.enter_context(psycopg.connect(url, autocommit=True))
                    postmaster = int((pg.data / "postmaster.pid").read_text().split()[0])
                    meter = CpuMeter(postmaster, pids)
                    poster(ports[0], key)(n * 20)   # warm every worker up
                    drained(conn, 60)
                    for rate in args.rates:
                        row = measure(conn, ports, key, n, rate, args, meter)
                        report["rows"].append(row)
                        print(f"{n} workers, {rate:g}/s: {row['completed_per_s']} completed/s, p50 {row['p50_ms']} ms,"
                              f" p99 {row['p99_ms']} ms{'' if row['sustained'] else ' (not sustained)'}",
                              file=sys.stderr)
                        if not row["sustained"]:
                            break
                    report["connections"][n] = dict(conn.execute(
                        "SELECT application_name || CASE WHEN query LIKE 'LISTEN %%' THEN ' (LISTEN)' ELSE '' END,"
                        " count(*) FROM pg_stat_activity WHERE datname = current_database()"
                        " AND pid <> pg_backend_pid() GROUP BY 1 ORDER BY 1").fetchall())
            report["problems"] = [f"{log.name}: {line}" for log in sorted(logs.glob("*.log"))
                                  for line in log.read_text(errors="replace").splitlines()
                                  if any(m in line for m in ("Traceback", "ERROR", "exited with"))][:20]
    finally:
        pg.stop()
    return report


def print_tables(r: dict[str, Any]) -> None:
    print(f"{r['date']}: {r['cpus']} cores, {r['apis']} API process(es), PostgreSQL defaults + "
          f"{', '.join(f'{k}={v}' for k, v in r['pg_settings'].items())}; load average before "
          f"{', '.join(f'{x:.2f}' for x in r['load_before'])}\n")
    print("| workers | offered/s | completed/s | p50 | p99 | queued p50 | CPU ms/job: PG | API | workers | PG+API+workers "
          "| bound on this machine | load gen | other | busy |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for row in r["rows"]:
        c = row["cpu_ms_per_job"]
        cluster = c["pg"] + c["api"] + c["workers"]
        print(f"| {row['workers']} | {row['rate']:g}{'' if row['sustained'] else ' ✗'} | {row['completed_per_s']:g} "
              f"| {row['p50_ms']} ms | {row['p99_ms']} ms | {row['queued_p50_ms']} ms | {c['pg']:.2f} | {c['api']:.2f} "
              f"| {c['workers']:.2f} | {cluster:.2f} | {r['cpus'] * 1000 / cluster:.0f}/s | {c['bench']:.2f} "
              f"| {c['other']:.2f} | {row['busy'] * 100:.0f} % |")
    print("\n✗: not sustained (completed under 95 % of the rate, the queue not empty 5 s later, or errors).")
    if "probe" in r:
        print(f"\nDispatch cost per job, nothing else running ({r['probe'][0]['jobs']} jobs queued; a claim's and a"
              " completion's time shared among the jobs it took), p50 / p99:\n")
        print("| jobs per claim (at most) | claim | complete (results + status + NOTIFY + commit) | claim + complete "
              "| decode + simulate | PG CPU per job | worker CPU per job |\n|---|---|---|---|---|---|---|")
        for p in r["probe"]:
            print(" | ".join(["", str(p["batch"]), *(f"{a} / {b} ms" for a, b in (
                p["claim_ms"], p["complete_ms"], p["dispatch_ms"], p["simulate_ms"])),
                f"{p['pg_cpu_ms']} ms", f"{p['worker_cpu_ms']} ms", ""]).strip())
    print("\nConnections per database at the end (pg_stat_activity by application_name):")
    for n, roles in r["connections"].items():
        print(f"  {n} workers: " + ", ".join(f"{role} {count}" for role, count in roles.items()))
    for row in r["rows"]:
        if row["errors"]:
            print(f"errors, {row['workers']} workers at {row['rate']:g}/s: {row['errors']}; {row['first_error']}")
    for line in r["problems"]:
        print(f"process output: {line}")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4, 8], help="worker counts (default 1 2 4 8)")
    p.add_argument("--apis", type=int, default=1, help="API processes (default 1)")
    p.add_argument("--rates", type=float, nargs="+", default=[25, 50, 100, 150, 200, 250, 300, 400, 500],
                   help="offered jobs/s, in turn, up to the first not sustained (default 25 ... 500)")
    p.add_argument("--connections", type=int, default=32, help="load generator connections (default 32)")
    p.add_argument("--seconds", type=float, default=4.0, help="measured seconds per rate (default 4)")
    p.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds before each (default 1)")
    p.add_argument("--drain-timeout", type=float, default=60.0, help="longest wait for the queue to empty")
    p.add_argument("--probe-jobs", type=int, default=300, help="jobs for the dispatch probe; 0 skips it")
    p.add_argument("--pg-option", action="append", default=[], metavar="NAME=VALUE",
                   help="a PostgreSQL setting (repeatable), e.g. synchronous_commit=off")
    p.add_argument("--json", metavar="FILE", help="also write the report as JSON to FILE")
    args = p.parse_args(argv)
    report = run(args)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    print_tables(report)


if __name__ == "__main__":
    main()
