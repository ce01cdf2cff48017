"""ionq-core 0.2.0 (generated from IonQ's spec), unmodified: strict response models."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
from ionq_core import IonQClient
from ionq_core.api.backends import get_backend, get_backends
from ionq_core.api.default import (
    cancel_job,
    cancel_jobs,
    create_job,
    delete_job,
    delete_jobs,
    get_job,
    get_job_probabilities,
    get_jobs,
)
from ionq_core.api.whoami import get_whoami
from ionq_core.models.circuit_job_creation_payload import CircuitJobCreationPayload
from ionq_core.models.jobs_bulk_operation_request import JobsBulkOperationRequest
from ionq_core.pagination import iter_jobs
from ionq_core.polling import wait_for_job

BELL = {"type": "ionq.circuit.v1", "backend": "simulator", "shots": 100,
        "input": {"gateset": "qis", "qubits": 2,
                  "circuit": [{"gate": "h", "target": 0}, {"gate": "cnot", "control": 0, "target": 1}]}}


@pytest.fixture
def client(base_url: str, key: str) -> Iterator[object]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "not HTTPS": this is a local test server
        c = IonQClient(api_key=key, base_url=base_url, max_retries=0)
    c = c.with_raise_on_unexpected_status(True) if hasattr(c, "with_raise_on_unexpected_status") else c
    yield c


def submit(client: object, body: dict = BELL) -> str:
    created = create_job.sync(client=client, body=CircuitJobCreationPayload.from_dict(body))
    assert created is not None and created.status == "submitted"
    return created.id


def test_whoami_and_backends(client: object) -> None:
    me = get_whoami.sync(client=client)
    assert me.key_name == "client-test" and me.key_id
    backends = get_backends.sync(client=client)
    assert {b.backend for b in backends} >= {"simulator", "qpu.forte-1"}
    assert all(b.qubits > 0 and b.last_updated for b in backends)
    assert get_backend.sync("qpu.forte-1", client=client).qubits == 36


def test_job_flow(client: object) -> None:
    job_id = submit(client)
    job = wait_for_job(client, job_id, poll_interval=0.1, timeout=60)
    assert job.status == "completed" and job.execution_duration_ms is not None
    assert job.dry_run is False and job.submitter_id and job.project_id
    probs = get_job_probabilities.sync(job_id, client=client)
    assert probs.additional_properties == pytest.approx({"0": 0.5, "3": 0.5})
    again = get_job.sync(job_id, client=client)
    assert again.id == job_id and again.stats.qubits == 2


def test_pagination_follows_next_until_null(client: object) -> None:
    ids = [submit(client) for _ in range(5)]
    assert [j.id for j in iter_jobs(client, limit=2)] == ids[::-1]
    page = get_jobs.sync(client=client, limit=2)
    assert len(page.jobs) == 2 and isinstance(page.next_, str)


def test_cancel_and_delete(client: object) -> None:
    job_id = submit(client)
    assert cancel_job.sync(job_id, client=client).status == "canceled"
    assert delete_job.sync(job_id, client=client).status == "deleted"
    ids = [submit(client) for _ in range(2)]
    body = JobsBulkOperationRequest.from_dict({"ids": ids})
    assert cancel_jobs.sync(client=client, body=body).status == "canceled"
    assert sorted(delete_jobs.sync(client=client, body=body).ids) == sorted(ids)


def test_session_manager(client: object) -> None:
    from ionq_core.session import SessionManager

    with SessionManager(client, "simulator", max_jobs=2) as session:
        assert session.status() in ("created", "started", "ready")
        body = {**BELL, "session_id": session.session_id}
        job = wait_for_job(client, submit(client, body), poll_interval=0.1, timeout=60)
        assert job.session_id == session.session_id
        assert session.status() == "started"
    assert SessionManager.from_id(client, session.session_id).status() == "ended"


def test_characterizations_and_estimate(client: object) -> None:
    from ionq_core.api.characterizations import get_characterization, get_characterizations_for_backend
    from ionq_core.api.default import estimate_job_cost, get_job_cost

    listed = get_characterizations_for_backend.sync("qpu.forte-1", client=client, limit=1)
    [current] = listed.characterizations
    assert current.backend == "qpu.forte-1" and current.date
    assert get_characterization.sync("qpu.forte-1", current.id, client=client).qubits == 36
    estimate = estimate_job_cost.sync(client=client, backend="qpu.forte-1", qubits=2, shots=100)
    assert estimate.estimated_total_cost == 0
    job_id = submit(client)
    wait_for_job(client, job_id, poll_interval=0.1, timeout=60)
    assert get_job_cost.sync(job_id, client=client).dry_run is False


def test_dry_run_and_clone(client: object) -> None:
    from ionq_core.api.default import clone_job
    from ionq_core.models.clone_job_payload import CloneJobPayload

    dry = wait_for_job(client, submit(client, {**BELL, "dry_run": True}), poll_interval=0.1, timeout=60)
    assert dry.status == "completed" and dry.dry_run is True
    copy = clone_job.sync(dry.id, client=client, body=CloneJobPayload.from_dict({"dry_run": False, "shots": 5}))
    real = wait_for_job(client, copy.id, poll_interval=0.1, timeout=60)
    assert real.dry_run is False and get_job_probabilities.sync(real.id, client=client) is not None


def test_usage_report(client: object) -> None:
    """``get_usages`` parses qharbor's report into its strict models: this key's one completed
    job, free under the default rate card, on the day it completed."""
    import datetime as dt

    from ionq_core.api.usage import get_usages

    job = wait_for_job(client, submit(client), poll_interval=0.1, timeout=60)
    day = dt.datetime.fromisoformat(job.completed_at).astimezone(dt.UTC).date()
    me = get_whoami.sync(client=client)
    org = me.additional_properties["organization_id"]
    for group_by in ("job", "project", "user"):
        usages = get_usages.sync(org, client=client, start_date=day - dt.timedelta(days=1), end_date=day,
                                 group_by=group_by, modality="daily")
        assert usages.group_type == group_by and usages.modality == "daily" and usages.organization == org
        assert usages.job_count == 1 and usages.amount_total == 0 and usages.time_us_total == 0
        assert [u.from_.date() for u in usages.usage_data] == [day, day - dt.timedelta(days=1)]
        assert [len(u.group_usages) for u in usages.usage_data] == [1, 0]
        group = usages.usage_data[0].group_usages[0]
        expected = {"job": job.id, "project": job.project_id, "user": job.submitter_id}[group_by]
        assert group.group_id == expected and group.job_count == 1
    weekly = get_usages.sync(org, client=client, start_date=day, end_date=day, group_by="job", modality="weekly")
    assert weekly.job_count == 1 and weekly.usage_data[0].from_.date() == day
    from ionq_core.exceptions import BadRequestError

    with pytest.raises(BadRequestError, match="end_date"):
        get_usages.sync(org, client=client, start_date=day, end_date=day - dt.timedelta(days=1),
                        group_by="job", modality="daily")
