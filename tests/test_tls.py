"""``qharbor serve --ssl-certfile/--ssl-keyfile``: the API over HTTPS."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
from support import QHARBOR, free_port


def test_serve_answers_https_with_the_given_certificate(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key),
                    "-out", str(cert)], check=True, capture_output=True)
    port = free_port()
    proc = subprocess.Popen([*QHARBOR, "serve", "--port", str(port), "--workers", "0", "--data-dir",
                             str(tmp_path / "data"), "--ssl-certfile", str(cert), "--ssl-keyfile", str(key)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                r = httpx.get(f"https://127.0.0.1:{port}/health", verify=str(cert), timeout=2)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline and proc.poll() is None, "no HTTPS answer"
                time.sleep(0.2)
        assert r.status_code == 200
        try:
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
            plain = True
        except httpx.HTTPError:
            plain = False
        assert not plain, "plain HTTP must not be served on the TLS port"
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(20)


def test_a_certificate_without_its_key_is_refused(tmp_path: Path) -> None:
    out = subprocess.run([*QHARBOR, "serve", "--data-dir", str(tmp_path), "--ssl-certfile", str(tmp_path)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and "--ssl-keyfile" in out.stderr
