"""Sessions: create, read, list, end; jobs join them within their limits."""

from __future__ import annotations

from pathlib import Path

import httpx
import sqlalchemy as sa
from spec import assert_valid
from support import Server, bell, wait_for

from qharbor.settings import sqlite_url
from qharbor.store.db import open_engine


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


def _engine(server: Server) -> sa.Engine:
    flag, where = server.storage
    return open_engine(sqlite_url(Path(where)) if flag == "--data-dir" else where)


def test_a_session_past_its_duration_limit_is_listed_as_it_is_rendered(api: httpx.Client, server: Server) -> None:
    """``GET /sessions?active=...`` filters by the same rule the session view renders: a
    session whose duration limit has run out is ended, though nobody ended it."""
    lapsed, open_ = _session(api, duration_limit_min=1), _session(api, duration_limit_min=60)
    for session in (lapsed, open_):
        wait_for(api, api.post("/jobs", json=bell(session_id=session["id"])).json()["id"])  # starts the clock
    engine = _engine(server)
    with engine.begin() as conn:  # a minute passes for the first (time travel: the test cannot wait it out)
        conn.execute(sa.text("UPDATE sessions SET started_at = started_at - 61, expires_at = expires_at - 61"
                             " WHERE id = :id"), {"id": lapsed["id"]})
    engine.dispose()
    shown = {s["id"]: s["active"] for s in api.get("/sessions").json()["sessions"]}
    assert shown == {lapsed["id"]: False, open_["id"]: True}
    active = [s["id"] for s in api.get("/sessions", params={"active": "true"}).json()["sessions"]]
    inactive = [s["id"] for s in api.get("/sessions", params={"active": "false"}).json()["sessions"]]
    assert active == [open_["id"]] and inactive == [lapsed["id"]]
    got = api.get(f"/sessions/{lapsed['id']}").json()
    assert got["status"] == "ended" and got["active"] is False and got["settings"]["expires_at"]


def test_unknown_session_and_bad_settings(api: httpx.Client) -> None:
    assert api.get("/sessions/nope").status_code == 404
    r = api.post("/sessions", json={"backend": "warp", "settings": {"job_count_limit": 0}})
    assert set(r.json()["validation"]["keys"]) == {"backend", "settings.job_count_limit"}
    r = api.post("/jobs", json=bell(session_id="nope"))
    assert r.status_code == 400 and r.json()["validation"]["keys"] == ["session_id"]
