"""Starting worker processes beside the API and keeping them alive.

When a worker exits unexpectedly (a crash, the OOM killer, SIGKILL) its job is
requeued at once rather than after the heartbeat timeout, and a new worker takes
its place.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
import uuid

from ..settings import Settings
from ..store import queue
from ..store.db import Database

log = logging.getLogger("qharbor.supervisor")


class Supervisor:
    def __init__(self, settings: Settings, count: int) -> None:
        self.settings = settings
        self.count = count
        self.db = Database(settings.database_url)
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True, name="supervisor")

    def _spawn(self) -> None:
        worker_id = str(uuid.uuid4())
        cmd = [sys.executable, "-m", "qharbor", "worker", "--database", self.settings.database_url,
               "--worker-id", worker_id]
        env = {**os.environ, "QHARBOR_SUPERVISED": "1"}
        self.procs[worker_id] = subprocess.Popen(cmd, env=env)

    def start(self) -> None:
        for _ in range(self.count):
            self._spawn()
        self._thread.start()

    def _watch(self) -> None:
        while not self._stopping.wait(0.2):
            for worker_id, proc in list(self.procs.items()):
                if proc.poll() is None or proc.returncode == 0 or self._stopping.is_set():
                    continue
                log.warning("worker %s exited with %s; requeueing its job and replacing it", worker_id, proc.returncode)
                del self.procs[worker_id]
                try:
                    with self.db.begin() as conn:
                        queue.release(conn, worker_id)
                except Exception:  # the heartbeat sweep will recover it instead
                    log.exception("could not release worker %s", worker_id)
                time.sleep(0.1)
                self._spawn()

    def stop(self, grace_s: float = 10.0) -> None:
        """SIGTERM every worker (each finishes its job), SIGKILL stragglers, requeue their jobs."""
        self._stopping.set()
        for proc in self.procs.values():
            proc.terminate()
        deadline = time.monotonic() + grace_s
        for worker_id, proc in self.procs.items():
            try:
                proc.wait(max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            with self.db.begin() as conn:
                queue.release(conn, worker_id)
        self.db.dispose()
