"""Retention: workers delete finished jobs older than QHARBOR_RETENTION_DAYS, never an
unfinished one, and the audit log keeps its entries."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from support import Server, bell, slow_job, wait_for


def test_finished_jobs_go_unfinished_ones_stay(tmp_path: Path) -> None:
    env = {"QHARBOR_RETENTION_DAYS": str(1.5 / 86400), "QHARBOR_WORKER_STALE_AFTER_S": "2",
           "QHARBOR_WORKER_HEARTBEAT_S": "0.2"}
    srv = Server(["--data-dir", str(tmp_path)], workers=1, env=env).start()
    try:
        with srv.client() as api:
            done = api.post("/jobs", json=bell()).json()["id"]
            wait_for(api, done)
            slow = api.post("/jobs", json=slow_job(rounds=60)).json()["id"]
            deadline = time.monotonic() + 30
            while api.get(f"/jobs/{done}").status_code == 200:
                assert time.monotonic() < deadline, "the finished job was never deleted"
                job = api.get(f"/jobs/{slow}")
                assert job.status_code == 200 or job.json().get("status") in ("completed", "failed")
                time.sleep(0.2)
            assert api.get(f"/jobs/{done}/results/probabilities").status_code == 404
            unfinished = api.get(f"/jobs/{slow}")
            assert unfinished.status_code == 200 and unfinished.json()["status"] in ("ready", "started")
        audit = httpx.get(srv.url + "/admin/v1/audit", params={"target": done},
                          headers={"Authorization": f"apiKey {srv.key}"}).json()["entries"]
        assert [e["action"] for e in audit] == ["job.create"]
        assert "retention: deleted 1 finished jobs" in srv.logs()
    finally:
        srv.stop()
