"""Backup and restore with jobs in flight (README "At scale"): ``pg_dump`` while a worker runs
a job and others wait, ``pg_restore`` into a new database, a worker started there: the job
that was running at dump time comes back as the job of a worker whose heartbeat is old, is
recovered as stale, and runs again; every job finishes."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from support import Postgres, Server, bell, postgres_tool, slow_job, start_worker, stop_worker, wait_for

pytestmark = pytest.mark.timeout(300)
TOOLS = {name: postgres_tool(name) for name in ("pg_dump", "pg_restore")}
STALE = {"QHARBOR_WORKER_STALE_AFTER_S": "3"}   # 30 s by default


def statuses(url: str) -> dict[str, int]:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        found = dict(conn.execute(sa.text("SELECT status, count(*) FROM jobs GROUP BY status")).all())
    engine.dispose()
    return found


@pytest.mark.skipif(None in TOOLS.values(), reason="pg_dump/pg_restore not found (apt-get install postgresql-client)")
def test_a_dump_taken_with_jobs_running_restores_and_finishes_them(postgres: Postgres, tmp_path: Path) -> None:
    source = postgres.new_database()
    api = Server(["--database", source], workers=0, env=STALE).start()
    worker = start_worker(["--database", source], tmp_path / "worker.log", STALE)
    try:
        with api.client() as c:
            running = c.post("/jobs", json=slow_job(rounds=48)).json()["id"]
            waiting = [c.post("/jobs", json=bell()).json()["id"] for _ in range(3)]
            wait_for(c, running, ("started",))
            # Frozen, the worker can neither finish the job nor beat: the dump is sure to hold it
            # running however fast this machine simulates (a fast CI machine once finished the
            # job during pg_dump).
            os.killpg(worker.pid, signal.SIGSTOP)
            dump = tmp_path / "qharbor.dump"
            subprocess.run([TOOLS["pg_dump"], "-h", "127.0.0.1", "-p", str(postgres.port), "-U", "postgres",
                            "--format=custom", "--file", str(dump), source.rsplit("/", 1)[1]],
                           check=True, capture_output=True, timeout=60)
            assert c.get(f"/jobs/{running}").json()["status"] == "started", "the dump must catch it running"
    finally:
        os.killpg(worker.pid, signal.SIGKILL)   # the source is done with: no need to finish the job
        worker.wait()
        api.stop()

    target = postgres.new_database()
    subprocess.run([TOOLS["pg_restore"], "-h", "127.0.0.1", "-p", str(postgres.port), "-U", "postgres",
                    "--no-owner", "--exit-on-error", "--dbname", target.rsplit("/", 1)[1], str(dump)],
                   check=True, capture_output=True, timeout=60)
    at_dump = statuses(target)
    assert at_dump.get("started") == 1 and sum(at_dump.values()) == 4, at_dump

    restored = Server(["--database", target], workers=0, env=STALE)
    restored.key = api.key   # the keys are in the dump
    restored.start()
    worker = start_worker(["--database", target], tmp_path / "restored-worker.log", STALE)
    try:
        with restored.client() as c:
            start = time.monotonic()
            for job_id in [running, *waiting]:
                job = wait_for(c, job_id, timeout=120)
                assert job["status"] == "completed", job
            assert c.get(f"/jobs/{running}/results/probabilities").json() == {"0": 1.0}
            assert time.monotonic() - start < 100
    finally:
        stop_worker(worker)
        restored.stop()
    engine = sa.create_engine(target.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        attempts = conn.execute(sa.text("SELECT attempts FROM jobs WHERE id = :i"), {"i": running}).scalar()
    engine.dispose()
    assert attempts == 2, "run once before the dump, once more after the restore"
