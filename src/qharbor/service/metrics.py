"""What an operator watches: Prometheus metrics and readiness.

Multi-process correctness: job, queue and worker metrics are computed from the database at
scrape time (``store/metrics.py``), so every API process reports the same, complete figures
whatever process or remote worker made them — no worker needs to be scraped, and nothing is
lost when a process restarts. HTTP metrics are counted in each API process and each process
is its own scrape target (one uvicorn process per ``qharbor serve``; Prometheus sums the
targets), which is what ``prometheus-client``'s multiprocess mode would otherwise be needed
for — it only covers processes on one host sharing a directory.

The histograms over jobs are cumulative over the jobs the database holds: retention deleting
old jobs lowers them, which Prometheus's ``rate()`` treats as a counter reset.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from ..store import metrics as store
from ..store.db import Database, reading
from ..store.schema import jobs

#: Seconds, for queue wait and run time.
BOUNDS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 600, 1800]


class DatabaseCollector(Collector):
    """Jobs by status and backend, queue wait and run time histograms, workers alive and their
    last heartbeats, read from the database on each scrape."""

    def __init__(self, db: Database, stale_after_s: float) -> None:
        self.db, self.stale_after_s = db, stale_after_s

    def collect(self) -> Iterator[Metric]:
        with reading(self.db.engine) as conn:
            counts = store.jobs_by_status(conn)
            waits = store.durations(conn, jobs.c.submitted_at, jobs.c.started_at, BOUNDS)
            runs = store.durations(conn, jobs.c.started_at, jobs.c.completed_at, BOUNDS)
            beats = store.worker_heartbeats(conn)
        g = GaugeMetricFamily("qharbor_jobs", "Top-level jobs the database holds, by status and backend.",
                              labels=["status", "backend"])
        for status, backend, n in counts:
            g.add_metric([status, backend], n)
        yield g
        for name, doc, rows in [
            ("qharbor_job_queue_wait_seconds", "From submission to a worker starting the job.", waits),
            ("qharbor_job_run_seconds", "From a worker starting the job to its end.", runs),
        ]:
            h = HistogramMetricFamily(name, doc, labels=["backend"])
            for backend, count, total, at_most in rows:
                buckets = [(_le(b), float(n)) for b, n in zip(BOUNDS, at_most, strict=True)] + [("+Inf", float(count))]
                h.add_metric([backend], buckets, total)
            yield h
        now = time.time()
        alive = GaugeMetricFamily("qharbor_workers_alive", "Workers whose heartbeat is recent.")
        alive.add_metric([], sum(1 for _, _, at in beats if at >= now - self.stale_after_s))
        yield alive
        last = GaugeMetricFamily("qharbor_worker_last_heartbeat_seconds", "Unix time of each worker's last "
                                 "heartbeat.", labels=["worker", "hostname"])
        for worker, host, at in beats:
            last.add_metric([worker, host], at)
        yield last


def _le(bound: float) -> str:
    return str(float(bound)) if not math.isinf(bound) else "+Inf"


def readiness(db: Database, stale_after_s: float) -> list[str]:
    """What keeps this API from serving: empty when the database answers, its schema is this
    code's newest, and at least one worker is alive."""
    try:
        with reading(db.engine) as conn:
            revision, alive = store.revision(conn), store.live_workers(conn, stale_after_s)
    except Exception as exc:  # noqa: BLE001 - any failure to read means "not ready"
        return [f"the database does not answer ({type(exc).__name__})"]
    missing = []
    if revision != store.head():
        missing.append(f"the database schema is at migration {revision}, this code needs {store.head()}")
    if alive == 0:
        missing.append(f"no worker has sent a heartbeat in the last {stale_after_s:g} s")
    return missing
