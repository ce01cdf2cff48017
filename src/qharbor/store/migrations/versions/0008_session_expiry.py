"""Keep when a session's duration limit runs out on its row, so listing sessions by
``active`` can filter on it (before, the filter read only the stored status and listed
sessions past their limit as active, which the same response rendered as ended).

Revision ID: 0008
Revises: 0007
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("expires_at", sa.Float))
    conn = op.get_bind()
    started = conn.execute(sa.text("SELECT id, settings, started_at FROM sessions WHERE started_at IS NOT NULL")).all()
    expiring = [{"id": sid, "at": at + 60 * json.loads(settings)["duration_limit_min"]}
                for sid, settings, at in started if "duration_limit_min" in json.loads(settings)]
    if expiring:
        conn.execute(sa.text("UPDATE sessions SET expires_at = :at WHERE id = :id"), expiring)


def downgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("expires_at")
