"""Every setting of the service in one object: read once from flags and the environment,
validated, and handed whole to every process that needs it (``qharbor serve`` passes its
settings to the workers it starts, so they run under the same ones).

A setting that cannot be used stops the command at start with one message naming the
variable and what it can be, instead of every worker crashing on it later.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from .core import pricing

#: The environment variable the workers ``qharbor serve`` starts read their settings from.
HANDED_DOWN = "QHARBOR_SETTINGS"
PRECISIONS = ("double", "single")


class SettingsError(ValueError):
    """A setting with a value it cannot take; the message says which and what it can be."""


def default_data_dir() -> Path:
    """Per-user data directory (XDG on Linux, ~/.local/share/qharbor by default)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "qharbor"


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'qharbor.db'}"


@dataclass(frozen=True)
class Settings:
    database_url: str
    data_dir: Path | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    #: Worker processes ``qharbor serve`` starts; each worker's memory share divides by it.
    workers: int = os.cpu_count() or 1
    #: Requests above this size are refused with 413 before being read in full.
    max_body_bytes: int = 10 * 1024 * 1024
    #: A connection that has not sent a whole request's headers this long after it opened (or
    #: after its previous response) is closed; a body not received in full this long after its
    #: headers is answered 408. Stalled or trickling clients (slowloris) cannot hold connections.
    header_timeout_s: float = 10.0
    body_timeout_s: float = 60.0
    #: Wall-clock limit for one job's simulation; past it the job fails with SimulationTimeout.
    job_time_limit_s: float = 600.0
    #: An ideal circuit's exact probability map is stored while it has at most this many
    #: non-zero outcomes; beyond, the job stores its ``shots`` outcomes, drawn once with its
    #: seed (``engine/measure.py``), and says so (``output.probabilities: "sampled"``).
    max_exact_outcomes: int = 1 << 12
    #: ``GET /jobs/{id}`` of an unfinished job waits up to this long for it to finish
    #: (a long poll; see ``service/waiting.py``). 0 answers at once.
    unfinished_wait_s: float = 2.0
    #: Memory one worker's simulation may use, in bytes; by default the memory available
    #: when the worker starts, shared evenly among ``workers`` (they may run at once).
    engine_memory_bytes: int | None = None
    #: Simulator precision: "double" (complex128, exact) or "single" (complex64, ~1e-6).
    engine_precision: str = "double"
    #: "auto": wide registers run on a CUDA device where CuPy finds one (``engine/gpu.py``);
    #: "off": CPU only (e.g. to compare CPU timings on a machine with a GPU).
    engine_gpu: str = "auto"
    #: A worker silent for this long is presumed dead and its job recovered.
    worker_stale_after_s: float = 30.0
    #: How often a worker says it is alive (and sweeps for dead ones' jobs).
    worker_heartbeat_s: float = 2.0
    #: A job whose worker died this many times is failed instead of being run again (a job
    #: that kills its worker, e.g. for lack of memory, must not take the service down).
    max_attempts: int = 3
    #: An API process trusts a key it has checked for this long (authentication costs nothing
    #: on the hot path); it bounds how long a revoked key keeps working there.
    #: Short enough that a revocation holds on every API process within a second.
    auth_cache_s: float = 0.5
    #: Requests one API key may make: a token bucket of ``N`` requests refilled over the period
    #: (``N/s``, ``N/m``, ``N/h``), shared by every API process of the database; ``off``: none.
    #: The default is a minute's burst of 6,000 requests, 100 a second sustained: more than a
    #: client loop submitting or polling one request at a time reaches (see ``service/limits.py``).
    rate_limit: str = "6000/m"
    #: Finished jobs and their results are deleted this many days after they ended, by the
    #: workers, in small batches; 0 (the default) keeps them. Unfinished jobs and the audit
    #: log are never deleted.
    retention_days: float = 0.0
    #: TLS: the API answers HTTPS with this certificate chain and private key (PEM files);
    #: both or neither (behind a TLS-terminating proxy, neither).
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    #: Log lines as ``text`` (human) or ``json`` (one object per line, for log shippers).
    log_format: str = "text"
    #: Memory an API process may keep finished jobs' renderings in, in bytes (``api/memo.py``;
    #: split among the views, half for jobs and half for list pages); 0 keeps none.
    render_memo_bytes: int = 224 << 20
    #: The operator's prices (``core/pricing.py``), as JSON text; empty: every backend free.
    rate_card: str = ""
    #: Set by ``qharbor serve`` for the workers it starts: its pid, so a worker stops when
    #: its supervisor is gone.
    supervisor_pid: int | None = None

    def prices(self) -> pricing.RateCard:
        """The rate card (``QHARBOR_RATE_CARD``), parsed once per process."""
        return _card(self.rate_card)

    def to_json(self) -> str:
        values = dataclasses.asdict(self)
        values["data_dir"] = None if self.data_dir is None else str(self.data_dir)
        return orjson.dumps(values).decode()

    @classmethod
    def from_json(cls, text: str) -> Settings:
        values = orjson.loads(text)
        values["data_dir"] = None if values["data_dir"] is None else Path(values["data_dir"])
        return cls(**values)


@functools.cache
def _card(text: str) -> pricing.RateCard:
    return pricing.parse(text) if text else pricing.FREE


def _rate_card(raw: str) -> str:
    """a JSON rate card ({"rates": {backend: {"unit": "gates", "cost_1q_gate": ..., "cost_2q_gate": ...}
    | {"unit": "compute_second", "unit_cost": ...}}, optional "id", "currency", "job_cost_minimum"}),
    or the path of a file holding one"""
    text = raw if raw.lstrip().startswith("{") else _read(raw)
    try:
        pricing.parse(text)
    except ValueError as exc:
        raise SettingsError(f"QHARBOR_RATE_CARD is not usable: {exc}") from None
    return text


def _read(path: str) -> str:
    try:
        return Path(path).expanduser().read_text()
    except OSError as exc:
        raise SettingsError(f"QHARBOR_RATE_CARD={path!r} is neither JSON nor a readable file ({exc.strerror})") from None


def worker_environment(settings: Settings) -> dict[str, str]:
    """The environment of a worker ``qharbor serve`` starts: its own, plus ``settings``
    (read back by :func:`load` with ``handed_down``)."""
    return {**os.environ, HANDED_DOWN: settings.to_json()}


_PERIODS = {"s": 1.0, "m": 60.0, "h": 3600.0}


def rate(raw: str) -> tuple[int, float] | None:
    """A rate limit's requests and period in seconds (``"20/s"`` is ``(20, 1.0)``); None for ``off``."""
    if raw == "off":
        return None
    count, _, period = raw.partition("/")
    if not count.isdigit() or int(count) < 1 or period not in _PERIODS:
        raise ValueError(raw)
    return int(count), _PERIODS[period]


def _rate(raw: str) -> str:
    """a number of requests per period, like 20/s, 600/m or 10000/h (at least 1), or off"""
    rate(raw)
    return raw


def _number(kind: Callable[[str], Any], low: float, what: str) -> Callable[[str], Any]:
    def parse(raw: str) -> Any:
        value = kind(raw)
        if not value >= low:  # also refuses NaN
            raise ValueError
        return value

    parse.__doc__ = what
    return parse


def _choice(*allowed: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw not in allowed:
            raise ValueError
        return raw

    parse.__doc__ = "one of " + ", ".join(allowed)
    return parse


#: Environment variables, the setting each sets, and how its value is read (the parser's
#: docstring says what it must be).
ENVIRONMENT: dict[str, tuple[str, Callable[[str], Any]]] = {
    "QHARBOR_ENGINE_PRECISION": ("engine_precision", _choice(*PRECISIONS)),
    "QHARBOR_ENGINE_GPU": ("engine_gpu", _choice("auto", "off")),
    "QHARBOR_ENGINE_MEMORY_BYTES": ("engine_memory_bytes", _number(int, 1, "a positive whole number of bytes")),
    "QHARBOR_MAX_EXACT_OUTCOMES": ("max_exact_outcomes", _number(int, 1, "a positive whole number")),
    "QHARBOR_UNFINISHED_WAIT_S": ("unfinished_wait_s", _number(float, 0, "a number of seconds, 0 or more")),
    "QHARBOR_WORKER_STALE_AFTER_S": ("worker_stale_after_s", _number(float, 1, "a number of seconds, 1 or more")),
    "QHARBOR_WORKER_HEARTBEAT_S": ("worker_heartbeat_s", _number(float, 0.1, "a number of seconds, 0.1 or more")),
    "QHARBOR_MAX_ATTEMPTS": ("max_attempts", _number(int, 1, "a positive whole number")),
    "QHARBOR_AUTH_CACHE_S": ("auth_cache_s", _number(float, 0, "a number of seconds, 0 or more")),
    "QHARBOR_RENDER_MEMO_BYTES": ("render_memo_bytes", _number(int, 0, "a whole number of bytes, 0 or more")),
    "QHARBOR_RATE_LIMIT": ("rate_limit", _rate),
    "QHARBOR_RETENTION_DAYS": ("retention_days", _number(float, 0, "a number of days, 0 (keep all) or more")),
    "QHARBOR_LOG_FORMAT": ("log_format", _choice("text", "json")),
    "QHARBOR_RATE_CARD": ("rate_card", _rate_card),
    "QHARBOR_JOB_TIME_LIMIT_S": ("job_time_limit_s", _number(float, 1, "a number of seconds, 1 or more")),
    "QHARBOR_HEADER_TIMEOUT_S": ("header_timeout_s", _number(float, 0.1, "a number of seconds, 0.1 or more")),
    "QHARBOR_BODY_TIMEOUT_S": ("body_timeout_s", _number(float, 0.1, "a number of seconds, 0.1 or more")),
}


def load(data_dir: str | None = None, database: str | None = None, environ: Mapping[str, str] | None = None,
         handed_down: bool = False, **flags: Any) -> Settings:
    """The settings of this command: flags win over the environment, which wins over the
    defaults; with ``handed_down`` (a worker) the settings ``qharbor serve`` handed it, if
    it was started by one. Raises :class:`SettingsError` naming the first unusable value."""
    env = os.environ if environ is None else environ
    if handed_down and env.get(HANDED_DOWN):
        return Settings.from_json(env[HANDED_DOWN])
    url, directory = resolve_database(data_dir, database, env)
    values: dict[str, Any] = {}
    for variable, (name, parse) in ENVIRONMENT.items():
        raw = env.get(variable)
        if raw is None or raw == "":
            continue
        try:
            values[name] = parse(raw.strip())
        except SettingsError:
            raise
        except ValueError:
            raise SettingsError(f"{variable}={raw!r} is not usable: it must be {parse.__doc__}") from None
    if flags.get("rate_limit") is not None:
        try:
            _rate(flags["rate_limit"])
        except ValueError:
            raise SettingsError(f"--rate-limit {flags['rate_limit']!r} is not usable: it must be {_rate.__doc__}") from None
    if (flags.get("ssl_certfile") is None) != (flags.get("ssl_keyfile") is None):
        raise SettingsError("--ssl-certfile and --ssl-keyfile go together: give both, or neither")
    for flag in ("ssl_certfile", "ssl_keyfile"):
        if flags.get(flag) is not None and not Path(flags[flag]).is_file():
            raise SettingsError(f"--{flag.replace('_', '-')} {flags[flag]!r} is not usable: it must be a readable file")
    if flags.get("workers") is not None and flags["workers"] < 0:
        raise SettingsError(f"--workers {flags['workers']} is not usable: it must be 0 or more")
    values.update({k: v for k, v in flags.items() if v is not None})
    return Settings(database_url=url, data_dir=directory, **values)


def resolve_database(data_dir: str | None = None, database: str | None = None,
                     environ: Mapping[str, str] | None = None) -> tuple[str, Path | None]:
    """Flags win over ``QHARBOR_DATABASE_URL`` / ``QHARBOR_DATA_DIR``; SQLite in the data dir by default."""
    env = os.environ if environ is None else environ
    database = database or (None if data_dir else env.get("QHARBOR_DATABASE_URL"))
    if database:
        return database, None
    directory = Path(data_dir or env.get("QHARBOR_DATA_DIR") or default_data_dir()).expanduser()
    directory.mkdir(parents=True, exist_ok=True)
    return sqlite_url(directory), directory
