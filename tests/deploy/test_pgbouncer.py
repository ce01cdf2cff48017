"""qharbor through PgBouncer (README "At scale"), as it is: in session mode it works, notices
included (a worker is woken by the job's NOTIFY, not its 0.5 s re-check); in transaction mode
it does not: psycopg prepares a statement run five times on a connection, and PgBouncer
(before 1.21, or without ``max_prepared_statements``) hands the next transaction to a server
connection that lacks it, or already has one of that name, so requests fail."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from support import Postgres, Server, bell, free_port, wait_for

PGBOUNCER = shutil.which("pgbouncer") or (
    "/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None)
pytestmark = [pytest.mark.skipif(PGBOUNCER is None, reason="pgbouncer is not installed (apt-get install pgbouncer)"),
              pytest.mark.timeout(300)]


def version() -> tuple[int, ...]:
    out = subprocess.run([PGBOUNCER, "--version"], capture_output=True, text=True, check=False).stdout  # type: ignore[list-item]
    return tuple(int(x) for x in out.split()[1].split("."))


def bouncer(postgres: Postgres, mode: str, pool_size: int) -> Iterator[str]:
    """PgBouncer in ``mode`` before a fresh database; yields the URL through it."""
    url = postgres.new_database()
    name = url.rsplit("/", 1)[1]
    where = Path(tempfile.mkdtemp(prefix="qharbor-pgbouncer-"))
    port = free_port()
    (where / "users.txt").write_text('"postgres" ""\n')
    (where / "pgbouncer.ini").write_text(f"""[databases]
{name} = host=127.0.0.1 port={postgres.port} dbname={name}
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {where}/users.txt
pool_mode = {mode}
default_pool_size = {pool_size}
max_client_conn = 200
logfile = {where}/pgbouncer.log
pidfile = {where}/pgbouncer.pid
; qharbor's connections set statement_timeout in the startup packet (store/db.py)
ignore_startup_parameters = extra_float_digits,options
""")
    as_pg = []
    if os.geteuid() == 0:   # it refuses to run as root
        shutil.chown(where, "postgres")
        for f in where.iterdir():
            shutil.chown(f, "postgres")
        as_pg = ["runuser", "-u", "postgres", "--"]
    proc = subprocess.Popen([*as_pg, PGBOUNCER, str(where / "pgbouncer.ini")],  # type: ignore[list-item]
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, (where / "pgbouncer.log").read_text()
                time.sleep(0.1)
        yield f"postgresql://postgres@127.0.0.1:{port}/{name}"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
        shutil.rmtree(where, ignore_errors=True)


@pytest.fixture
def session_mode(postgres: Postgres) -> Iterator[str]:
    # Each client connection holds a server connection for its life: the pool must fit them all
    # (the API's pool and LISTEN, 3 per worker), or a process waits for one, here until timeouts.
    yield from bouncer(postgres, "session", 50)


@pytest.fixture
def transaction_mode(postgres: Postgres) -> Iterator[str]:
    yield from bouncer(postgres, "transaction", 4)


def test_session_mode_works_and_notices_wake_workers(session_mode: str) -> None:
    srv = Server(["--database", session_mode], workers=2).start()
    try:
        with srv.client() as c:
            ids = [c.post("/jobs", json=bell()).json()["id"] for _ in range(20)]
            for job_id in ids:
                assert wait_for(c, job_id)["status"] == "completed"
            waits = []
            for _ in range(5):   # one at a time: submit, long-poll until completed
                start = time.monotonic()
                job_id = c.post("/jobs", json=bell()).json()["id"]
                assert wait_for(c, job_id)["status"] == "completed"
                waits.append(time.monotonic() - start)
        assert sorted(waits)[2] < 0.25, waits   # woken by NOTIFY, not the 0.5 s re-check
    finally:
        srv.stop()


def test_transaction_mode_fails_on_prepared_statements(transaction_mode: str) -> None:
    if version() >= (1, 21):
        pytest.skip("PgBouncer 1.21+ can track prepared statements (max_prepared_statements): not tested here")
    srv = Server(["--database", transaction_mode], workers=2).start()   # clients at once: the API, workers
    try:
        with srv.client() as c:
            answers = []
            for _ in range(40):
                try:
                    answers.append(c.post("/jobs", json=bell()).status_code)
                except httpx.HTTPError as exc:
                    answers.append(type(exc).__name__)
        time.sleep(2)
        srv._drain()
        output = "".join(srv.output)
        assert 'prepared statement "_pg3_' in output, (answers, output[-3000:])
        # A POST failed, or a worker's database step failed on it (workers log and retry it).
        failed_steps = [line for line in output.splitlines()
                        if "prepared statement" in line and "trying again" in line]
        assert 500 in answers or failed_steps or "exited with" in output, answers
    finally:
        srv.stop()
