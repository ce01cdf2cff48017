"""A database outage is waited out, never fatal: PostgreSQL stopped and started again under a
running API and a standalone worker. Each test has its own cluster, since it stops it."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from support import (
    Postgres,
    Server,
    bell,
    create_key,
    postgres_available,
    slow_job,
    start_worker,
    stop_worker,
    wait_for,
)

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def cluster() -> Iterator[Postgres]:
    """A cluster of the test's own, since it stops it."""
    reason = postgres_available()
    if reason:
        if os.environ.get("QHARBOR_REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL is required here but missing: {reason}")
        pytest.skip(reason)
    pg = Postgres()
    yield pg
    pg.stop()


@pytest.fixture
def hosts(cluster: Postgres, tmp_path: Path) -> Iterator[tuple[str, Server, subprocess.Popen[bytes], Path]]:
    """An API process (no workers) and a standalone worker on the cluster: (url, API, worker, its log)."""
    url = cluster.new_database()
    srv = Server(["--database", url], workers=0).start()
    log = tmp_path / "worker.log"
    worker = start_worker(["--database", url], log, {"QHARBOR_SETTINGS": ""})
    try:
        yield url, srv, worker, log
    finally:
        stop_worker(worker)
        srv.stop()


def _until(check, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.2)


def _ready(srv: Server) -> bool:
    try:
        return httpx.get(srv.url + "/ready", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def test_api_and_worker_outlive_a_database_outage(cluster: Postgres, hosts) -> None:  # type: ignore[no-untyped-def]
    """While PostgreSQL is down the API answers 503 with Retry-After and its JSON error body,
    /ready says not ready, /health still answers; once it is back, both resume by themselves:
    the same worker process, never restarted, runs the next job."""
    url, srv, worker, log = hosts
    key = create_key(["--database", url])
    with srv.client(key) as api:
        assert wait_for(api, api.post("/jobs", json=bell()).json()["id"])["status"] == "completed"
        assert _ready(srv)

        cluster.pg_ctl("stop")
        r = api.get("/jobs")
        assert r.status_code == 503, r.text
        assert r.headers["retry-after"].isdigit()
        assert r.json()["statusCode"] == 503 and "database" in r.json()["message"]
        assert api.post("/jobs", json=bell()).status_code == 503
        assert httpx.get(srv.url + "/ready", timeout=10).status_code == 503
        assert httpx.get(srv.url + "/health", timeout=10).status_code == 200
        time.sleep(4)  # the worker's looks, heartbeats and LISTEN all fail meanwhile

        cluster.pg_ctl("start")
        _until(lambda: _ready(srv))
        job = wait_for(api, api.post("/jobs", json=bell()).json()["id"], timeout=60)
        assert job["status"] == "completed", job
        probabilities = api.get(f"/jobs/{job['id']}/results/probabilities").json()
        assert probabilities == pytest.approx({"0": 0.5, "3": 0.5})
    assert worker.poll() is None, log.read_text()
    assert srv.proc is not None and srv.proc.poll() is None
    assert b"the database is unavailable" in log.read_bytes()


def test_the_job_in_hand_is_stored_once_the_database_returns(cluster: Postgres, hosts) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL restarts while a worker simulates: the worker keeps its outcome until the
    database answers, then stores it (one attempt, not a rerun); SIGTERM then stops it with 0."""
    url, srv, worker, log = hosts
    key = create_key(["--database", url])
    with srv.client(key) as api:
        job_id = api.post("/jobs", json=slow_job(rounds=32)).json()["id"]
        wait_for(api, job_id, ("started",))
        cluster.pg_ctl("stop")
        # Past the simulation: the finished job waits in the worker's memory, its store retried.
        _until(lambda: b"storing job" in log.read_bytes(), timeout=180)
        cluster.pg_ctl("start")
        _until(lambda: _ready(srv))
        job = wait_for(api, job_id, timeout=90)
        assert job["status"] == "completed", job
        assert api.get(f"/jobs/{job_id}/results/probabilities").json() == {"0": 1.0}
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT attempts FROM jobs WHERE id = :i"), {"i": job_id}).scalar() == 1
    engine.dispose()
    worker.terminate()
    assert worker.wait(30) == 0
