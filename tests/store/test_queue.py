"""Claiming: one job at a time, or a batch of light ones behind a light one (``store/queue.py``).

Jobs are submitted over HTTP to a real server without workers, so the rows are stored exactly
as the service stores them; then this process claims them with the queue's own statements and
runs them with the worker's own code, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support import Server, bell, database_url

from qharbor.dispatch import worker
from qharbor.settings import Settings
from qharbor.store import queue
from qharbor.store.db import Database

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(params=["sqlite", "postgres"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if request.param == "sqlite":
        storage = ["--data-dir", str(tmp_path_factory.mktemp("data"))]
    else:
        storage = ["--database", request.getfixturevalue("postgres").new_database()]
    srv = Server(storage, workers=0).start()
    yield srv
    srv.stop()


def _database(srv: Server) -> Database:
    return Database(database_url(srv.storage))


def _submit(srv: Server, *bodies: dict) -> list[str]:
    with srv.client() as api:
        return [api.post("/jobs", json=body).raise_for_status().json()["id"] for body in bodies]


def _claim(db: Database, batch: int = queue.BATCH) -> list[str]:
    with db.begin() as conn:
        return [job["id"] for job in queue.claim(conn, "w", batch)]


def _wide(qubits: int) -> dict:
    return bell(input={"gateset": "qis", "qubits": qubits, "circuit": [{"gate": "h", "target": qubits - 1}]})


#: Each one too heavy to run behind another in one claim, and what makes it so.
HEAVY = {
    "13 qubits": _wide(13),
    "20,000 shots": bell(shots=20_000),
    "a noise model": bell(noise={"model": "aria-1"}),
    "an emulated QPU": bell(backend="qpu.aria-1"),
    "a long program": bell(input={"gateset": "qis", "qubits": 2,
                                  "circuit": [{"gate": "rx", "target": 0, "rotation": 0.001}] * 400}),
    "several circuits": bell(type="ionq.multi-circuit.v1", input={"gateset": "qis", "qubits": 2, "circuits": [
        {"circuit": [{"gate": "h", "target": 0}]}, {"circuit": [{"gate": "x", "target": 1}]}]}),
}


def test_light_jobs_are_claimed_together_oldest_first(server: Server) -> None:
    # An explicit ideal model, with or without a seed, is as light as none.
    ids = _submit(server, bell(), _wide(12), bell(noise={"model": "ideal"}),
                  bell(noise={"model": "ideal", "seed": 7}), bell(shots=10_000))
    db = _database(server)
    try:
        assert _claim(db) == ids
        assert _claim(db) == []
    finally:
        db.dispose()


def test_a_claim_takes_at_most_a_batch(server: Server) -> None:
    ids = _submit(server, *[bell()] * (queue.BATCH + 3))
    db = _database(server)
    try:
        assert _claim(db) == ids[:queue.BATCH]
        assert _claim(db, batch=1) == ids[queue.BATCH:queue.BATCH + 1]
        assert _claim(db) == ids[queue.BATCH + 1:]
    finally:
        db.dispose()


@pytest.mark.parametrize("heavy", list(HEAVY))
def test_a_heavy_job_is_claimed_alone_and_keeps_its_turn(server: Server, heavy: str) -> None:
    first, _, light, heavy_id, last = _submit(server, bell(), HEAVY[heavy], bell(), HEAVY[heavy], bell())
    db = _database(server)
    try:
        # Behind a light job the light ones come along and the heavy ones are left in the queue ...
        assert _claim(db) == [first, light, last]
        # ... where each is next, alone.
        assert len(_claim(db)) == 1
        assert _claim(db) == [heavy_id]
        assert _claim(db) == []
    finally:
        db.dispose()


def test_nothing_rides_behind_a_heavy_job(server: Server) -> None:
    heavy, *light = _submit(server, HEAVY["13 qubits"], bell(), bell())
    db = _database(server)
    try:
        assert _claim(db) == [heavy]
        assert _claim(db) == light
    finally:
        db.dispose()


def test_a_batch_stores_each_outcome_and_skips_one_canceled_meanwhile(server: Server) -> None:
    ids = _submit(server, *[bell()] * 4)
    db = _database(server)
    try:
        with db.begin() as conn:
            claimed = queue.claim(conn, "w")
        assert [job["id"] for job in claimed] == ids
        with server.client() as api:
            assert api.put(f"/jobs/{ids[1]}/status/cancel").status_code == 200
        worker.execute(db, claimed, "w", Settings(database_url="sqlite://", engine_memory_bytes=1 << 30))
        with server.client() as api:
            jobs = [api.get(f"/jobs/{job_id}").json() for job_id in ids]
            assert [job["status"] for job in jobs] == ["completed", "canceled", "completed", "completed"]
            for job_id in (ids[0], ids[2], ids[3]):
                counts = api.get(f"/jobs/{job_id}/results/probabilities").json()
                assert set(counts) <= {"0", "3"} and abs(sum(counts.values()) - 1) < 1e-9
            assert api.get(f"/jobs/{ids[1]}/results/probabilities").status_code != 200
    finally:
        db.dispose()
