"""Index jobs by completion time, for the API's wait-for-completion watcher.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("jobs_completed", "jobs", ["completed_at"])


def downgrade() -> None:
    op.drop_index("jobs_completed", "jobs")
