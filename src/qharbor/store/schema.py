"""Table definitions: the single description of what is persisted.

Times are UNIX seconds (float) so both back ends store them identically and the
API views (ISO strings for v0.4, epoch seconds for v0.3) are pure projections.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ColumnElement,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

_SEQ = BigInteger().with_variant(Integer, "sqlite")  # SQLite only autoincrements INTEGER

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("secret_hash", String(64), nullable=False, unique=True),
    Column("user_id", String(36), nullable=False),
    Column("project_id", String(36), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("revoked_at", Float),
    Column("role", String(16), nullable=False, server_default="member"),  # admin | member
    Column("expires_at", Float),
    Column("faults", String(200)),  # fault injection spec (``service/faults.py``), or NULL
)

jobs = Table(
    "jobs",
    metadata,
    # ``seq`` orders jobs (keyset pagination, FIFO dispatch); ``id`` is the public UUID.
    Column("seq", _SEQ, primary_key=True, autoincrement=True),
    Column("id", String(36), nullable=False, unique=True),
    Column("project_id", String(36), nullable=False),
    Column("submitter_id", String(36), nullable=False),
    Column("parent_id", String(36)),
    Column("position", Integer, nullable=False, default=0),
    Column("type", String(40), nullable=False),
    Column("backend", String(60), nullable=False),
    Column("name", Text),
    Column("session_id", String(64)),
    Column("dry_run", Boolean, nullable=False, default=False),
    Column("shots", Integer, nullable=False),
    Column("noise", Text),  # JSON or NULL
    Column("settings", Text, nullable=False),  # JSON
    Column("job_metadata", Text),  # JSON exactly as submitted, or NULL
    Column("qubits", Integer, nullable=False),
    Column("circuits", Integer, nullable=False),
    Column("gate_counts", Text, nullable=False),  # JSON
    Column("program", Text),  # JSON circuit input; NULL on multi-circuit parents
    Column("status", String(16), nullable=False),
    Column("submitted_at", Float, nullable=False),
    Column("started_at", Float),
    Column("completed_at", Float),
    Column("execution_duration_ms", Integer),
    Column("failure_code", String(40)),
    Column("failure_message", Text),
    Column("worker_id", String(36)),
    Column("attempts", Integer, nullable=False, default=0),
    Column("seed", BigInteger),  # sampling seed: noise.seed, or one drawn at submission
    Column("registers", Text),  # JSON or NULL: client register maps (v0.3 ``registers``), echoed back
    # Whether the job runs debiased (IonQ's defaults and limits, applied once at submission).
    Column("debiasing", Boolean, nullable=False, default=False),
    # JSON set when the job completes: what its results are (``probabilities``: "exact" or
    # "sampled", the ``precision`` an ideal run used) and ``error_mitigation`` on debiased runs.
    Column("output", Text),
    # Pricing (``core/pricing.py``): the organization the job ran for (its project's, at
    # submission), its cost in the rate card's currency (predicted until it completes, then
    # recorded; 0 if it fails or is canceled) and its recorded quantum compute time.
    Column("organization_id", String(64)),
    Column("cost", Float),
    Column("quantum_time_us", BigInteger),
)
Index("jobs_parent", jobs.c.parent_id, jobs.c.position)
Index("jobs_queue", jobs.c.status, jobs.c.seq)
Index("jobs_completed", jobs.c.completed_at)


def _partial(condition: ColumnElement[bool]) -> dict[str, ColumnElement[bool]]:
    return {"sqlite_where": condition, "postgresql_where": condition}


# Job lists, newest first, O(limit) per page (store/jobs.py page_query): top-level jobs (partial
# indexes: children are neither in them nor walked past), by project, by project and status,
# by session; and a parent's children.
_TOP = jobs.c.parent_id.is_(None)
Index("jobs_top", jobs.c.project_id, jobs.c.seq, **_partial(_TOP))
Index("jobs_top_status", jobs.c.project_id, jobs.c.status, jobs.c.seq, **_partial(_TOP))
Index("jobs_top_session", jobs.c.session_id, jobs.c.seq, **_partial(_TOP & jobs.c.session_id.is_not(None)))
Index("jobs_children", jobs.c.parent_id, jobs.c.seq, **_partial(jobs.c.parent_id.is_not(None)))
# Usage reports: an organization's top-level jobs by completion time.
Index("jobs_usage", jobs.c.organization_id, jobs.c.completed_at, **_partial(_TOP))
# The queue: top-level jobs waiting for a worker, oldest first (store/queue.py), whatever the history.
Index("jobs_waiting", jobs.c.seq, **_partial(jobs.c.status.in_(("submitted", "ready")) & _TOP))

results = Table(
    "results",
    metadata,
    Column("job_id", String(36), primary_key=True),
    Column("kind", String(40), primary_key=True),
    Column("data", Text, nullable=False),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("project_id", String(36), nullable=False),
    Column("creator_id", String(36), nullable=False),
    Column("backend", String(60), nullable=False),
    Column("settings", Text, nullable=False),  # JSON: job_count_limit, duration_limit_min, cost_limit
    Column("status", String(16), nullable=False),  # created -> started (first job) -> ended
    Column("created_at", Float, nullable=False),
    Column("started_at", Float),
    Column("ended_at", Float),
    Column("ender_id", String(36)),
    # When the duration limit runs out (set when the first job starts the session), or NULL.
    Column("expires_at", Float),
)
Index("sessions_project", sessions.c.project_id, sessions.c.created_at)

workers = Table(
    "workers",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("hostname", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", Float, nullable=False),
    Column("heartbeat_at", Float, nullable=False),
)

# A submit's Idempotency-Key and the answer it got (``service/idempotency.py``); ``status`` is
# NULL while the first request with the key is still being served.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("project_id", String(36), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("status", Integer),
    Column("body", Text),
    Column("created_at", Float, nullable=False),
)
Index("idempotency_keys_created", idempotency_keys.c.created_at)

# Each API key's rate-limit token bucket (``service/limits.py``): tokens left at ``updated_at``.
rate_buckets = Table(
    "rate_buckets",
    metadata,
    Column("key_id", String(36), primary_key=True),
    Column("tokens", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

# What admins set on a project (``service/projects.py``); a project without a row has no limits.
projects = Table(
    "projects",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("organization_id", String(64), nullable=False),
    Column("name", String(200)),
    Column("max_unfinished_jobs", Integer),
    Column("allowed_backends", Text),  # JSON list, or NULL: all
    Column("budget", Float),
    Column("updated_at", Float, nullable=False),
)

# The append-only audit log (``service/audit.py``).
audit = Table(
    "audit",
    metadata,
    Column("seq", _SEQ, primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False),
    Column("action", String(40), nullable=False),
    Column("target", String(64)),
    Column("key_id", String(36)),
    Column("project_id", String(36)),
    Column("request_id", String(128)),
    Column("client", String(64)),
    Column("detail", Text),  # JSON or NULL
)
Index("audit_at", audit.c.at)
Index("audit_project", audit.c.project_id, audit.c.seq)
