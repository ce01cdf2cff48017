"""Record on each job whether it runs debiased (decided at submission; API v0.3 echoes it).

Jobs stored before this revision that ran debiased are recognised by their debiasing
result document (children), and their multi-circuit parents by those children.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("debiasing", sa.Boolean, nullable=False, server_default=sa.false()))
    ran = "SELECT job_id FROM results WHERE kind = 'debiasing'"
    op.execute(f"UPDATE jobs SET debiasing = TRUE WHERE id IN ({ran})")
    op.execute(f"UPDATE jobs SET debiasing = TRUE WHERE id IN (SELECT parent_id FROM jobs WHERE id IN ({ran}))")


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("debiasing")
