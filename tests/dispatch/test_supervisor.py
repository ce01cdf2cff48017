"""``qharbor serve``'s supervision of its workers: settings handed down whole, no orphans,
no tight respawn loops, unusable settings refused at start."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import QHARBOR, Server

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc and uses Linux process semantics")


def _session_pids(sid: int) -> list[int]:
    """Live (non-zombie) processes of a session: a server and every worker it started."""
    found = subprocess.run(["pgrep", "-s", str(sid)], capture_output=True, text=True).stdout.split()
    alive = []
    for pid in map(int, found):
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.append(pid)
    return alive


def _describe(pid: int) -> str:
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        state = Path(f"/proc/{pid}/status").read_text().split("State:")[1].split("\n")[0].strip()
        return f"{cmd} [{state}]"
    except OSError:
        return "gone"


def test_no_worker_outlives_a_server_stopped_while_replacing_one(tmp_path: Path) -> None:
    """A worker is killed and the server is stopped 0-1.2 s later, while it may be starting the
    replacement: at ten delays spread evenly over that window (each in its own tenth, so every
    stage of a replacement's start is hit, unlike clustered random draws), nothing of that
    server is left 10 s later. One worker: the race is the replacement's, not the others'."""
    rng = random.Random(12)
    attempts = 10
    for attempt in range(attempts):
        srv = Server(["--data-dir", str(tmp_path)], workers=1).start()
        assert srv.proc is not None
        sid = srv.proc.pid  # started with start_new_session: the server leads its own session
        os.kill(srv.worker_pids()[0], signal.SIGKILL)
        time.sleep(1.2 * (attempt + rng.random()) / attempts)
        srv.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        while _session_pids(sid) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = {pid: _describe(pid) for pid in _session_pids(sid)}
        if left:
            os.killpg(sid, signal.SIGKILL)
        srv._drain()
        assert not left, f"attempt {attempt}: processes {left} outlived the server\n" + "".join(srv.output)
        srv.proc.wait(5)


def _shares(srv: Server) -> list[int]:
    srv._drain()
    return [int(m) for m in re.findall(r" ready: \w+ precision, memory share (\d+) bytes", "".join(srv.output))]


def test_workers_run_under_the_servers_settings(tmp_path: Path) -> None:
    """The memory share divides by ``--workers`` (not the core count), and the server's
    environment settings reach the workers."""
    one = Server(["--data-dir", str(tmp_path)], workers=1, env={"QHARBOR_ENGINE_PRECISION": "single"}).start()
    one.stop()
    three = Server(["--data-dir", str(tmp_path)], workers=3).start()
    three.stop()
    [alone], split = _shares(one), _shares(three)
    assert len(split) == 3 and all(0.25 < alone / (3 * s) < 4 for s in split)  # memory moves; the ratio holds
    assert 2.0 < alone / max(split) < 4.5
    assert " ready: single precision" in "".join(one.output)
    assert "".join(three.output).count(" ready: double precision") == 3


@pytest.mark.parametrize(("variable", "value", "allowed"), [
    ("QHARBOR_ENGINE_PRECISION", "half", "one of double, single"),
    ("QHARBOR_ENGINE_MEMORY_BYTES", "lots", "a positive whole number of bytes"),
    ("QHARBOR_UNFINISHED_WAIT_S", "-1", "0 or more"),
    ("QHARBOR_ENGINE_GPU", "yes", "one of auto, off"),
    ("QHARBOR_RENDER_MEMO_BYTES", "-1", "0 or more"),
])
def test_an_unusable_setting_stops_serve_at_once(tmp_path: Path, variable: str, value: str, allowed: str) -> None:
    started = time.monotonic()
    out = subprocess.run([*QHARBOR, "serve", "--data-dir", str(tmp_path), "--port", "1"], capture_output=True,
                         text=True, timeout=60, env={**os.environ, variable: value})
    assert out.returncode != 0 and time.monotonic() - started < 30
    assert variable in out.stderr and allowed in out.stderr and "Traceback" not in out.stderr


def test_a_worker_that_keeps_dying_at_start_is_replaced_ever_more_slowly(tmp_path: Path) -> None:
    """Workers that exit at once (here: a ``sitecustomize`` that ends any ``qharbor worker``)
    are replaced after a growing pause, not in a tight loop."""
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(
        "import os, sys\nif sys.argv[1:2] == ['worker']:\n    os._exit(3)\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(hook), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([*QHARBOR, "serve", "--data-dir", str(tmp_path / "data"), "--port", "0",
                             "--workers", "1"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    time.sleep(8)
    proc.send_signal(signal.SIGTERM)
    output, _ = proc.communicate(timeout=30)
    exits = output.count("exited with 3")
    pauses = [float(p) for p in re.findall(r"replacing it in ([\d.]+) s", output)]
    assert 2 <= exits <= 7, output  # a tight loop would make ~25 in 8 s
    assert pauses == sorted(pauses) and pauses[-1] > pauses[0], pauses
