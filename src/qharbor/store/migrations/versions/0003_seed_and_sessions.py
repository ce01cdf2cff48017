"""Record each job's sampling seed; add sessions.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("seed", sa.BigInteger))
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("project_id", sa.String(36), nullable=False),
        sa.Column("creator_id", sa.String(36), nullable=False),
        sa.Column("backend", sa.String(60), nullable=False),
        sa.Column("settings", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("started_at", sa.Float),
        sa.Column("ended_at", sa.Float),
        sa.Column("ender_id", sa.String(36)),
    )
    op.create_index("sessions_project", "sessions", ["project_id", "created_at"])
    op.create_index("jobs_session", "jobs", ["session_id"])


def downgrade() -> None:
    op.drop_index("jobs_session", "jobs")
    op.drop_table("sessions")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("seed")
