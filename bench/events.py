"""How soon ``GET /v0.4/jobs/events`` tells a client that its job finished.

    .venv/bin/python bench/events.py                      # SQLite in a fresh data directory
    .venv/bin/python bench/events.py --database postgresql://user@host/db   # an empty database
    .venv/bin/python bench/events.py --jobs 100

A real ``qharbor serve --workers 1``; one event stream open on its first key; then, one job
at a time, a Bell pair (100 shots) is submitted and the clock stops when the stream says
``completed`` for it. Timed: ``POST /v0.4/jobs`` → the stream's ``completed`` event, i.e.
submission, queueing, the run, storage, the completion notice and the stream's look.
"""

from __future__ import annotations

import argparse
import json
import signal
import statistics
import sys
import tempfile
import threading
import time
from http.client import HTTPConnection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import HOST, first_key, free_port, http, process, qharbor_serve, wait_healthy, wait_ready

BELL = json.dumps({"type": "ionq.circuit.v1", "backend": "simulator", "shots": 100, "input": {
    "gateset": "qis", "qubits": 2,
    "circuit": [{"gate": "h", "target": 0}, {"gate": "cnot", "control": 0, "target": 1}]}}).encode()


def follow(port: int, key: str, completed: dict[str, float]) -> None:
    conn = HTTPConnection(HOST, port)
    conn.request("GET", "/v0.4/jobs/events", headers={"Authorization": f"apiKey {key}"})
    response = conn.getresponse()
    event = None
    for raw in response:
        line = raw.decode().rstrip("\n")
        if line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:") and event == "job":
            job = json.loads(line[5:])
            if job["status"] == "completed":
                completed.setdefault(job["id"], time.perf_counter())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=30)
    parser.add_argument("--database", help="an empty PostgreSQL database (default: SQLite)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="qharbor-bench-events-"))
    port = free_port()
    log = work / "serve.log"
    cmd = qharbor_serve(work / "data", port, 1)
    if args.database:  # in place of the data directory
        at = cmd.index("--data-dir")
        cmd[at:at + 2] = ["--database", args.database]
    with process(cmd, log, stop=signal.SIGINT) as proc:
        wait_healthy(proc, port, log)
        wait_ready(proc, log, 1)
        key = first_key(log)
        completed: dict[str, float] = {}
        threading.Thread(target=follow, args=(port, key, completed), daemon=True).start()
        time.sleep(1.5)  # the stream is open (it reports what happens after it opened)
        took = []
        for i in range(args.jobs + 1):  # the first, a warm-up, is not counted
            started = time.perf_counter()
            status, body = http("POST", port, "/v0.4/jobs", key, BELL)
            assert status == 201, body
            job_id = json.loads(body)["id"]
            while job_id not in completed:
                if time.perf_counter() - started > 30:
                    sys.exit(f"no completed event for {job_id} after 30 s")
                time.sleep(0.0005)
            if i:
                took.append((completed[job_id] - started) * 1000)
    where = "PostgreSQL" if args.database else "SQLite"
    print(f"{where}: POST /v0.4/jobs -> 'completed' event: median {statistics.median(took):.1f} ms, "
          f"p90 {sorted(took)[int(len(took) * 0.9)]:.1f} ms, max {max(took):.1f} ms over {len(took)} jobs")


if __name__ == "__main__":
    main()
