"""The operator's view: ``/metrics`` (Prometheus), ``/ready`` and JSON logs."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from support import Server, bell, start_worker, stop_worker, wait_for


def scrape(server: Server) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    r = httpx.get(server.url + "/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(r.text) for s in family.samples}


def test_metrics_count_requests_by_route_and_jobs_by_status(server: Server, api: httpx.Client) -> None:
    job = api.post("/jobs", json=bell()).json()["id"]
    wait_for(api, job)
    api.get("/jobs/no-such-job")
    found = scrape(server)
    route = (("method", "GET"), ("route", "/v0.4/jobs/{id}"), ("status", "404"))
    assert found[("qharbor_http_requests_total", route)] >= 1
    assert found[("qharbor_http_request_duration_seconds_count", route[:2])] >= 2
    assert found[("qharbor_jobs", (("backend", "simulator"), ("status", "completed")))] >= 1
    wait = found[("qharbor_job_queue_wait_seconds_count", (("backend", "simulator"),))]
    assert wait == found[("qharbor_job_queue_wait_seconds_bucket", (("backend", "simulator"), ("le", "+Inf")))]
    assert found[("qharbor_job_run_seconds_count", (("backend", "simulator"),))] >= 1
    assert found[("qharbor_workers_alive", ())] == server.workers
    assert not any(name == "qharbor_http_requests_total" and ("route", "/v0.4/jobs/" + job) in labels
                   for name, labels in found)


@pytest.mark.parametrize("two_apis", [{}], indirect=True)
def test_every_api_process_reports_the_shared_figures(two_apis: list[Server], tmp_path: Path) -> None:
    first, second = two_apis
    storage = first.storage
    not_ready = httpx.get(second.url + "/ready")
    assert not_ready.status_code == 503 and "no worker" in not_ready.json()["message"]
    worker = start_worker(storage, tmp_path / "worker.log")
    try:
        assert httpx.get(second.url + "/ready").json() == {"status": "ready"}
        with first.client() as api:
            wait_for(api, api.post("/jobs", json=bell()).json()["id"])
        on_second = scrape(second)
        assert on_second[("qharbor_jobs", (("backend", "simulator"), ("status", "completed")))] == 1
        assert on_second[("qharbor_workers_alive", ())] == 1
        assert on_second[("qharbor_job_run_seconds_count", (("backend", "simulator"),))] == 1
        posted = ("qharbor_http_requests_total", (("method", "POST"), ("route", "/v0.4/jobs"), ("status", "201")))
        assert posted not in on_second and scrape(first)[posted] == 1  # HTTP figures are per process
    finally:
        stop_worker(worker)


def test_json_logs_carry_the_request_id(tmp_path: Path) -> None:
    srv = Server(["--data-dir", str(tmp_path)], workers=0, env={"QHARBOR_LOG_FORMAT": "json"}).start()
    try:
        key = str(uuid.uuid4())
        with srv.client() as api:
            for _ in range(2):
                api.post("/jobs", json=bell(), headers={"Idempotency-Key": key, "x-request-id": "json-1"})
        lines = [json.loads(x) for x in srv.logs().splitlines() if x.startswith("{")]
    finally:
        srv.stop()
    assert any(x["request_id"] == "json-1" and "replayed" in x["message"] for x in lines)
    assert all({"time", "level", "logger", "message", "request_id"} <= set(x) for x in lines)
    assert any(x["logger"].startswith("uvicorn") for x in lines)
