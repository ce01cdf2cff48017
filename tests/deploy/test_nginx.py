"""deploy/nginx.conf, for real: nginx in front of two ``qharbor serve --workers 0`` API
processes on one PostgreSQL database, with one standalone ``qharbor worker``, as README "At
scale" lays out, driven over HTTP through nginx only — jobs, long polls, results, a list, the
413 for an oversized body, a real IonQ client; both API processes must have served requests
(nginx's access log names the upstream of each), and with one of them down every request
still succeeds (passive health: ``proxy_next_upstream``, ``max_fails``)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from support import Postgres, Server, bell, free_port, start_worker, stop_worker

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)

pytestmark = pytest.mark.skipif(NGINX is None, reason="nginx is not installed (apt-get install nginx)")

# What a Debian nginx.conf puts around the files of sites-enabled/ and conf.d/ (its http block),
# with every path moved into the test's own directory and nginx in the foreground.
MAIN = """daemon off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log info;
events {{ worker_connections 256; }}
http {{
    sendfile on;
    tcp_nopush on;
    types_hash_max_size 2048;
    {mime}
    default_type application/octet-stream;
    access_log {dir}/access.log;
    gzip on;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    include {dir}/qharbor.conf;
}}
"""


def render(site: str, upstreams: list[int], listen: int, access_log: Path) -> str:
    """deploy/nginx.conf with the two upstream ports, the listening port and the access log
    replaced; fails if the file no longer has exactly what is replaced."""
    lines = re.findall(r"^\s*server 127\.0\.0\.1:800\d\b", site, flags=re.MULTILINE)
    assert len(lines) == len(upstreams), "deploy/nginx.conf should list two local API processes"
    for port in upstreams:
        site = re.sub(r"^(\s*server 127\.0\.0\.1:)800\d\b", rf"\g<1>{port}", site, count=1, flags=re.MULTILINE)
    site, listens = re.subn(r"^(\s*)listen 80;$", rf"\g<1>listen 127.0.0.1:{listen};", site, flags=re.MULTILINE)
    site, v6 = re.subn(r"^\s*listen \[::\]:80;\n", "", site, flags=re.MULTILINE)
    site, logs = re.subn(r"access_log /var/log/nginx/qharbor\.access\.log qharbor;", f"access_log {access_log} qharbor;",
                         site)
    assert (listens, v6, logs) == (1, 1, 1), "deploy/nginx.conf changed shape: update render()"
    return site


@dataclass
class Front:
    url: str
    access_log: Path
    error_log: Path
    upstreams: list[Server]
    worker: subprocess.Popen[bytes]


@pytest.fixture(scope="module")
def front(postgres: Postgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Front]:
    storage = ["--database", postgres.new_database()]
    first = Server(storage, workers=0).start()   # migrates, prints the key
    second = Server(storage, workers=0)
    second.key = first.key
    worker = start_worker(storage, tmp_path_factory.mktemp("worker") / "worker.log")
    proc = None
    # nginx's worker processes run as an unprivileged user under root: its directory must be
    # reachable by them (pytest's own temporary directories are private to root).
    where = Path(tempfile.mkdtemp(prefix="qharbor-nginx-"))
    try:
        second.start()
        where.chmod(0o755)
        listen = free_port()
        access_log = where / "qharbor.access.log"
        site = render((DEPLOY / "nginx.conf").read_text(), [first.port, second.port], listen, access_log)
        (where / "qharbor.conf").write_text(site)
        mime = "include /etc/nginx/mime.types;" if Path("/etc/nginx/mime.types").exists() else ""
        (where / "nginx.conf").write_text(MAIN.format(dir=where, mime=mime))
        cmd = [NGINX, "-p", str(where), "-c", str(where / "nginx.conf"), "-e", str(where / "error.log")]
        checked = subprocess.run([*cmd, "-t"], capture_output=True, text=True, timeout=30, check=False)
        assert checked.returncode == 0, checked.stderr
        assert "[warn]" not in checked.stderr, checked.stderr
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{listen}"
        deadline = time.monotonic() + 10
        while True:
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, (where / "error.log").read_text()
            assert time.monotonic() < deadline, "nginx did not answer /health"
            time.sleep(0.05)
        yield Front(url, access_log, where / "error.log", [first, second], worker)
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGQUIT)   # graceful stop
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        stop_worker(worker)
        second.stop()
        first.stop()
        shutil.rmtree(where, ignore_errors=True)


def client(front: Front, **headers: str) -> httpx.Client:
    key = front.upstreams[0].key
    return httpx.Client(base_url=front.url + "/v0.4", headers={"Authorization": f"apiKey {key}", **headers},
                        timeout=30)


def test_jobs_long_polls_results_and_list_through_nginx(front: Front) -> None:
    with client(front) as c:
        ids = []
        for _ in range(6):
            created = c.post("/jobs", json=bell())
            assert created.status_code == 201, created.text
            ids.append(created.json()["id"])
        for job_id in ids:
            deadline = time.monotonic() + 30
            while (job := c.get(f"/jobs/{job_id}").json())["status"] != "completed":   # long polls
                assert job["status"] in ("submitted", "ready", "started"), job
                assert time.monotonic() < deadline, job
            probabilities = c.get(f"/jobs/{job_id}/results/probabilities")
            assert probabilities.status_code == 200
            assert probabilities.json() == pytest.approx({"0": 0.5, "3": 0.5})
        listed = c.get("/jobs", params={"limit": 10})
        assert listed.status_code == 200 and listed.headers["content-type"].startswith("application/json")
        assert set(ids) <= {job["id"] for job in listed.json()["jobs"]}


def test_a_long_poll_is_held_not_cut(front: Front) -> None:
    """An unfinished job's GET is held for QHARBOR_UNFINISHED_WAIT_S (2 s), through nginx too."""
    os.kill(front.worker.pid, signal.SIGSTOP)   # nothing runs the job meanwhile
    try:
        with client(front) as c:
            job_id = c.post("/jobs", json=bell()).json()["id"]
            start = time.monotonic()
            held = c.get(f"/jobs/{job_id}")
            waited = time.monotonic() - start
    finally:
        os.kill(front.worker.pid, signal.SIGCONT)
    assert held.status_code == 200 and held.json()["status"] in ("submitted", "ready")
    assert 1.8 < waited < 5, waited


def test_an_oversized_body_is_refused_with_qharbors_json(front: Front) -> None:
    body = b'{"pad": "' + b"x" * (11 * 1024 * 1024) + b'"}'
    headers = {"Content-Type": "application/json"}
    with client(front) as c:
        refused = c.post("/jobs", content=body, headers=headers)
    with front.upstreams[1].client() as c:
        direct = c.post("/jobs", content=body, headers=headers)
    assert refused.status_code == direct.status_code == 413
    assert refused.headers["content-type"].startswith("application/json")
    expected = direct.json()   # qharbor's own 413, which nginx's copy must match
    if expected["error"] == "Content Too Large":   # RFC 9110's phrase, Python 3.13's; nginx keeps the older
        expected["error"] = "Request Entity Too Large"
    assert refused.json() == expected
    with client(front) as c:   # a body just under the limit still goes through to qharbor
        just_under = c.post("/jobs", content=b" " * (10 * 1024 * 1024 - 16) + b"{}", headers=headers)
    assert just_under.status_code == 400 and just_under.json()["statusCode"] == 400


def test_a_real_client_through_nginx(front: Front) -> None:
    ionq_core = pytest.importorskip("ionq_core")
    from ionq_core.api.default import create_job, get_job_probabilities
    from ionq_core.models.circuit_job_creation_payload import CircuitJobCreationPayload
    from ionq_core.polling import wait_for_job

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)   # "not HTTPS": a local test front
        c = ionq_core.IonQClient(api_key=front.upstreams[0].key, base_url=front.url + "/v0.4", max_retries=0)
    created = create_job.sync(client=c, body=CircuitJobCreationPayload.from_dict(bell()))
    assert created is not None and created.status == "submitted"
    job = wait_for_job(c, created.id, poll_interval=0.1, timeout=60)
    assert job.status == "completed"
    assert get_job_probabilities.sync(created.id, client=c).additional_properties == pytest.approx({"0": 0.5, "3": 0.5})


def test_both_api_processes_served_requests(front: Front) -> None:
    with client(front) as c:   # one keep-alive connection to nginx; nginx spreads the requests
        for _ in range(20):
            assert c.get("/jobs", params={"limit": 1}).status_code == 200
    served = re.findall(r"upstream=127\.0\.0\.1:(\d+)", front.access_log.read_text())
    ports = {server.port for server in front.upstreams}
    assert {int(p) for p in served} == ports, json.dumps(served[-20:])


def test_an_api_process_down_is_failed_over(front: Front) -> None:
    """With one API process stopped, nginx sends every request, POSTs included (a refused
    connection sent nothing), to the other; after max_fails it stops trying the dead one until
    fail_timeout. Then the process comes back on its port and is used again. Runs last: it
    restarts an upstream."""
    down = front.upstreams[1]
    down.stop()
    start = time.monotonic()
    with client(front) as c:
        for _ in range(10):
            created = c.post("/jobs", json=bell())
            assert created.status_code == 201, created.text
            assert c.get(f"/jobs/{created.json()['id']}").status_code == 200
            assert c.get("/jobs", params={"limit": 1}).status_code == 200
    refused = front.error_log.read_text().count("connect() failed (111: Connection refused) while connecting to "
                                                "upstream")
    # It stops trying the dead one after max_fails=3, for fail_timeout=10s (then tries again).
    assert 1 <= refused <= 3 * (1 + int((time.monotonic() - start) // 10)), refused
    back = Server(down.storage, workers=0, port=down.port).start()
    front.upstreams[1] = back
    try:
        before = front.access_log.read_text().count(f"upstream=127.0.0.1:{back.port} ")
        deadline = time.monotonic() + 15   # fail_timeout=10s: then nginx tries it again
        with client(front) as c:
            while front.access_log.read_text().count(f"upstream=127.0.0.1:{back.port} ") == before:
                assert time.monotonic() < deadline, "the API process back up got no requests"
                assert c.get("/jobs", params={"limit": 1}).status_code == 200
                time.sleep(0.2)
    finally:
        back.stop()
