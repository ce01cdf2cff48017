"""What each job costs and whose organization it ran for (``core/pricing.py``, usage reports).

``cost``: the job's price in the rate card's currency — predicted at submission, replaced by
the recorded one when it completes, 0 when it fails or is canceled; ``quantum_time_us``: its
recorded quantum compute time (an emulated QPU's machine time; 0 on the simulator);
``organization_id``: the project's organization when the job was submitted (existing jobs:
their project's organization now, else the default one). The default organization becomes a
UUID like the spec's organization ids (it was ``default``).

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


DEFAULT = "00000000-0000-0000-0000-000000000000"


def upgrade() -> None:
    op.execute(f"UPDATE projects SET organization_id = '{DEFAULT}' WHERE organization_id = 'default'")
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("organization_id", sa.String(64)))
        batch.add_column(sa.Column("cost", sa.Float))
        batch.add_column(sa.Column("quantum_time_us", sa.BigInteger))
    op.execute("UPDATE jobs SET organization_id = COALESCE((SELECT organization_id FROM projects"
               f" WHERE projects.id = jobs.project_id), '{DEFAULT}')")
    op.create_index("jobs_usage", "jobs", ["organization_id", "completed_at"],
                    sqlite_where=sa.text("parent_id IS NULL"), postgresql_where=sa.text("parent_id IS NULL"))


def downgrade() -> None:
    op.execute(f"UPDATE projects SET organization_id = 'default' WHERE organization_id = '{DEFAULT}'")
    op.drop_index("jobs_usage", "jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("quantum_time_us")
        batch.drop_column("cost")
        batch.drop_column("organization_id")
