"""Initial schema: API keys, jobs, results, workers.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_SEQ = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("project_id", sa.String(36), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("revoked_at", sa.Float),
    )
    op.create_table(
        "jobs",
        sa.Column("seq", _SEQ, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(36), nullable=False, unique=True),
        sa.Column("project_id", sa.String(36), nullable=False),
        sa.Column("submitter_id", sa.String(36), nullable=False),
        sa.Column("parent_id", sa.String(36)),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("backend", sa.String(60), nullable=False),
        sa.Column("name", sa.Text),
        sa.Column("session_id", sa.String(64)),
        sa.Column("dry_run", sa.Boolean, nullable=False),
        sa.Column("shots", sa.Integer, nullable=False),
        sa.Column("noise", sa.Text),
        sa.Column("settings", sa.Text, nullable=False),
        sa.Column("job_metadata", sa.Text),
        sa.Column("qubits", sa.Integer, nullable=False),
        sa.Column("circuits", sa.Integer, nullable=False),
        sa.Column("gate_counts", sa.Text, nullable=False),
        sa.Column("program", sa.Text),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("submitted_at", sa.Float, nullable=False),
        sa.Column("started_at", sa.Float),
        sa.Column("completed_at", sa.Float),
        sa.Column("execution_duration_ms", sa.Integer),
        sa.Column("failure_code", sa.String(40)),
        sa.Column("failure_message", sa.Text),
        sa.Column("worker_id", sa.String(36)),
        sa.Column("attempts", sa.Integer, nullable=False),
    )
    op.create_index("jobs_project_seq", "jobs", ["project_id", "seq"])
    op.create_index("jobs_parent", "jobs", ["parent_id", "position"])
    op.create_index("jobs_queue", "jobs", ["status", "seq"])
    op.create_table(
        "results",
        sa.Column("job_id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(40), primary_key=True),
        sa.Column("data", sa.Text, nullable=False),
    )
    op.create_table(
        "workers",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("hostname", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("heartbeat_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    for table in ("workers", "results", "jobs", "api_keys"):
        op.drop_table(table)
