"""Keep each finished job's ``output`` on its row (what its results are, debiasing variants).

Before this revision a job's probabilities were sampled exactly when it ran under a noise
model (every ``qpu.*`` backend, the simulator with a model other than ``ideal``) or was an
OpenQASM 3 program with mid-circuit measurement; debiasing variants lived only in the
``debiasing`` result document. Completed jobs are backfilled from those.

Revision ID: 0006
Revises: 0005
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _sampled(backend: str, noise: str | None, layout: str | None) -> bool:
    model = json.loads(noise).get("model", "ideal") if noise else "ideal"
    return backend != "simulator" or model != "ideal" or bool(layout and json.loads(layout).get("sampled"))


def upgrade() -> None:
    op.add_column("jobs", sa.Column("output", sa.Text, nullable=True))
    conn = op.get_bind()
    docs = "SELECT data FROM results WHERE results.job_id = jobs.id AND results.kind = '{}'"
    rows = conn.execute(sa.text(
        f"SELECT id, parent_id, backend, noise, ({docs.format('registers')}) AS layout,"
        f" ({docs.format('debiasing')}) AS debiasing FROM jobs WHERE status = 'completed' AND dry_run = FALSE"
    )).mappings().all()
    outputs: dict[str, dict] = {}
    for row in rows:
        output: dict = {"probabilities": "sampled" if _sampled(row["backend"], row["noise"], row["layout"]) else "exact"}
        if row["debiasing"]:
            record = json.loads(row["debiasing"])
            output["error_mitigation"] = {"debiasing": {"variants": record["variants"],
                                                        "aggregation_method": record["aggregation_method"]}}
        outputs[row["id"]] = output
    for row in rows:  # a multi-circuit parent is sampled when any child is
        if row["parent_id"] in outputs and outputs[row["id"]]["probabilities"] == "sampled":
            outputs[row["parent_id"]]["probabilities"] = "sampled"
    if outputs:
        conn.execute(sa.text("UPDATE jobs SET output = :output WHERE id = :id"),
                     [{"id": k, "output": json.dumps(v, separators=(",", ":"))} for k, v in outputs.items()])


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("output")
