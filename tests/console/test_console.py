"""The web console in a real browser (headless Chromium) against a real ``qharbor serve``, on SQLite
and PostgreSQL, and the event stream it follows (``GET /v0.4/jobs/events``) over plain HTTP.

Every expectation is read from the API independently of the console: the ids, statuses,
probabilities and artifacts it should show are what ``/v0.4`` answers the same key."""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from support import Server, bell, run_cli, slow_job, start_worker, stop_worker, wait_for

pytest.importorskip("playwright")
from playwright.sync_api import expect


def project_key(server: Server) -> tuple[str, httpx.Client]:
    """A key of a project of its own (so nothing else's jobs show), and an API client with it."""
    key = server.new_key("console", project=str(uuid.uuid4()))
    return key, server.client(key)


def sign_in(page: Any, server: Server, key: str) -> None:
    page.goto(server.url + "/")
    expect(page).to_have_url(server.url + "/console")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Jobs")).to_be_visible()


def row(page: Any, job_id: str) -> Any:
    return page.locator(f'table[aria-label="Jobs"] tbody tr:has(a[href="/console/jobs/{job_id}"])')


def _bars(chart: Any) -> dict[str, float]:
    """A histogram's bars as drawn: outcome -> probability."""
    bars = chart.locator("rect.bar")
    return {bars.nth(i).get_attribute("data-outcome"): float(bars.nth(i).get_attribute("data-probability"))
            for i in range(bars.count())}


def test_sign_in_needs_a_valid_key_and_sign_out_forgets_it(server: Server, page: Any) -> None:
    key, _ = project_key(server)
    refused = httpx.get(server.url + "/v0.4/whoami", headers={"Authorization": "apiKey qh_not-a-key"})
    assert refused.status_code == 401
    page.goto(server.url + "/console")
    page.get_by_label("API key").fill("qh_not-a-key")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text(refused.json()["message"])
    assert page.evaluate("sessionStorage.length") == 0

    sign_in(page, server, key)
    headers = page.locator('table[aria-label="Jobs"] thead th').all_inner_texts()
    assert headers == ["ID", "Name", "Backend", "Status", "Qubits", "Shots", "Submitted", "Duration"]
    page.reload()  # the key lasts for the browser session
    expect(page.get_by_role("heading", name="Jobs")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("API key")).to_be_visible()
    assert page.evaluate("sessionStorage.length") == 0
    page.reload()
    expect(page.get_by_label("API key")).to_be_visible()


def test_jobs_appear_and_complete_live_and_a_job_shows_its_results(server: Server, page: Any, tmp_path) -> None:  # type: ignore[no-untyped-def]
    key, api = project_key(server)
    sign_in(page, server, key)
    expect(page.locator("#live")).to_have_text("live")
    ghz = bell(name="ghz3", shots=1000)
    ghz["input"] = {"gateset": "qis", "qubits": 3, "circuit": [
        {"gate": "h", "target": 0}, {"gate": "cnot", "control": 0, "target": 1},
        {"gate": "ry", "target": 2, "rotation": 0.7}]}
    marked = '<img src=x onerror="document.title=1">'  # a name is text, never markup
    ids = [api.post("/jobs", json=body).json()["id"] for body in (bell(name="first"), bell(name=marked), ghz)]
    for job_id in ids:  # appear, then complete, with no reload
        expect(row(page, job_id)).to_be_visible()
        expect(row(page, job_id).locator("td.status")).to_have_text("completed")
    listed = page.locator('table[aria-label="Jobs"] tbody tr a').all_inner_texts()
    assert listed == ids[::-1]  # newest first
    expect(row(page, ids[1]).locator("td").nth(1)).to_have_text(marked)
    assert page.locator("tbody img").count() == 0

    job_id = ids[2]
    row(page, job_id).get_by_role("link").click()
    expect(page).to_have_url(f"{server.url}/console/jobs/{job_id}")
    job = api.get(f"/jobs/{job_id}").json()
    probabilities = api.get(f"/jobs/{job_id}/results/probabilities").json()
    chart = page.get_by_role("img", name=re.compile(f"Histogram of job {job_id}"))
    expect(chart).to_be_visible()
    assert f"{len(probabilities)} outcomes drawn" in chart.get_attribute("aria-label")
    assert _bars(chart) == pytest.approx(probabilities)
    labels = chart.locator("text").all_text_contents()
    assert all(format(int(k), "03b") in labels for k in probabilities)  # bitstrings on the axis
    expect(page.get_by_text(str(job["noise"]["seed"]), exact=True)).to_be_visible()

    fmt = "ionq.result.histogram.json.v1"
    with page.expect_download() as download:
        page.get_by_role("link", name=f"Download {fmt}").click()
    saved = tmp_path / "artifact.json"
    download.value.save_as(saved)
    assert json.loads(saved.read_text()) == api.get(f"/jobs/{job_id}/artifacts/{fmt}").json()


def test_a_running_job_is_canceled_from_its_page(server: Server, page: Any) -> None:
    key, api = project_key(server)
    job_id = api.post("/jobs", json={**slow_job(rounds=48), "name": "slow"}).json()["id"]
    wait_for(api, job_id, ("started",))
    sign_in(page, server, key)
    expect(row(page, job_id).locator("td.status")).to_have_text("started")
    row(page, job_id).get_by_role("link").click()
    page.get_by_role("button", name="Cancel job").click()
    expect(page.locator("#job-status")).to_have_text("canceled")
    assert api.get(f"/jobs/{job_id}").json()["status"] == "canceled"


def test_filters_search_and_pages_past_100_jobs(server: Server, page: Any) -> None:
    key, api = project_key(server)
    qpu = [api.post("/jobs", json=bell(backend="qpu.aria-1", name="on-aria")).json()["id"] for _ in range(2)]
    many = [api.post("/jobs", json=bell(name=f"job-{i}", dry_run=True)).json()["id"] for i in range(103)]
    needle = api.post("/jobs", json=bell(name="needle-in-the-list", dry_run=True)).json()["id"]
    expected = [j["id"] for j in api.get("/jobs", params={"limit": 1000}).json()["jobs"]]
    assert set(expected) == {*qpu, *many, needle} and len(expected) == 106

    sign_in(page, server, key)
    links = page.locator('table[aria-label="Jobs"] tbody tr a')
    expect(links).to_have_count(100)
    assert links.all_inner_texts() == expected[:100]
    page.get_by_role("button", name="Next page").click()
    expect(links).to_have_count(6)
    assert links.all_inner_texts() == expected[100:]
    expect(page.get_by_role("button", name="Next page")).to_be_disabled()
    page.get_by_role("button", name="Previous page").click()
    expect(links).to_have_count(100)

    page.get_by_label("Backend").select_option("qpu.aria-1")
    page.get_by_role("button", name="Apply").click()
    expect(links).to_have_count(2)
    assert sorted(links.all_inner_texts()) == sorted(qpu)

    page.get_by_label("Backend").select_option("")
    page.get_by_label("Search by id or name").fill("needle")
    page.get_by_role("button", name="Apply").click()
    expect(links).to_have_count(1)
    assert links.all_inner_texts() == [needle]

    page.get_by_label("Search by id or name").fill("")
    page.get_by_label("Submitted on or after").fill("2999-01-01")
    page.get_by_role("button", name="Apply").click()
    expect(links).to_have_count(0)
    page.get_by_label("Submitted on or after").fill("2000-01-01")
    page.get_by_role("button", name="Apply").click()
    expect(links).to_have_count(106)  # read 1,000 at a time while a filter is checked here
    page.get_by_label("Submitted on or after").fill("")

    page.get_by_label("Search by id or name").fill(many[7])
    page.get_by_role("button", name="Apply").click()
    expect(links).to_have_text([many[7]])


def test_sessions_backends_and_usage_pages(server: Server, page: Any) -> None:
    key, api = project_key(server)
    session = api.post("/sessions", json={"backend": "simulator"}).json()
    job_id = api.post("/jobs", json=bell(session_id=session["id"])).json()["id"]
    wait_for(api, job_id)
    sign_in(page, server, key)
    page.get_by_role("link", name="Sessions").click()
    expect(page.get_by_role("cell", name=session["id"])).to_be_visible()
    page.get_by_role("row", name=re.compile(session["id"])).get_by_role("link", name="jobs").click()
    expect(page.locator('table[aria-label="Jobs"] tbody tr a')).to_have_text([job_id])

    page.get_by_role("link", name="Backends").click()
    names = [b["backend"] for b in httpx.get(server.url + "/v0.4/backends").json()]
    expect(page.locator('table[aria-label="Backends"] tbody tr')).to_have_count(len(names))
    expect(page.get_by_role("img", name=re.compile(r"Connectivity of qpu\.aria-1: 25 qubits"))).to_be_visible()

    page.get_by_role("link", name="Usage").click()
    today = api.get(f"/jobs/{job_id}").json()["submitted_at"][:10]
    cells = page.get_by_role("row", name=re.compile(today)).get_by_role("cell")
    expect(cells).to_have_count(5)
    assert cells.all_inner_texts()[:4] == [today, "1", "0", "100"]  # day, jobs, failed, shots


def follow(server: Server, key: str, kind: str, seen: list[dict], stop: threading.Event) -> None:
    """Read ``/v0.4/jobs/events`` as ``key`` until ``stop``, appending each ``kind`` event's data."""
    with httpx.stream("GET", server.url + "/v0.4/jobs/events", headers={"Authorization": f"apiKey {key}"},
                      timeout=httpx.Timeout(30)) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        event = None
        for line in response.iter_lines():
            if stop.is_set():
                return
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:") and event == kind:
                seen.append(json.loads(line[5:]))


def test_the_event_stream_tells_a_project_of_its_own_jobs_only(server: Server) -> None:
    assert httpx.get(server.url + "/v0.4/jobs/events").status_code == 401
    documented = httpx.get(server.url + "/openapi.json").json()["paths"]["/v0.4/jobs/events"]["get"]
    assert "text/event-stream" in documented["responses"]["200"]["content"]
    assert documented["security"] == [{"apiKey": []}]
    mine, api = project_key(server)
    theirs, other = project_key(server)
    seen: dict[str, list[dict]] = {"mine": [], "theirs": []}
    stop = threading.Event()
    threads = [threading.Thread(target=follow, args=(server, k, "job", seen[who], stop), daemon=True)
               for who, k in (("mine", mine), ("theirs", theirs))]
    for t in threads:
        t.start()
    time.sleep(1.5)  # both streams open (a stream reports changes after it opened)
    job_id = api.post("/jobs", json=bell()).json()["id"]
    done = wait_for(api, job_id)
    deadline = time.monotonic() + 10
    while not any(e["id"] == job_id and e["status"] == "completed" for e in seen["mine"]):
        assert time.monotonic() < deadline, seen["mine"]
        time.sleep(0.05)
    time.sleep(1.5)  # a tick for the other stream to have told anything it would
    stop.set()  # (the threads end at their stream's next line; daemons, they need no joining)
    statuses = [e["status"] for e in seen["mine"] if e["id"] == job_id]
    assert statuses[-1] == "completed" and statuses == sorted(statuses, key=["submitted", "ready", "started",
                                                                            "completed"].index)
    last = next(e for e in reversed(seen["mine"]) if e["id"] == job_id)
    assert {k: last[k] for k in ("id", "status", "shots", "results")} == \
        {k: done[k] for k in ("id", "status", "shots", "results")}
    assert seen["theirs"] == []
    assert other.get(f"/jobs/{job_id}").status_code == 404


def test_ten_thousand_jobs_and_a_65536_outcome_histogram_stay_fast(
        tmp_path_factory: pytest.TempPathFactory, page: Any) -> None:
    """The jobs page is interactive in under a second with 10,000 jobs stored, and a job with
    65,536 outcomes draws its top bars without freezing the page (no task over a second)."""
    data = tmp_path_factory.mktemp("big")
    storage = ["--data-dir", str(data)]
    # No workers while the jobs are submitted (they stay queued); exact maps up to 2^16 outcomes;
    # no per-key rate limit (10,000 submissions in seconds are this test's setup, not its subject).
    server = Server(storage, workers=0, env={"QHARBOR_MAX_EXACT_OUTCOMES": "65536",
                                             "QHARBOR_RATE_LIMIT": "off"}).start()
    try:
        api = server.client()
        wide = bell(name="wide", shots=1000)
        wide["input"] = {"gateset": "qis", "qubits": 16, "circuit": [{"gate": "h", "target": q} for q in range(16)]}
        wide_id = api.post("/jobs", json=wide).json()["id"]

        def submit(count: int) -> None:
            with server.client() as client:
                for _ in range(count):
                    assert client.post("/jobs", json=bell(dry_run=True)).status_code == 201

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(submit, [2500] * 4))
        assert api.get("/jobs", params={"ids": wide_id}).json()["jobs"][0]["status"] == "submitted"

        sign_in(page, server, server.key)
        links = page.locator('table[aria-label="Jobs"] tbody tr a')
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            page.goto(server.url + "/console/jobs")
            expect(links).to_have_count(100)
            expect(page.get_by_role("button", name="Next page")).to_be_enabled()
            timings.append(time.perf_counter() - started)
        print(f"jobs page interactive with 10,001 jobs: {', '.join(f'{t * 1000:.0f} ms' for t in timings)}")
        assert min(timings) < 1.0

        worker = start_worker(storage, data / "worker.log", env={"QHARBOR_MAX_EXACT_OUTCOMES": "65536"})
        try:
            wait_for(api, wide_id, timeout=120)
        finally:
            stop_worker(worker)
        probabilities = api.get(f"/jobs/{wide_id}/results/probabilities").json()
        assert len(probabilities) == 65536
        page.add_init_script("""window.__longest = 0;
            new PerformanceObserver((list) => { for (const e of list.getEntries())
              window.__longest = Math.max(window.__longest, e.duration); }).observe({type: "longtask", buffered: true});""")
        started = time.perf_counter()
        page.goto(f"{server.url}/console/jobs/{wide_id}")
        chart = page.get_by_role("img", name=re.compile(f"Histogram of job {wide_id}: 32 outcomes drawn, 65504 more"))
        expect(chart).to_be_visible()
        drawn = time.perf_counter() - started
        longest = page.evaluate("window.__longest")
        print(f"65,536-outcome histogram drawn in {drawn * 1000:.0f} ms; longest task {longest:.0f} ms")
        bars = chart.locator("rect.bar")
        expect(bars).to_have_count(32)
        for i in range(32):
            outcome = bars.nth(i).get_attribute("data-outcome")
            assert float(bars.nth(i).get_attribute("data-probability")) == pytest.approx(probabilities[outcome])
        rest = float(chart.locator("rect.rest").get_attribute("data-probability"))
        top = sum(probabilities[bars.nth(i).get_attribute("data-outcome")] for i in range(32))
        assert rest == pytest.approx(sum(probabilities.values()) - top)
        assert longest < 1000
    finally:
        server.stop()



def test_multi_circuit_jobs_show_each_circuit_and_qasm3_jobs_each_register(server: Server, page: Any) -> None:
    key, api = project_key(server)
    circuits = [{"name": f"c{i}", "circuit": [{"gate": "h", "target": 0}, {"gate": "x", "target": i + 1}]}
                for i in range(2)]
    multi = api.post("/jobs", json={"type": "ionq.multi-circuit.v1", "backend": "simulator", "shots": 10,
                                    "input": {"gateset": "qis", "qubits": 3, "circuits": circuits}}).json()["id"]
    program = ('OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[3] q;\nbit[2] a;\nbit[1] b;\n'
               "h q[0];\ncx q[0], q[1];\nx q[2];\na[0] = measure q[0];\na[1] = measure q[1];\nb[0] = measure q[2];\n")
    qasm = api.post("/jobs", json={"type": "ionq.qasm3.v1", "backend": "simulator", "shots": 200,
                                   "input": {"data": program}}).json()["id"]
    wait_for(api, multi), wait_for(api, qasm)
    sign_in(page, server, key)

    page.goto(f"{server.url}/console/jobs/{multi}")
    nested = api.get(f"/jobs/{multi}/results/probabilities").json()
    for i, (child, probabilities) in enumerate(nested.items()):
        chart = page.get_by_role("img", name=re.compile(rf"Histogram of job {multi} \(circuit {i + 1}\)"))
        expect(chart).to_be_visible()
        assert _bars(chart) == pytest.approx(probabilities)
        expect(page.get_by_role("link", name=f"c{i}")).to_have_attribute("href", f"/console/jobs/{child}")

    first = next(iter(nested))
    page.get_by_role("link", name="c0").click()
    expect(page.get_by_role("img", name=re.compile(f"Histogram of job {first}"))).to_be_visible()
    expect(page.get_by_text(f"Parent job{multi}")).to_be_visible()

    page.goto(f"{server.url}/console/jobs/{qasm}")
    registers = api.get(f"/jobs/{qasm}/artifacts/ionq.result.probabilities.json.v2").json()["probabilities"]["registers"]
    assert {"a", "b"} <= set(registers)
    for name, probabilities in registers.items():
        chart = page.get_by_role("img", name=re.compile(rf"Histogram of job {qasm} \(register {name}\)"))
        expect(chart).to_be_visible()
        assert _bars(chart) == pytest.approx(probabilities)


def test_clone_with_overrides_and_delete_from_a_job_page(server: Server, page: Any) -> None:
    key, api = project_key(server)
    job_id = api.post("/jobs", json=bell(name="original")).json()["id"]
    original = wait_for(api, job_id)
    sign_in(page, server, key)
    row(page, job_id).get_by_role("link").click()
    page.get_by_label("Shots").fill("321")
    page.get_by_label("Backend").fill("qpu.aria-1")
    page.get_by_role("button", name="Clone job").click()
    expect(page).not_to_have_url(f"{server.url}/console/jobs/{job_id}")
    clone_id = page.url.rsplit("/", 1)[1]
    clone = wait_for(api, clone_id)
    assert (clone["shots"], clone["backend"], clone["name"]) == (321, "qpu.aria-1", "original")
    assert clone["noise"]["seed"] == original["noise"]["seed"]  # a clone is a replay

    page.goto(f"{server.url}/console/jobs/{job_id}")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete job").click()
    expect(page).to_have_url(f"{server.url}/console/jobs")
    expect(row(page, clone_id)).to_be_visible()
    expect(row(page, job_id)).to_have_count(0)
    assert api.get(f"/jobs/{job_id}").status_code == 404
    page.goto(f"{server.url}/console/jobs/{job_id}")  # the API's 404, in words
    expect(page.get_by_role("alert")).to_have_text(api.get(f"/jobs/{job_id}").json()["message"])


def test_without_the_event_stream_the_console_polls(server: Server, page: Any) -> None:
    key, api = project_key(server)
    page.route("**/v0.4/jobs/events", lambda route: route.abort())  # as a proxy that cuts streams would
    sign_in(page, server, key)
    expect(page.locator("#live")).to_have_text("polling")
    job_id = api.post("/jobs", json=bell()).json()["id"]
    expect(row(page, job_id).locator("td.status")).to_have_text("completed")
    page.unroute("**/v0.4/jobs/events")
    expect(page.locator("#live")).to_have_text("live")  # and back on the stream once it answers
    second = api.post("/jobs", json=bell()).json()["id"]
    expect(row(page, second).locator("td.status")).to_have_text("completed")


def test_a_revoked_key_s_stream_ends_with_the_401(server: Server) -> None:
    key, api = project_key(server)
    key_id = api.get("/whoami").json()["key_id"]
    with httpx.stream("GET", server.url + "/v0.4/jobs/events", headers={"Authorization": f"apiKey {key}"},
                      timeout=30) as response:
        assert response.status_code == 200
        run_cli("keys", "revoke", key_id, *server.storage)
        started = time.monotonic()
        lines = list(response.iter_lines())  # returns once the server ends the stream
    assert time.monotonic() - started < 20
    refused = api.get("/whoami")
    assert refused.status_code == 401
    assert lines[-3:-1] == ["event: error", "data: " + json.dumps(refused.json(), separators=(",", ":"))]


def test_a_stopping_server_ends_open_streams_cleanly(tmp_path) -> None:  # type: ignore[no-untyped-def]
    server = Server(["--data-dir", str(tmp_path)], workers=0).start()
    stopping = threading.Thread(target=server.stop, daemon=True)
    try:
        with httpx.stream("GET", server.url + "/v0.4/jobs/events", headers={"Authorization": f"apiKey {server.key}"},
                          timeout=30) as response:
            assert response.status_code == 200
            started = time.monotonic()
            stopping.start()
            lines = list(response.iter_lines())  # a complete body: no error raised here
        assert lines[0] == "retry: 2000"
        stopping.join(30)
        assert time.monotonic() - started < 15
        assert server.proc is not None and server.proc.returncode is not None
    finally:
        if not stopping.is_alive():
            server.stop()
