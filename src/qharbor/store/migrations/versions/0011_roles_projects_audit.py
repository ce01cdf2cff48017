"""Roles, projects and the audit log.

A key gets a ``role`` (``admin`` manages keys, projects and quotas and reads the audit log;
``member`` uses its project's jobs) and may expire (``expires_at``). The oldest key of an
existing install, the one its first ``qharbor serve`` printed, becomes its admin, as on a new
install. ``projects`` holds what admins set on a project (its organization, quotas, allowed
backends); a project without a row has no limits. ``audit`` is append-only.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("role", sa.String(16), nullable=False, server_default="member"))
        batch.add_column(sa.Column("expires_at", sa.Float))
    op.execute("UPDATE api_keys SET role = 'admin' WHERE id = "
               "(SELECT id FROM api_keys WHERE revoked_at IS NULL ORDER BY created_at LIMIT 1)")
    op.create_table(
        "projects",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("organization_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200)),
        sa.Column("max_unfinished_jobs", sa.Integer),
        sa.Column("allowed_backends", sa.Text),
        sa.Column("budget", sa.Float),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_table(
        "audit",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("target", sa.String(64)),
        sa.Column("key_id", sa.String(36)),
        sa.Column("project_id", sa.String(36)),
        sa.Column("request_id", sa.String(128)),
        sa.Column("client", sa.String(64)),
        sa.Column("detail", sa.Text),
    )
    op.create_index("audit_at", "audit", ["at"])
    op.create_index("audit_project", "audit", ["project_id", "seq"])


def downgrade() -> None:
    op.drop_table("audit")
    op.drop_table("projects")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("expires_at")
        batch.drop_column("role")
