"""Nothing accepted is lost: killed workers, restarts, and concurrent claiming."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from support import (
    QHARBOR,
    Server,
    bell,
    create_key,
    database_url,
    slow_job,
    start_worker,
    stop_worker,
    wait_for,
)

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(params=["sqlite", "postgres"])
def storage(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    if request.param == "sqlite":
        return ["--data-dir", str(tmp_path_factory.mktemp("data"))]
    return ["--database", request.getfixturevalue("postgres").new_database()]


def _runs(storage: list[str], job_id: str) -> tuple[int, int]:
    """(attempts, stored result documents) of a job, read from its database."""
    engine = sa.create_engine(database_url(storage))
    with engine.connect() as conn:
        attempts = conn.execute(sa.text("SELECT attempts FROM jobs WHERE id = :i"), {"i": job_id}).scalar()
        documents = conn.execute(sa.text("SELECT COUNT(*) FROM results WHERE job_id = :i"),
                                 {"i": job_id}).scalar()
    engine.dispose()
    return attempts, documents


def test_worker_killed_mid_job_is_replaced_and_the_job_completes(storage: list[str]) -> None:
    srv = Server(storage, workers=1).start()
    try:
        with srv.client() as api:
            job_id = api.post("/jobs", json=slow_job()).json()["id"]
            wait_for(api, job_id, ("started",))
            [victim] = srv.worker_pids()
            os.kill(victim, signal.SIGKILL)
            job = wait_for(api, job_id, timeout=120)
            assert job["status"] == "completed", job["failure"]
            assert api.get(f"/jobs/{job_id}/results/probabilities").json() == {"0": 1.0}
            assert srv.worker_pids() and victim not in srv.worker_pids()
        assert _runs(storage, job_id)[0] == 2
    finally:
        srv.stop()


def _standalone_worker(storage: list[str], stale_s: str, log: Path | None = None) -> subprocess.Popen[bytes]:
    env = {**os.environ, "QHARBOR_WORKER_STALE_AFTER_S": stale_s}
    env.pop("QHARBOR_SETTINGS", None)
    out = subprocess.DEVNULL if log is None else log.open("wb")
    return subprocess.Popen([*QHARBOR, "worker", *storage], env=env, start_new_session=True,
                            stdout=out, stderr=subprocess.STDOUT)


def test_dead_standalone_worker_is_detected_by_heartbeat(storage: list[str]) -> None:
    """No supervisor saw it die: another worker notices the silent heartbeat and requeues."""
    srv = Server(storage, workers=0).start()
    first = second = None
    try:
        with srv.client() as api:
            first = _standalone_worker(storage, "3")
            job_id = api.post("/jobs", json=slow_job()).json()["id"]
            wait_for(api, job_id, ("started",))
            first.kill()
            first.wait()
            second = _standalone_worker(storage, "3")
            job = wait_for(api, job_id, timeout=120)
            assert job["status"] == "completed", job["failure"]
    finally:
        for proc in (first, second):
            if proc and proc.poll() is None:
                proc.terminate()
                proc.wait(20)
        srv.stop()


def test_a_worker_back_from_the_dead_cannot_store_its_results(storage: list[str], tmp_path: Path) -> None:
    """A worker paused (SIGSTOP) past the stale timeout loses its job to another, which runs it
    to completion; resumed, the first finishes simulating and finds the job no longer its own
    (fenced by worker and attempt): its outcome is discarded and logged, and the job keeps the
    second run's results, completed once."""
    srv = Server(storage, workers=0).start()
    first_log = tmp_path / "first.log"
    first = _standalone_worker(storage, "3", first_log)
    second = None
    try:
        with srv.client() as api:
            wait_until = time.monotonic() + 60
            while b" ready: " not in first_log.read_bytes() and time.monotonic() < wait_until:
                time.sleep(0.1)
            job_id = api.post("/jobs", json=slow_job(rounds=32)).json()["id"]
            wait_for(api, job_id, ("started",))
            os.kill(first.pid, signal.SIGSTOP)
            second = _standalone_worker(storage, "3")
            job = wait_for(api, job_id, timeout=120)
            assert job["status"] == "completed", job["failure"]
            os.kill(first.pid, signal.SIGCONT)
            deadline = time.monotonic() + 120
            while b"was discarded" not in first_log.read_bytes() and time.monotonic() < deadline:
                time.sleep(0.2)
            assert b"was discarded" in first_log.read_bytes(), first_log.read_text()
            again = api.get(f"/jobs/{job_id}").json()
            assert again["status"] == "completed" and again["failure"] is None
            assert again["completed_at"] == job["completed_at"]  # the second run's outcome, untouched
            assert api.get(f"/jobs/{job_id}/results/probabilities").json() == {"0": 1.0}
        assert _runs(storage, job_id) == (2, 1)
    finally:
        for proc in (first, second):
            if proc and proc.poll() is None:
                os.kill(proc.pid, signal.SIGCONT)
                proc.terminate()
                proc.wait(20)
        srv.stop()


def test_jobs_queued_before_a_restart_run_after_it(storage: list[str]) -> None:
    srv = Server(storage, workers=0).start()
    with srv.client() as api:
        ids = [api.post("/jobs", json=bell()).json()["id"] for _ in range(5)]
    key = srv.key
    srv.stop()
    again = Server(storage, workers=2).start()
    try:
        assert again.key == ""  # a key exists, so none is printed again
        with again.client(key) as api:
            assert {wait_for(api, i)["status"] for i in ids} == {"completed"}
    finally:
        again.stop()


def test_each_job_is_claimed_by_exactly_one_worker(storage: list[str], tmp_path: Path) -> None:
    """Four workers (two supervised, two standalone), all taking jobs, race for 120 jobs: each
    runs once, and every worker wins some (the race is real)."""
    srv = Server(storage, workers=2).start()
    extra = [start_worker(storage, tmp_path / f"worker-{i}.log", {"QHARBOR_SETTINGS": ""}) for i in range(2)]
    try:
        with srv.client(create_key(storage)) as api:
            ids = [api.post("/jobs", json=bell()).json()["id"] for _ in range(120)]
            assert {wait_for(api, i)["status"] for i in ids} == {"completed"}
        engine = sa.create_engine(database_url(storage))
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT attempts, worker_id FROM jobs")).all()
            results = conn.execute(sa.text("SELECT COUNT(*) FROM results")).scalar()
        engine.dispose()
        assert len(rows) == 120 and {a for a, _ in rows} == {1} and results == 120
        assert len({w for _, w in rows}) == 4, "a worker claimed nothing"
    finally:
        for proc in extra:
            stop_worker(proc)
        srv.stop()


def test_lifecycle_shows_ready_while_waiting_for_a_busy_worker(storage: list[str]) -> None:
    srv = Server(storage, workers=1).start()
    try:
        with srv.client() as api:
            # Long enough for a heartbeat (every 2 s) to admit the waiting job even on a loaded machine.
            slow = api.post("/jobs", json=slow_job(rounds=32)).json()["id"]
            wait_for(api, slow, ("started",))
            waiting = api.post("/jobs", json=bell()).json()["id"]
            seen = [wait_for(api, waiting, ("ready", "started", "completed"))["status"]]
            seen.append(wait_for(api, waiting)["status"])
            assert seen == ["ready", "completed"]
            assert wait_for(api, slow)["status"] == "completed"
    finally:
        srv.stop()


def test_a_job_that_keeps_killing_its_worker_fails_after_max_attempts(tmp_path: Path) -> None:
    """A job whose worker dies each time it runs it (as one killed for lack of memory would)
    is not retried forever: after ``QHARBOR_MAX_ATTEMPTS`` deaths it fails with a message
    saying so, and the service goes on running other jobs."""
    srv = Server(["--data-dir", str(tmp_path)], workers=1, env={"QHARBOR_MAX_ATTEMPTS": "2"}).start()
    try:
        with srv.client() as api:
            job_id = api.post("/jobs", json=slow_job(rounds=80)).json()["id"]
            for attempt in (1, 2):
                wait_for(api, job_id, ("started",), timeout=120)
                [victim] = srv.worker_pids()
                os.kill(victim, signal.SIGKILL)
                deadline = time.monotonic() + 60
                while victim in srv.worker_pids() or not srv.worker_pids():  # replaced by the supervisor
                    assert time.monotonic() < deadline
                    time.sleep(0.1)
                if attempt == 1:  # requeued, and runs again on the new worker
                    assert api.get(f"/jobs/{job_id}").json()["status"] in ("ready", "started")
            job = wait_for(api, job_id, ("failed",), timeout=60)
            assert job["failure"]["code"] == "SimulationError"
            assert "stopped unexpectedly 2 times" in job["failure"]["error"]
            assert wait_for(api, api.post("/jobs", json=bell()).json()["id"])["status"] == "completed"
    finally:
        srv.stop()


def test_a_worker_killed_inside_its_completion_leaves_the_job_to_run_again(
        postgres, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """SIGKILL while the completion transaction is open (held at its result insert by a table
    lock): nothing of it is stored, the job is recovered from the dead worker and completes
    once on another, with one set of results."""
    url = postgres.new_database()
    storage = ["--database", url]
    srv = Server(storage, workers=0).start()
    env = {"QHARBOR_SETTINGS": "", "QHARBOR_WORKER_STALE_AFTER_S": "3"}
    first = start_worker(storage, tmp_path / "first.log", env)
    second = None
    engine = sa.create_engine(database_url(storage))
    try:
        with srv.client() as api, engine.connect() as lock:
            lock.execute(sa.text("LOCK TABLE results IN EXCLUSIVE MODE"))  # reads pass, inserts wait
            job_id = api.post("/jobs", json=bell()).json()["id"]
            with engine.connect() as probe:
                deadline = time.monotonic() + 60
                while True:
                    waiting = probe.execute(sa.text(
                        "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                        " AND query LIKE 'INSERT INTO results%'")).first()
                    # PostgreSQL reads pg_stat_activity once per transaction: a probe that
                    # stayed in its first one never saw the insert arrive (a CI failure).
                    probe.rollback()
                    if waiting:
                        break
                    assert time.monotonic() < deadline, "the completion never reached its insert"
                    time.sleep(0.05)
            os.kill(first.pid, signal.SIGKILL)
            first.wait()
            lock.rollback()  # the lock goes; the dead worker's transaction is already gone
            assert api.get(f"/jobs/{job_id}").json()["status"] == "started"  # nothing of it stored
            second = start_worker(storage, tmp_path / "second.log", env)
            job = wait_for(api, job_id, timeout=120)
            assert job["status"] == "completed", job["failure"]
            probabilities = api.get(f"/jobs/{job_id}/results/probabilities").json()
            assert probabilities == pytest.approx({"0": 0.5, "3": 0.5})
        assert _runs(storage, job_id) == (2, 1)
    finally:
        engine.dispose()
        for proc in (first, second):
            if proc is not None:
                stop_worker(proc)
        srv.stop()
