"""Shared by the bench scripts: a real ``qharbor serve`` (or any server) in a subprocess.

``process`` runs a command in its own process group with its output in a log file and
always ends the whole group; ``wait_healthy``, ``wait_ready`` and ``first_key`` read the
server's state from ``/health`` and its log; ``http`` is a one-off request for setup and
checks (never for timed work).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HOST = "127.0.0.1"
REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def qharbor_serve(data_dir: Path, port: int, workers: int | None = None, *extra: str) -> list[str]:
    """The ``qharbor serve`` command line of this virtual environment, on a fresh data directory."""
    cmd = [str(Path(sys.executable).parent / "qharbor"), "serve", "--data-dir", str(data_dir),
           "--port", str(port), *extra]
    if workers is not None:
        cmd += ["--workers", str(workers)]
    return cmd


@contextmanager
def process(cmd: list[str], log: Path, env: dict[str, str] | None = None,
            stop: signal.Signals = signal.SIGTERM) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``cmd`` in its own process group (stdout+stderr to ``log``); always end the whole group.

    At the end ``stop`` goes first: SIGINT to the leader only (``qharbor serve`` then
    stops its workers itself, like Ctrl-C), any other signal to the whole group; then
    SIGKILL to the group as the fallback, and for any worker left behind.
    """
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                cwd=REPO, start_new_session=True,
                                env=None if env is None else {**os.environ, **env})
        try:
            yield proc
        finally:
            _end_group(proc, stop)


def _end_group(proc: subprocess.Popen[bytes], stop: signal.Signals) -> None:
    for sig, grace in ((stop, 20.0), (signal.SIGKILL, 5.0)):
        try:
            if sig == signal.SIGINT:
                proc.send_signal(sig)
            else:
                os.killpg(proc.pid, sig)  # the group is the server and the workers it started
        except ProcessLookupError:
            return
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            continue
        # The leader is gone; make sure no worker it started outlives it.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return


def http(method: str, port: int, path: str, key: str | None = None, body: bytes | None = None,
         timeout: float = 5.0) -> tuple[int, bytes]:
    """A one-off request for setup and checks (not for load, not timed)."""
    req = urllib.request.Request(f"http://{HOST}:{port}{path}", data=body, method=method)
    if key:
        req.add_header("Authorization", f"apiKey {key}")
    if body is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def wait_healthy(proc: subprocess.Popen[bytes], port: int, log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"server exited with {proc.returncode} before it was up; its output:\n{log.read_text()}")
        try:
            if http("GET", port, "/health", timeout=1.0)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    sys.exit(f"server not healthy after {timeout:.0f}s; its output:\n{log.read_text()}")


def wait_ready(proc: subprocess.Popen[bytes], log: Path, workers: int, timeout: float = 300.0) -> float:
    """Seconds until ``workers`` workers have logged `` ready`` (kernels loaded or compiled,
    taking jobs); needs the server's default log level (info)."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if proc.poll() is not None:
            sys.exit(f"server exited with {proc.returncode}; its output:\n{log.read_text()}")
        ready = sum(" ready" in line and "worker" in line for line in log.read_text(errors="replace").splitlines())
        if ready >= workers:
            return time.monotonic() - start
        time.sleep(0.1)
    sys.exit(f"workers not ready after {timeout:.0f}s; the server's output:\n{log.read_text()}")


def first_key(log: Path) -> str:
    """The secret printed on the line after 'Created the first API key'."""
    lines = log.read_text().splitlines()
    for i, line in enumerate(lines):
        if line.startswith("Created the first API key") and i + 1 < len(lines):
            return lines[i + 1].strip()
    sys.exit(f"no API key in the server's output:\n{log.read_text()}")
