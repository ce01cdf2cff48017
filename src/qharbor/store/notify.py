"""Waking other processes: a job was queued (idle workers), a job finished (long polls).

Without this, an idle worker finds new work and an API process finds finished jobs
only by polling the database, and every poll interval is latency a user waits for.

* **PostgreSQL**: ``NOTIFY`` on two channels, sent inside the transaction that queued or
  finished the job (so it is delivered only once that commits), to every connection that
  ``LISTEN``s, on any host.
* **SQLite**: its processes share one host, so each listener binds a Unix datagram socket
  in a directory private to this user and database (under the temp directory, named by a
  hash of the database path), and a notice is one datagram to every socket of its channel,
  sent once the transaction has committed (:meth:`qharbor.store.db.Database.begin`).

Notices only say "look again": the database stays the one source of truth, and every
listener still re-reads it on a slow tick, so a lost notice (a full socket buffer, a
dropped connection) costs latency, never a job.
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import select
import socket
import stat
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

log = logging.getLogger(__name__)

#: New work for idle workers.
QUEUED = "qharbor_jobs"
#: A job reached an outcome (completed, failed or canceled), for waiting readers.
FINISHED = "qharbor_done"
_SHORT = {QUEUED: "q", FINISHED: "f"}
#: Notices of a SQLite transaction, sent when it commits (``Database.begin``).
PENDING = "qharbor.notices"


_NOTIFY = {channel: text(f"NOTIFY {channel}") for channel in (QUEUED, FINISHED)}


def notify(conn: Connection, channel: str) -> None:
    """Tell ``channel``'s listeners to look again once this transaction commits."""
    if conn.dialect.name == "postgresql":
        conn.execute(_NOTIFY[channel])
    else:
        conn.info.setdefault(PENDING, set()).add(channel)


def socket_dir(database_path: str) -> Path | None:
    """Where a SQLite database's listeners bind, or None where that cannot be made safe
    (a shared directory not owned by this user, a path too long for a socket)."""
    root = Path(tempfile.gettempdir()) / f"qharbor-{os.getuid()}"
    digest = hashlib.sha256(os.path.realpath(database_path).encode()).hexdigest()[:16]
    where = root / digest
    try:
        root.mkdir(mode=0o700, exist_ok=True)
        info = root.lstat()
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
            return None
        where.mkdir(mode=0o700, exist_ok=True)
    except OSError:
        return None
    return where if len(str(where)) < 80 else None


class Sender:
    """Delivers committed SQLite notices: one datagram to each listening socket of a channel."""

    def __init__(self, where: Path | None) -> None:
        self._where = where
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()

    def send(self, channels: set[str]) -> None:
        if self._where is None:
            return
        prefixes = tuple(_SHORT[c] + "-" for c in channels)
        with self._lock:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                self._sock.setblocking(False)
            try:
                entries = list(os.scandir(self._where))
            except OSError:
                return
            for entry in entries:
                if not entry.name.startswith(prefixes):
                    continue
                try:
                    self._sock.sendto(b"!", entry.path)
                except BlockingIOError:
                    pass  # its buffer is full: it has notices to read already
                except (ConnectionRefusedError, FileNotFoundError):
                    try:  # a listener that died without removing its socket
                        os.unlink(entry.path)
                    except OSError:
                        pass
                except OSError:
                    pass

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()


class Listener:
    """Waits for notices on one channel: :meth:`wait` returns when one arrives (True) or
    after ``timeout`` (False). A database it cannot listen on only makes it a timer."""

    def __init__(self, url: str, dialect: str, where: Path | None, channel: str,
                 connection: dict[str, Any] | None = None) -> None:
        self._url, self._channel, self._connection = url, channel, connection or {}
        self._pg = None  # psycopg connection LISTENing, on PostgreSQL
        self._pg_retry = 0.0
        self._sock: socket.socket | None = None
        self._path: str | None = None
        self.closed = False
        self.postgres = dialect == "postgresql"
        if not self.postgres and where is not None:
            path = where / f"{_SHORT[channel]}-{os.getpid()}-{random.getrandbits(32):08x}"
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            try:
                sock.bind(str(path))
            except OSError:
                sock.close()
            else:
                sock.setblocking(False)
                self._sock, self._path = sock, str(path)

    @property
    def live(self) -> bool:
        """Whether notices can arrive (else :meth:`wait` only sleeps)."""
        return self._sock is not None or self.postgres

    def _listening(self):  # type: ignore[no-untyped-def]
        if self._pg is None and time.monotonic() >= self._pg_retry:
            import psycopg

            try:
                self._pg = psycopg.connect(self._url, autocommit=True, **self._connection)
                self._pg.execute(f"LISTEN {self._channel}")
            except psycopg.Error as exc:
                log.warning("cannot LISTEN on %s (%s); polling until the database answers", self._channel, exc)
                self._pg, self._pg_retry = None, time.monotonic() + 1.0
        return self._pg

    def wait(self, timeout: float) -> bool:
        if self.postgres:
            conn = None if self.closed else self._listening()
            if conn is None:
                time.sleep(timeout)
                return False
            try:
                return any(True for _ in conn.notifies(timeout=timeout, stop_after=1))
            except Exception as exc:  # the connection dropped: listen again on the next wait
                log.warning("LISTEN connection lost (%s); reconnecting", exc)
                self._close_pg()
                return False
        sock = self._sock  # close() may clear it from another thread meanwhile
        if sock is None:
            time.sleep(timeout)
            return False
        ready, _, _ = select.select([sock], [], [], timeout)
        if not ready:
            return False
        try:
            while sock.recv(64):  # drain: one look covers every notice so far
                pass
        except BlockingIOError:
            pass
        return True

    def _close_pg(self) -> None:
        if self._pg is not None:
            try:
                self._pg.close()
            except Exception:
                pass
            self._pg = None

    def close(self) -> None:
        self.closed = True
        self._close_pg()
        if self._sock is not None:
            self._sock.close()
            self._sock = None
            try:
                os.unlink(self._path)  # type: ignore[arg-type]
            except OSError:
                pass


def in_background(listener: Listener, on_notice: Callable[[], None], tick_s: float) -> threading.Thread:
    """Run ``listener`` on a daemon thread, calling ``on_notice`` for each notice (for an
    asyncio loop: a ``call_soon_threadsafe``), until the listener is closed."""

    def loop() -> None:
        while listener.live and not listener.closed:
            try:
                if listener.wait(tick_s):
                    on_notice()
            except (OSError, ValueError):  # closed under us: the process is stopping
                return

    thread = threading.Thread(target=loop, daemon=True, name="notices")
    thread.start()
    return thread
