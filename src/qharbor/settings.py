"""Every setting of the service in one object, read from flags or the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .store.db import sqlite_url


def default_data_dir() -> Path:
    """Per-user data directory (XDG on Linux, ~/.local/share/qharbor by default)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "qharbor"


@dataclass(frozen=True)
class Settings:
    database_url: str
    data_dir: Path | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = os.cpu_count() or 1
    #: Requests above this size are refused with 413 before being read in full.
    max_body_bytes: int = 10 * 1024 * 1024
    #: Wall-clock limit for one job's simulation; past it the job fails with SimulationTimeout.
    job_time_limit_s: float = 600.0
    #: An ideal circuit's exact probability map is stored while it has at most this many
    #: non-zero outcomes; beyond, the job stores its ``shots`` outcomes, drawn once with its
    #: seed (``engine/measure.py``), and says so (``output.probabilities: "sampled"``).
    max_exact_outcomes: int = int(os.environ.get("QHARBOR_MAX_EXACT_OUTCOMES", 1 << 12))
    #: ``GET /jobs/{id}`` of an unfinished job waits up to this long for it to finish
    #: (a long poll; see ``api/waiting.py``). 0 answers at once.
    unfinished_wait_s: float = float(os.environ.get("QHARBOR_UNFINISHED_WAIT_S", 2.0))
    #: Memory one worker's simulation may use, in bytes; by default the memory available
    #: when the worker starts, shared evenly among ``workers`` (they may run at once).
    engine_memory_bytes: int | None = (
        int(os.environ["QHARBOR_ENGINE_MEMORY_BYTES"]) if os.environ.get("QHARBOR_ENGINE_MEMORY_BYTES") else None
    )
    #: Simulator precision: "double" (complex128, exact) or "single" (complex64, ~1e-6).
    engine_precision: str = os.environ.get("QHARBOR_ENGINE_PRECISION", "double")
    #: A worker silent for this long is presumed dead and its job recovered.
    worker_stale_after_s: float = float(os.environ.get("QHARBOR_WORKER_STALE_AFTER_S", 30.0))


def resolve_database(data_dir: str | None = None, database: str | None = None) -> tuple[str, Path | None]:
    """Flags win over ``QHARBOR_DATABASE_URL`` / ``QHARBOR_DATA_DIR``; SQLite in the data dir by default."""
    database = database or (None if data_dir else os.environ.get("QHARBOR_DATABASE_URL"))
    if database:
        return database, None
    directory = Path(data_dir or os.environ.get("QHARBOR_DATA_DIR") or default_data_dir()).expanduser()
    directory.mkdir(parents=True, exist_ok=True)
    return sqlite_url(directory), directory
