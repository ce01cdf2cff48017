"""A soak on a real network: PostgreSQL, two APIs and three workers on their own hosts
(network namespaces, ``tests/netns.py``), jobs flowing from this process, while a worker
and an API are SIGKILLed, a worker's link is cut past the stale timeout, PostgreSQL
restarts and a worker is SIGSTOPped past the stale timeout (``tests/soak.py``).

Nothing accepted may be lost, stuck, failed, run twice, listed twice or answered with
another job's results, no qharbor process may exit on its own, and the worker that lived
through the link cut and the restart must still take jobs, unrestarted.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import netns
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
    print("slow jobs (ms):", soak.query("SELECT execution_duration_ms FROM jobs WHERE name LIKE 'soak-1048%'"))
    print(f"{outcome.accepted} jobs, {outcome.failovers} failovers, {outcome.retried} retried,"
          f" {outcome.discarded} fenced-off outcomes, settled in {outcome.settled_s:.1f} s")
    assert outcome.accepted == len(load.accepted) >= JOBS + soak.slow
    assert outcome.problems() == {}
    # The paused worker and the cut-off one each come back with a finished job that was given
    # to another meanwhile: both outcomes are fenced off, not stored.
    assert outcome.discarded >= 2
    assert set(soak.recovery) == {"worker SIGKILL", "API SIGKILL", "link cut", "PostgreSQL restart", "SIGSTOP"}

    # The worker whose link was cut and whose database restarted, never restarted, runs new
    # jobs on its own once the others are stopped.
    ran_by = soak.survivor_alone("w1", jobs=10, bound_s=60)
    assert survivor.popen is not None and survivor.popen.poll() is None and soak.workers["w1"] is survivor
    assert ran_by == ["w1"] * 10
    assert soak.exited_on_their_own() == []
