"""Starting worker processes beside the API and keeping them alive.

When a worker exits unexpectedly (a crash, the OOM killer, SIGKILL) its job is
requeued at once rather than after the heartbeat timeout, and a new worker takes
its place; one that keeps dying at start is replaced after a growing pause, not in a
tight loop. Workers get the supervisor's settings whole (``settings.HANDED_DOWN``) and
its pid, and stop when it is gone (``worker.main``). Once stopping has begun, no worker
is started again.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import subprocess
import sys
import threading
import time
import uuid

from ..settings import Settings, worker_environment
from ..store import queue
from ..store.db import Database

log = logging.getLogger("qharbor.supervisor")

#: A worker that exits sooner than this after it started counts as failing to start.
QUICK_EXIT_S = 10.0
#: Pauses before replacing a worker that keeps failing to start grow up to this.
BACKOFF_MAX_S = 30.0


class Supervisor:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.db = Database(settings.database_url)
        self.procs: dict[str, tuple[subprocess.Popen[bytes], float]] = {}
        self._lock = threading.Lock()  # spawning and stopping exclude each other
        self._stopping = threading.Event()
        self._failures = 0  # workers in a row that exited soon after starting
        self._due: list[float] = []  # when each pending replacement may start
        self._thread = threading.Thread(target=self._watch, daemon=True, name="supervisor")

    def _spawn(self) -> None:
        with self._lock:
            if self._stopping.is_set():
                return
            worker_id = str(uuid.uuid4())
            handed = dataclasses.replace(self.settings, supervisor_pid=os.getpid())
            cmd = [sys.executable, "-m", "qharbor", "worker", "--worker-id", worker_id]
            env = worker_environment(handed)
            self.procs[worker_id] = subprocess.Popen(cmd, env=env), time.monotonic()

    def start(self) -> None:
        for _ in range(self.settings.workers):
            self._spawn()
        self._thread.start()

    def _watch(self) -> None:
        while not self._stopping.wait(0.2):
            for worker_id, (proc, started) in list(self.procs.items()):
                if proc.poll() is None or proc.returncode == 0 or self._stopping.is_set():
                    continue
                del self.procs[worker_id]
                self._failures = self._failures + 1 if time.monotonic() - started < QUICK_EXIT_S else 0
                pause = min(0.5 * 2 ** (self._failures - 1), BACKOFF_MAX_S) if self._failures else 0.1
                log.warning("worker %s exited with %s; requeueing its job and replacing it in %.1f s",
                            worker_id, proc.returncode, pause)
                try:
                    with self.db.begin() as conn:
                        queue.release(conn, worker_id, self.settings.max_attempts)
                except Exception:  # the heartbeat sweep will recover it instead
                    log.exception("could not release worker %s", worker_id)
                self._due.append(time.monotonic() + pause)
            now = time.monotonic()
            for due in [d for d in self._due if d <= now]:
                self._due.remove(due)
                self._spawn()

    def stop(self, grace_s: float = 10.0) -> None:
        """SIGTERM every worker (each finishes its job), SIGKILL stragglers, requeue their jobs."""
        with self._lock:
            self._stopping.set()
            procs = dict(self.procs)
        for proc, _ in procs.values():
            proc.terminate()
        deadline = time.monotonic() + grace_s
        for worker_id, (proc, _) in procs.items():
            try:
                proc.wait(max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            with self.db.begin() as conn:
                queue.release(conn, worker_id, self.settings.max_attempts)
        self.db.dispose()
