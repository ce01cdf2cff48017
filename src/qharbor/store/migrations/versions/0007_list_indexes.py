"""Indexes that keep every job list page O(limit): a project's top-level jobs, by status, a
session's, and a parent's children, each in ``seq`` order (``store/jobs.py`` ``page_query``);
and one of the queue alone (``jobs_waiting``: top-level jobs waiting for a worker), so a
worker's look for work costs the same however many jobs have run (``store/queue.py``).

The top-level ones are partial (``parent_id IS NULL``): a multi-circuit job's children (up to
5,000 each) are neither in them nor walked past by a page. They replace ``jobs_project_seq``
(project, seq) and ``jobs_session`` (session), which the lists, and the session job count,
were the only users of.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _where(condition: str) -> dict[str, sa.TextClause]:
    return {"sqlite_where": sa.text(condition), "postgresql_where": sa.text(condition)}


def upgrade() -> None:
    op.create_index("jobs_top", "jobs", ["project_id", "seq"], **_where("parent_id IS NULL"))
    op.create_index("jobs_top_status", "jobs", ["project_id", "status", "seq"], **_where("parent_id IS NULL"))
    op.create_index("jobs_top_session", "jobs", ["session_id", "seq"],
                    **_where("parent_id IS NULL AND session_id IS NOT NULL"))
    op.create_index("jobs_children", "jobs", ["parent_id", "seq"], **_where("parent_id IS NOT NULL"))
    op.create_index("jobs_waiting", "jobs", ["seq"],
                    **_where("status IN ('submitted', 'ready') AND parent_id IS NULL"))
    op.drop_index("jobs_project_seq", "jobs")
    op.drop_index("jobs_session", "jobs")


def downgrade() -> None:
    op.create_index("jobs_session", "jobs", ["session_id"])
    op.create_index("jobs_project_seq", "jobs", ["project_id", "seq"])
    for name in ("jobs_waiting", "jobs_children", "jobs_top_session", "jobs_top_status", "jobs_top"):
        op.drop_index(name, "jobs")
