"""A soak on a real network: PostgreSQL, two APIs and three workers on their own hosts
(network namespaces, ``tests/netns.py``), jobs flowing from this process, while a worker
and an API are SIGKILLed, a worker's link is cut past the stale timeout, PostgreSQL
restarts, its host is cut off past the stale timeout, and a worker is SIGSTOPped past the stale
timeout (``tests/soak.py``).

Nothing accepted may be lost, stuck, failed, run twice, listed twice or answered with
another job's results, no qharbor process may exit on its own, and the worker that lived
through the link cut and the restart must still take jobs, unrestarted.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import netns
import pytest
from soak import Load, Soak
from support import postgres_available

pytestmark = pytest.mark.timeout(420)

JOBS, RATE = 200, 5.0  # at least JOBS, and more while the faults last
STALE_S = 5.0


@pytest.fixture
def soak(tmp_path: Path) -> Iterator[Soak]:
    """The cluster, torn down (processes, namespaces, bridge, PostgreSQL) whatever happens.
    Where namespaces cannot be made it skips, saying why; where ``QHARBOR_REQUIRE_NETNS``
    is set (CI) it fails instead, so no CI run passes without this soak."""
    netns.require(postgres_available())
    cluster = Soak(tmp_path, stale_s=STALE_S)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.close()


def test_soak_through_kills_a_cut_link_a_database_restart_and_a_paused_worker(soak: Soak) -> None:
    load = Load(soak.api_urls, soak.key, JOBS, RATE)
    flowing = threading.Thread(target=load.run, daemon=True)
    flowing.start()
    survivor = soak.workers["w1"]
    try:
        soak.faults(load, gap_s=2.0, cut_s=STALE_S + 5, pause_s=STALE_S + 3)
        assert load.done.wait(300), "the load never finished"
    finally:
        load.stop.set()
        flowing.join(60)
    outcome = soak.verify(load, bound_s=60)
    print("\nrecovery:", *(f"  {k}: {v}" for k, v in soak.recovery.items()), sep="\n")
    print(f"{outcome.accepted} jobs, {outcome.failovers} failovers, {outcome.retried} retried,"
          f" {outcome.discarded} fenced-off outcomes, settled in {outcome.settled_s:.1f} s")
    assert outcome.accepted == len(load.accepted) >= JOBS + soak.slow
    assert outcome.problems() == {}
    # The paused worker and the cut-off one each come back with a finished job that was given
    # to another meanwhile: both outcomes are fenced off, not stored.
    assert outcome.discarded >= 2
    # The killed, the cut-off and the paused worker each held a job, which ran again elsewhere.
    assert outcome.retried >= 3
    assert set(soak.recovery) == {"worker SIGKILL", "API SIGKILL", "link cut", "PostgreSQL restart",
                                  "database link cut", "SIGSTOP"}

    # The worker whose link was cut and whose database restarted, never restarted, runs new
    # jobs on its own once the others are stopped.
    ran_by = soak.survivor_alone("w1", jobs=10, bound_s=60)
    assert survivor.popen is not None and survivor.popen.poll() is None and soak.workers["w1"] is survivor
    assert ran_by == ["w1"] * 10
    assert soak.exited_on_their_own() == []


#: A worker's host, on its own: it claims a job, then its heartbeat transaction has updated
#: its row and not yet committed when the link goes (as a cut between two statements leaves it).
_CUT_MID_TRANSACTION = """
import sys, time
from qharbor.store import queue
from qharbor.store.db import Database
db = Database(sys.argv[1])
with db.begin() as conn:
    queue.register(conn, "cut-off", "gone", 1)
with db.begin() as conn:
    print(queue.claim(conn, "cut-off", batch=1)[0]["id"], flush=True)
with db.begin() as conn:
    queue.heartbeat(conn, "cut-off")
    print("in a transaction", flush=True)
    time.sleep(3600)
"""


@pytest.fixture
def bare(tmp_path: Path) -> Iterator[Soak]:
    """The hosts, PostgreSQL and one API; no workers."""
    netns.require(postgres_available())
    cluster = Soak(tmp_path, stale_s=STALE_S)
    try:
        cluster.start_postgres()
        cluster.start_api(0)
        cluster.wait_api(0, workers=False)
        yield cluster
    finally:
        cluster.close()


def test_a_worker_cut_off_mid_transaction_does_not_stop_recovery(bare: Soak, tmp_path: Path) -> None:
    """The cut-off worker's server session still holds its row locked (it never learns the
    client is gone unless it probes): every sweep's delete of the dead worker waited on it and
    timed out, so no job of any dead worker was recovered, until PostgreSQL itself notices."""
    load = Load(bare.api_urls, bare.key, 0, 1.0)
    job = load.one(7)
    log = tmp_path / "cut-off.log"
    ghost = bare.hosts[0].popen([sys.executable, "-c", _CUT_MID_TRANSACTION, bare.url], log)
    bare.watch(time.monotonic(), {"in a transaction": lambda: "in a transaction" in log.read_text()}, 60)
    assert log.read_text().split()[0] == job.id
    bare.hosts[0].cut()
    start = time.monotonic()
    worker = bare.start_worker(1, "w2")
    bare.wait_worker(worker)
    took = bare.watch(start, {"done": lambda: bare.finished([job.id])}, 45)["done"]
    print(f"\nthe cut-off worker's job done {took:.1f} s after the cut")
    [(status, by)] = bare.query("SELECT status, worker_id FROM jobs WHERE id = :i", i=job.id)
    assert (status, by) == ("completed", "w2")
    assert ghost.poll() is None and worker.popen is not None and worker.popen.poll() is None


def test_no_worker_is_judged_dead_for_the_database_being_cut_off(bare: Soak) -> None:
    """PostgreSQL's host cut off past the stale timeout: every worker lost it alike, so none
    is presumed dead for it once it is back. The first worker back used to sweep before the
    others had beaten again, and every job in hand ran twice. The stale timeout here is one
    a connection's own failure fits in (``tcp_user_timeout`` 15 s, then a beat)."""
    stale_s = 20.0
    bare.stale_s = stale_s
    for h in range(3):
        bare.start_worker(h, f"w{h + 1}")
    for proc in bare.workers.values():
        bare.wait_worker(proc)
    load = Load(bare.api_urls[:1] * 2, bare.key, 0, 4.0)
    load.keep_going.set()
    flowing = threading.Thread(target=load.run, daemon=True)
    flowing.start()
    try:
        bare.load = load
        again = bare.cut_database(stale_s + 4, bound_s=90)
        print("\n" + bare.recovery["database link cut"])
    finally:
        load.stop.set()
        flowing.join(60)
    assert again == 0
    assert bare.exited_on_their_own() == []
