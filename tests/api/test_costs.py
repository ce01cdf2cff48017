"""The operator's rate card through HTTP: estimates, each job's recorded cost and quantum
compute time, session cost limits, project budgets and usage reports. Expected prices are
computed here from the rate card below, the jobs' gate counts and shots, and the emulated
machines' published timing (read from their characterizations), not from qharbor's code."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import httpx
import pytest
from support import Server, bell, run_cli, wait_for

from qharbor import settings

CARD = {"id": "lab-2026", "currency": "usd", "rates": {
    "simulator": {"unit": "gates", "cost_1q_gate": 0.001, "cost_2q_gate": 0.01},
    "qpu.aria-1": {"unit": "gates", "cost_1q_gate": 0.0003, "cost_2q_gate": 0.003, "job_cost_minimum": 0.5},
    "qpu.forte-1": {"unit": "compute_second", "unit_cost": 2.0},
}}
BELL_SIM = 100 * (1 * 0.001 + 1 * 0.01)  # 100 shots of one 1q and one 2q gate


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def priced(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    storage = (["--data-dir", str(tmp_path_factory.mktemp("priced"))] if request.param == "sqlite"
               else ["--database", request.getfixturevalue("postgres").new_database()])
    srv = Server(storage, workers=1,
                 env={"QHARBOR_RATE_CARD": json.dumps(CARD)}).start()
    yield srv
    srv.stop()


def _admin(server: Server, project: str, **values: object) -> None:
    r = httpx.put(f"{server.url}/admin/v1/projects/{project}", json=values,
                  headers={"Authorization": f"apiKey {server.key}"})
    assert r.status_code == 200, r.text


def _machine_us(api: httpx.Client, backend: str, shots: int, gates_1q: int, gates_2q: int) -> int:
    """The emulated machine's time from its published per-gate, readout and reset times, in exact
    arithmetic: whole milliseconds (truncated) plus one, as execution_duration_ms reports it."""
    cid = api.get(f"/backends/{backend}").json()["characterization_id"]
    t = {k: Fraction(str(v)) for k, v in api.get(f"/backends/{backend}/characterizations/{cid}").json()["timing"].items()}
    seconds = shots * (gates_1q * t["1q"] + gates_2q * t["2q"] + t["readout"] + t["reset"])
    return (math.floor(seconds * 1000) + 1) * 1000


def _run(api: httpx.Client, body: dict) -> dict:
    r = api.post("/jobs", json=body)
    assert r.status_code == 201, r.text
    return wait_for(api, r.json()["id"])


def test_estimate_uses_the_rate_card_and_the_live_queue(priced: Server) -> None:
    with priced.client(priced.new_key()) as api:
        q = {"qubits": 5, "shots": 300, "1q_gates": 10, "2q_gates": 4}
        forte = api.get("/jobs/estimate", params={"backend": "qpu.forte-1", **q}).json()
        us = _machine_us(api, "qpu.forte-1", 300, 10, 4)
        assert forte["estimated_quantum_compute_time_us"] == us
        assert forte["estimated_total_cost"] == pytest.approx(2.0 * us / 1e6)
        assert forte["rate_card"] == {"id": "lab-2026", "rates": [
            {"sku": "qpu.forte-1", "unit": "compute_second", "unit_cost": 2.0}]}
        assert forte["estimated_unit"] == "usd" and forte["estimate_context"]["organization"] == api.get("/whoami").json()["organization_id"]
        aria = api.get("/jobs/estimate", params={"backend": "qpu.aria-1", **q}).json()
        assert "estimated_quantum_compute_time_us" not in aria  # gate-priced
        assert aria["estimated_total_cost"] == pytest.approx(300 * (10 * 0.0003 + 4 * 0.003))
        small = api.get("/jobs/estimate", params={"backend": "qpu.aria-1", "shots": 10, "1q_gates": 1}).json()
        assert small["estimated_total_cost"] == pytest.approx(0.5)  # the job minimum
        free = api.get("/jobs/estimate", params={"backend": "qpu.aria-2", **q}).json()
        assert free["estimated_total_cost"] == 0 and free["rate_card"]["rates"][0]["cost_1q_gate"] == 0
        assert forte["current_predicted_queue_time"] == 0  # nothing queued, a worker idle


def test_queue_time_follows_the_live_queue(priced: Server) -> None:
    """One worker: a queued job waits for the running one and every one ahead of it."""
    with priced.client(priced.new_key()) as api:
        _run(api, bell())  # at least one measured run
        long = {"type": "ionq.circuit.v1", "backend": "simulator", "shots": 1,
                "input": {"gateset": "qis", "qubits": 22,
                          "circuit": [{"gate": "t", "target": 0}]
                          + [{"gate": "cnot", "control": q, "target": q + 1} for q in range(21)] * 40}}
        ids = [api.post("/jobs", json=long).json()["id"] for _ in range(3)]
        try:
            waits = api.get("/jobs/estimate", params={"backend": "simulator"}).json()["current_predicted_queue_time"]
            assert waits > 0
            api.put(f"/jobs/{ids[2]}/status/cancel")
            fewer = api.get("/jobs/estimate", params={"backend": "simulator"}).json()["current_predicted_queue_time"]
            if api.get(f"/jobs/{ids[0]}", params={}).json()["status"] == "started":  # no run ended in between
                assert fewer < waits
        finally:
            api.put("/jobs/status/cancel", json={"ids": ids})
        for i in ids:
            wait_for(api, i)


def test_each_job_records_its_cost_and_compute_time(priced: Server) -> None:
    with priced.client(priced.new_key()) as api:
        sim = _run(api, bell())
        assert sim["cost_model"] == "2QGE_operations" and sim["stats"]["billed_quantum_compute_time_us"] == 0
        cost = api.get(f"/jobs/{sim['id']}/cost").json()
        assert cost == {"dry_run": False, "cost": {"value": pytest.approx(BELL_SIM), "unit": "usd"},
                        "estimated_cost": {"value": pytest.approx(BELL_SIM), "unit": "usd"}}
        forte = _run(api, bell(backend="qpu.forte-1"))
        us = _machine_us(api, "qpu.forte-1", 100, 1, 1)
        assert forte["cost_model"] == "QCT" and forte["stats"]["billed_quantum_compute_time_us"] == us
        assert forte["execution_duration_ms"] * 1000 == us
        assert api.get(f"/jobs/{forte['id']}/cost").json()["cost"]["value"] == pytest.approx(2.0 * us / 1e6)
        multi = {"type": "ionq.multi-circuit.v1", "backend": "simulator", "shots": 50, "input": {
            "gateset": "qis", "qubits": 3, "circuits": [
                {"circuit": [{"gate": "h", "target": 0}, {"gate": "x", "target": 1}]},
                {"circuit": [{"gate": "cnot", "control": 0, "target": 1}, {"gate": "swap", "targets": [0, 2]}]}]}}
        job = _run(api, multi)
        counts = job["stats"]["gate_counts"]
        assert counts == {"1q": 2, "2q": 2}
        assert api.get(f"/jobs/{job['id']}/cost").json()["cost"]["value"] == pytest.approx(50 * (2 * 0.001 + 2 * 0.01))
        dry = _run(api, bell(dry_run=True))
        assert api.get(f"/jobs/{dry['id']}/cost").json()["cost"]["value"] == 0


def test_session_cost_limit_fails_the_job_that_would_exceed_it(priced: Server) -> None:
    with priced.client(priced.new_key()) as api:
        bad = api.post("/sessions", json={"backend": "simulator", "settings": {"cost_limit": {"unit": "eur", "value": 1}}})
        assert bad.status_code == 400 and bad.json()["validation"]["keys"] == ["settings.cost_limit.unit"]
        session = api.post("/sessions", json={"backend": "simulator", "settings": {
            "cost_limit": {"unit": "usd", "value": 2.5}, "duration_limit_min": 30}}).json()
        sid = session["id"]
        for _ in range(2):  # 2 x 1.1 = 2.2 <= 2.5
            assert _run(api, bell(session_id=sid))["status"] == "completed"
        third = wait_for(api, api.post("/jobs", json=bell(session_id=sid)).json()["id"])
        assert third["status"] == "failed" and third["failure"]["code"] == "QuotaExhaustedError"
        assert "cost_limit of 2.5 usd" in third["failure"]["message"]
        assert api.get(f"/jobs/{third['id']}/cost").json()["cost"]["value"] == 0
        shown = api.get(f"/sessions/{sid}").json()
        started = datetime.fromisoformat(shown["started_at"])
        lasts = datetime.fromisoformat(shown["settings"]["expires_at"]) - started
        assert abs(lasts - timedelta(minutes=30)) <= timedelta(milliseconds=1)
        assert shown["settings"]["cost_limit"] == {"unit": "usd", "value": 2.5}
        # A cheaper program still fits what is left (0.3 <= 0.3).
        cheap = bell(session_id=sid, shots=10, input={"gateset": "qis", "qubits": 1, "circuit": [
            {"gate": "h", "target": 0}] * 30})
        assert _run(api, cheap)["status"] == "completed"


def test_project_budget_binds(priced: Server) -> None:
    with priced.client(priced.new_key()) as api:
        project = api.get("/whoami").json()["project_id"]
        _admin(priced, project, budget=2.0)
        assert _run(api, bell())["status"] == "completed"  # 1.1
        over = wait_for(api, api.post("/jobs", json=bell()).json()["id"])  # 2.2 > 2.0
        assert over["status"] == "failed" and over["failure"]["code"] == "QuotaExhaustedError"
        assert "budget of 2 usd" in over["failure"]["message"]
        assert _run(api, bell(backend="qpu.aria-2"))["status"] == "completed"  # free here
        clone = wait_for(api, api.post(f"/jobs/{over['id']}/clone", json={}).json()["id"])
        assert clone["status"] == "failed" and clone["failure"]["code"] == "QuotaExhaustedError"
        _admin(priced, project, budget=10.0)
        assert _run(api, bell())["status"] == "completed"


def _key(server: Server, name: str, project: str, role: str = "member") -> str:
    out = run_cli("keys", "create", "--name", name, "--project", project, "--role", role, *server.storage)
    return out.strip().splitlines()[-1]


def _day(iso: str) -> date:
    return datetime.fromisoformat(iso).astimezone(UTC).date()


def test_usage_report(priced: Server) -> None:
    org = f"uni-{priced.port}"
    projects = {p: f"{p}-{priced.port}" for p in ("physics", "chem", "office")}
    for label, pid in projects.items():
        _key(priced, "seed", pid)  # the project exists once a key belongs to it
        _admin(priced, pid, organization_id=org, name=label)
    ann, bob = _key(priced, "ann", projects["physics"]), _key(priced, "bob", projects["chem"])
    boss = _key(priced, "boss", projects["office"], role="admin")
    with priced.client(ann) as a, priced.client(bob) as b, priced.client(boss) as admin:
        assert a.get("/whoami").json()["organization_id"] == org
        jobs = [_run(a, bell()), _run(a, bell(name="second")), _run(b, bell(backend="qpu.forte-1"))]
        forte_us = _machine_us(b, "qpu.forte-1", 100, 1, 1)
        forte_cost = 2.0 * forte_us / 1e6
        days = sorted({_day(j["completed_at"]) for j in jobs})
        start, end = days[0] - timedelta(days=1), days[-1]
        q = {"start_date": start.isoformat(), "end_date": end.isoformat(), "modality": "daily"}
        report = admin.get(f"/organizations/{org}/usage", params={**q, "group_by": "project"}).json()
        assert report["organization"] == org and report["group_type"] == "project" and report["modality"] == "daily"
        assert report["job_count"] == 3 and report["time_us_total"] == forte_us
        assert report["amount_total"] == pytest.approx(2 * BELL_SIM + forte_cost) and report["usage_unit"] == "usd"
        assert report["usage_from"] == f"{start.isoformat()}T00:00:00Z"
        assert report["usage_to"] == f"{(end + timedelta(days=1)).isoformat()}T00:00:00Z"
        froms = [d["from"] for d in report["usage_data"]]
        assert froms == [(end - timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]
        assert report["usage_data"][-1]["job_count"] == 0  # the day before: nothing
        groups: dict[str, list[float]] = {}
        for period in report["usage_data"]:
            assert period["amount"] == pytest.approx(sum(g["amount"] for g in period["group_usages"]))
            for g in period["group_usages"]:
                groups.setdefault(g["group_name"], []).append(g["amount"])
            amounts = [g["amount"] for g in period["group_usages"]]
            assert amounts == sorted(amounts, reverse=True)
        assert {k: sum(v) for k, v in groups.items()} == {"physics": pytest.approx(2 * BELL_SIM),
                                                          "chem": pytest.approx(forte_cost)}
        by_user = admin.get(f"/organizations/{org}/usage", params={**q, "group_by": "user"}).json()
        names = {g["group_name"] for d in by_user["usage_data"] for g in d["group_usages"]}
        assert names == {"ann", "bob"}
        by_job = admin.get(f"/organizations/{org}/usage", params={**q, "group_by": "job"}).json()
        ids = {g["group_id"] for d in by_job["usage_data"] for g in d["group_usages"]}
        assert ids == {j["id"] for j in jobs}
        monthly = admin.get(f"/organizations/{org}/usage", params={**q, "group_by": "job", "modality": "monthly"}).json()
        firsts = {d["from"] for d in monthly["usage_data"]}
        assert firsts == {max(start, d.replace(day=1)).isoformat() for d in (start, end)}
        weekly = admin.get(f"/organizations/{org}/usage", params={**q, "group_by": "job", "modality": "weekly"}).json()
        assert sum(d["job_count"] for d in weekly["usage_data"]) == 3
        assert {d["from"] for d in weekly["usage_data"]} == {
            max(start, d - timedelta(days=d.weekday())).isoformat() for d in (start, end)}
        # A member sees its own project's jobs only; another organization is not there.
        mine = a.get(f"/organizations/{org}/usage", params={**q, "group_by": "project"}).json()
        assert mine["job_count"] == 2 and mine["time_us_total"] == 0
        assert a.get("/organizations/00000000-0000-0000-0000-000000000000/usage", params={**q, "group_by": "job"}).status_code == 404
        bad = a.get(f"/organizations/{org}/usage", params={"start_date": "2026-13-01", "end_date": start.isoformat(),
                                                          "group_by": "team", "modality": "hourly"})
        assert bad.status_code == 400
        assert sorted(bad.json()["validation"]["keys"]) == ["group_by", "modality", "start_date"]
        backwards = a.get(f"/organizations/{org}/usage", params={**q, "group_by": "job",
                                                                "start_date": (end + timedelta(days=2)).isoformat()})
        assert backwards.status_code == 400 and backwards.json()["validation"]["keys"] == ["end_date"]


def test_rate_card_setting_is_checked_at_start(tmp_path: Path) -> None:
    def load(raw: str) -> str:
        with pytest.raises(settings.SettingsError) as caught:
            settings.load(data_dir=str(tmp_path), environ={"QHARBOR_RATE_CARD": raw})
        return str(caught.value)

    assert "'qpu.nowhere'" in load('{"rates": {"qpu.nowhere": {"unit": "gates"}}}')
    assert "rates.simulator.cost_1q_gate must be a number" in load(
        '{"rates": {"simulator": {"unit": "gates", "cost_1q_gate": -1}}}')
    assert "unit_cost" in load('{"rates": {"simulator": {"unit": "gates", "unit_cost": 1}}}')
    assert "neither JSON nor a readable file" in load(str(tmp_path / "missing.json"))
    card = tmp_path / "card.json"
    card.write_text(json.dumps(CARD))
    loaded = settings.load(data_dir=str(tmp_path), environ={"QHARBOR_RATE_CARD": str(card)})
    assert loaded.prices().rate("qpu.forte-1").unit_cost == 2.0
    assert math.isclose(loaded.prices().cost("simulator", 100, 1, 1, 0), BELL_SIM)


def test_spec_limits_name_their_failure_codes(priced: Server) -> None:
    """Shots up to 1,000,000, multi-circuit jobs up to 5,000 circuits and 150,000 gates (the spec's
    numbers): beyond, a 400 naming the field and the spec's failure code."""
    with priced.client(priced.new_key()) as api:
        shots = api.post("/jobs", json=bell(shots=1_000_001))
        assert shots.status_code == 400 and shots.json()["validation"]["keys"] == ["shots"]
        assert "TooManyShots" in shots.json()["message"]
        assert api.post("/jobs", json=bell(shots=1_000_000, dry_run=True)).status_code == 201
        many = {"type": "ionq.multi-circuit.v1", "backend": "simulator", "shots": 1, "input": {
            "gateset": "qis", "qubits": 1, "circuits": [{"circuit": [{"gate": "x", "target": 0}] * 30}] * 5001}}
        refused = api.post("/jobs", json=many)
        assert refused.status_code == 400 and "input.circuits" in refused.json()["validation"]["keys"]
        many["input"]["circuits"] = many["input"]["circuits"][:5000]  # 150,000 gates: allowed
        assert api.post("/jobs", json={**many, "dry_run": True}).status_code == 201
        many["input"]["circuits"][0] = {"circuit": [{"gate": "x", "target": 0}] * 31}
        gates = api.post("/jobs", json=many)
        assert gates.status_code == 400 and "TooManyGates" in gates.json()["message"]


@pytest.mark.parametrize("two_apis", [{"QHARBOR_RATE_CARD": json.dumps(CARD), "QHARBOR_UNFINISHED_WAIT_S": "0"}],
                         indirect=True)
def test_budget_holds_under_concurrent_submits_on_two_api_processes(two_apis: list[Server]) -> None:
    """20 simultaneous submits through two API processes on one PostgreSQL, budget for 5: exactly
    5 are admitted (queued: no workers), the rest fail with QuotaExhaustedError."""
    key = two_apis[0].new_key()
    with two_apis[0].client(key) as api:
        project = api.get("/whoami").json()["project_id"]
    _admin(two_apis[0], project, budget=5 * BELL_SIM)
    clients = [s.client(key) for s in two_apis]
    try:
        with ThreadPoolExecutor(20) as pool:
            ids = list(pool.map(lambda i: clients[i % 2].post("/jobs", json=bell()).json()["id"], range(20)))
        jobs = [clients[0].get(f"/jobs/{i}", params={}).json() for i in ids]
    finally:
        for c in clients:
            c.close()
    failed = [j for j in jobs if j["status"] == "failed"]
    assert len(jobs) - len(failed) == 5
    assert all(j["failure"]["code"] == "QuotaExhaustedError" for j in failed)
