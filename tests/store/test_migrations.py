"""Migrations carry stored jobs forward: 0006 backfills every completed job's ``output``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from qharbor.store.db import _MIGRATIONS, migrate, open_engine


def _at(engine: sa.Engine, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def _job(job_id: str, backend: str = "simulator", noise: str | None = None, parent: str | None = None,
         status: str = "completed", debiasing: bool = False) -> dict:
    return {"id": job_id, "project_id": "p", "submitter_id": "u", "parent_id": parent, "position": 0,
            "type": "ionq.circuit.v1", "backend": backend, "dry_run": False, "shots": 100, "noise": noise,
            "settings": "{}", "qubits": 2, "circuits": 1, "gate_counts": "{}", "status": status,
            "submitted_at": 1.0, "attempts": 1, "debiasing": debiasing}


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'old.db'}"
    return request.getfixturevalue("postgres").new_database()


def test_0006_says_what_every_finished_job_stored(url: str) -> None:
    engine = open_engine(url)
    _at(engine, "0005")
    variants = [{"variant_id": "v", "qubit_map": [1, 0], "shots": 100}]
    rows = [
        _job("ideal"),
        _job("named-ideal", noise='{"model":"ideal","seed":3}'),
        _job("noisy", noise='{"model":"aria-1","seed":3}'),
        _job("qpu", backend="qpu.aria-1", debiasing=True),
        _job("parent", backend="simulator"), _job("child-exact", parent="parent"),
        _job("qasm-dynamic"), _job("queued", status="ready"),
    ]
    docs = [("qpu", "debiasing", json.dumps({"variants": variants, "aggregation_method": "average",
                                             "histograms": [{"0": 100}]})),
            ("qasm-dynamic", "registers", '{"registers":[["c",1]],"clbits":1,"sampled":true}')]
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO jobs (id, project_id, submitter_id, parent_id, position, type, backend,"
                             " dry_run, shots, noise, settings, qubits, circuits, gate_counts, status, submitted_at,"
                             " attempts, debiasing) VALUES (:id, :project_id, :submitter_id, :parent_id, :position,"
                             " :type, :backend, :dry_run, :shots, :noise, :settings, :qubits, :circuits,"
                             " :gate_counts, :status, :submitted_at, :attempts, :debiasing)"), rows)
        conn.execute(sa.text("INSERT INTO results (job_id, kind, data) VALUES (:j, :k, :d)"),
                     [{"j": j, "k": k, "d": d} for j, k, d in docs])
    migrate(engine)
    with engine.connect() as conn:
        found = {r.id: (json.loads(r.output) if r.output else None)
                 for r in conn.execute(sa.text("SELECT id, output FROM jobs"))}
    engine.dispose()
    exact, sampled = {"probabilities": "exact"}, {"probabilities": "sampled"}
    assert found == {
        "ideal": exact, "named-ideal": exact, "noisy": sampled, "parent": exact, "child-exact": exact,
        "qpu": {**sampled, "error_mitigation": {"debiasing": {"variants": variants, "aggregation_method": "average"}}},
        "qasm-dynamic": sampled, "queued": None,
    }


def test_0011_makes_an_existing_install_s_first_key_its_admin(url: str) -> None:
    engine = open_engine(url)
    _at(engine, "0010")
    keys = [("revoked-oldest", 1.0, 5.0), ("first", 2.0, None), ("later", 3.0, None)]
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO api_keys (id, name, secret_hash, user_id, project_id, created_at, revoked_at)"
                             " VALUES (:id, :id, :id, 'u', 'p', :at, :revoked)"),
                     [{"id": i, "at": at, "revoked": revoked} for i, at, revoked in keys])
    migrate(engine)
    with engine.connect() as conn:
        roles = dict(conn.execute(sa.text("SELECT id, role FROM api_keys")).all())
    engine.dispose()
    assert roles == {"revoked-oldest": "member", "first": "admin", "later": "member"}


def test_0013_records_each_job_s_organization_and_renames_the_default_one(url: str) -> None:
    engine = open_engine(url)
    _at(engine, "0012")
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO projects (id, organization_id, updated_at) VALUES (:id, :org, 1.0)"),
                     [{"id": "lab", "org": "uni"}, {"id": "unset", "org": "default"}])
        for job_id, project in (("in-lab", "lab"), ("in-unset", "unset"), ("no-row", "other")):
            row = {**_job(job_id), "project_id": project}
            conn.execute(sa.text("INSERT INTO jobs (id, project_id, submitter_id, parent_id, position, type, backend,"
                                 " dry_run, shots, noise, settings, qubits, circuits, gate_counts, status,"
                                 " submitted_at, attempts, debiasing) VALUES (:id, :project_id, :submitter_id,"
                                 " :parent_id, :position, :type, :backend, :dry_run, :shots, :noise, :settings,"
                                 " :qubits, :circuits, :gate_counts, :status, :submitted_at, :attempts, :debiasing)"),
                         row)
    migrate(engine)
    default = "00000000-0000-0000-0000-000000000000"
    with engine.connect() as conn:
        projects = dict(conn.execute(sa.text("SELECT id, organization_id FROM projects")).all())
        jobs = {r[0]: r[1:] for r in conn.execute(sa.text("SELECT id, organization_id, cost, quantum_time_us FROM jobs"))}
    engine.dispose()
    assert projects == {"lab": "uni", "unset": default}
    assert jobs == {"in-lab": ("uni", None, None), "in-unset": (default, None, None), "no-row": (default, None, None)}
