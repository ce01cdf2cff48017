"""Sessions: create, read, list, end; jobs join them within their limits."""

from __future__ import annotations

import httpx

from spec import assert_valid
from support import bell, wait_for


def _session(api: httpx.Client, **settings: object) -> dict:
    r = api.post("/sessions", json={"backend": "simulator", "settings": settings})
    assert r.status_code == 201, r.text
    assert_valid(r.json(), "Session")
    return r.json()


def test_session_lifecycle(api: httpx.Client) -> None:
    session = _session(api, job_count_limit=5)
    assert session["status"] == "created" and session["active"] is True and session["started_at"] is None
    job = wait_for(api, api.post("/jobs", json=bell(session_id=session["id"])).json()["id"])
    assert job["session_id"] == session["id"] and job["status"] == "completed"
    got = api.get(f"/sessions/{session['id']}").json()
    assert got["status"] == "started" and got["started_at"] and got["state"] == "started"
    listed = api.get(f"/sessions/{session['id']}/jobs").json()
    assert_valid(listed, "GetJobsResponse")
    assert [j["id"] for j in listed["jobs"]] == [job["id"]]
    assert [j["id"] for j in api.get("/jobs", params={"session_id": session["id"]}).json()["jobs"]] == [job["id"]]
    ended = api.post(f"/sessions/{session['id']}/end").json()
    assert ended["status"] == "ended" and ended["active"] is False and ended["ended_at"]
    r = api.post("/jobs", json=bell(session_id=session["id"]))
    assert r.status_code == 400 and r.json()["validation"]["keys"] == ["session_id"]


def test_job_count_limit_is_enforced(api: httpx.Client) -> None:
    session = _session(api, job_count_limit=2)
    codes = [api.post("/jobs", json=bell(session_id=session["id"])).status_code for _ in range(3)]
    assert codes == [201, 201, 400]


def test_session_backend_must_match(api: httpx.Client) -> None:
    session = _session(api)
    r = api.post("/jobs", json=bell(backend="qpu.aria-1", session_id=session["id"]))
    assert r.status_code == 400 and "simulator" in r.json()["message"]


def test_listing_sessions(api: httpx.Client) -> None:
    first, second = _session(api), _session(api)
    api.post(f"/sessions/{first['id']}/end")
    body = api.get("/sessions").json()
    assert_valid(body, "SessionsResponse")
    assert [s["id"] for s in body["sessions"]] == [second["id"], first["id"]]
    assert [s["id"] for s in api.get("/sessions", params={"active": "true"}).json()["sessions"]] == [second["id"]]
    page = api.get("/sessions", params={"limit": 1}).json()
    assert [s["id"] for s in page["sessions"]] == [second["id"]]
    rest = api.get("/sessions", params={"limit": 1, "next": page["next"]}).json()
    assert [s["id"] for s in rest["sessions"]] == [first["id"]] and rest["next"] is None


def test_unknown_session_and_bad_settings(api: httpx.Client) -> None:
    assert api.get("/sessions/nope").status_code == 404
    r = api.post("/sessions", json={"backend": "warp", "settings": {"job_count_limit": 0}})
    assert set(r.json()["validation"]["keys"]) == {"backend", "settings.job_count_limit"}
    r = api.post("/jobs", json=bell(session_id="nope"))
    assert r.status_code == 400 and r.json()["validation"]["keys"] == ["session_id"]
