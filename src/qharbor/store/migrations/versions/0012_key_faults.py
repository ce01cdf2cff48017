"""Fault injection per key (``service/faults.py``): the spec a key was created with, e.g.
``429=0.1,503=0.05,latency=200ms``, or NULL for none.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("faults", sa.String(200)))


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("faults")
