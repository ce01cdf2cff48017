"""The console's admin pages (Keys, Project, Audit), its circuit drawings and a deletion seen live,
in a real browser (headless Chromium) against a real ``qharbor serve``, on SQLite and PostgreSQL.

As in ``test_console.py``, every expectation is read from the API independently of the console."""

from __future__ import annotations

import re
import threading
import time
import uuid
from typing import Any

import httpx
import pytest
from support import Server, bell, run_cli
from test_console import follow, project_key, row, sign_in

pytest.importorskip("playwright")
from playwright.sync_api import expect

NAV = ("Keys", "Project", "Audit")


def admin_key(server: Server) -> tuple[str, httpx.Client]:
    """An admin key of a project of its own, and an admin API client with it."""
    key = run_cli("keys", "create", "--name", "boss", "--role", "admin", "--project", str(uuid.uuid4()),
                  *server.storage).strip().splitlines()[-1]
    return key, httpx.Client(base_url=server.url + "/admin/v1", timeout=30, headers={"Authorization": f"apiKey {key}"})


def nav_link(page: Any, name: str) -> Any:
    return page.locator("#nav").get_by_role("link", name=name, exact=True)


def test_an_admin_manages_keys_and_the_project_and_a_member_gets_the_403(server: Server, page: Any) -> None:
    key, adm = admin_key(server)
    me = server.client(key).get("/whoami").json()
    assert me["role"] == "admin"
    sign_in(page, server, key)
    for name in NAV:
        expect(nav_link(page, name)).to_be_visible()

    # Keys: create one (the secret is shown once), then revoke it; the API refuses it from then on.
    nav_link(page, "Keys").click()
    expect(page.get_by_role("heading", name="Keys", exact=True)).to_be_visible()
    page.get_by_label("Name", exact=True).fill("robot")
    page.get_by_role("button", name="Create key").click()
    secret = page.locator("#new-secret").inner_text()
    made = next(k for k in adm.get("/keys").json()["keys"] if k["name"] == "robot" and k["project_id"] == me["project_id"])
    assert "secret" not in made and made["role"] == "member"
    with server.client(secret) as robot:
        assert robot.get("/whoami").json()["key_id"] == made["id"]  # the secret shown is the key's
        keys_table = page.locator('table[aria-label="Keys"]')
        expect(keys_table.locator(f'tr[data-key-id="{made["id"]}"]')).to_be_visible()
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Revoke key robot").click()
        expect(page.get_by_role("status")).to_have_text("Key robot revoked.")
        expect(keys_table.locator(f'tr[data-key-id="{made["id"]}"] td').nth(6)).not_to_be_empty()
        deadline = time.monotonic() + 5
        while (refused := robot.get("/whoami")).status_code != 401:  # within the auth cache (0.5 s)
            assert time.monotonic() < deadline, "the revoked key still works"
            time.sleep(0.05)
        assert refused.json()["statusCode"] == 401
    page.reload()  # shown once: the page never shows it again
    expect(page.locator('table[aria-label="Keys"]')).to_be_visible()
    expect(page.locator("#new-secret")).to_have_count(0)
    assert secret not in page.content()

    # Project: its members are its keys; settings and quotas are saved through the admin API.
    nav_link(page, "Project").click()
    members = page.locator('table[aria-label="Members"] tbody tr td:first-child')
    expect(members).to_have_count(2)
    assert sorted(members.all_inner_texts()) == sorted([me["key_id"], made["id"]])
    page.get_by_label("Most unfinished jobs").fill("3")
    page.get_by_label("every backend").uncheck()
    page.get_by_label("simulator", exact=True).check()
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    project = adm.get(f"/projects/{me['project_id']}").json()
    assert (project["max_unfinished_jobs"], project["allowed_backends"], project["budget"]) == (3, ["simulator"], None)

    # Audit: the revocation, with its target.
    nav_link(page, "Audit").click()
    page.get_by_label("Action").select_option("key.revoke")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator('table[aria-label="Audit log"] tbody tr').first.locator("td").nth(2)).to_have_text(made["id"])

    # A member: no admin entries, and the admin API's 403 in words on an admin page's URL.
    page.get_by_role("button", name="Sign out").click()
    member, _ = project_key(server)
    sign_in(page, server, member)
    expect(page.locator("#who")).to_have_text(re.compile("project "))  # whoami answered
    for name in NAV:
        expect(nav_link(page, name)).to_be_hidden()
    forbidden = httpx.get(server.url + "/admin/v1/keys", headers={"Authorization": f"apiKey {member}"})
    assert forbidden.status_code == 403
    for path in ("keys", "project", "audit"):
        page.goto(f"{server.url}/console/{path}")
        expect(page.get_by_role("alert")).to_have_text(forbidden.json()["message"])


def test_the_job_page_draws_circuits_up_to_a_readable_size(server: Server, page: Any) -> None:
    key, api = project_key(server)
    bell_id = api.post("/jobs", json=bell(name="bell")).json()["id"]
    wide = bell(name="wide", dry_run=True, backend="qpu.forte-1",
                input={"gateset": "qis", "qubits": 30, "circuit": [{"gate": "h", "target": q} for q in range(30)]})
    made = api.post("/jobs", json=wide)
    assert made.status_code == 201, made.text
    circuits = [{"name": "first", "circuit": [{"gate": "h", "target": 0}]},
                {"name": "second", "circuit": [{"gate": "x", "target": 1}, {"gate": "swap", "targets": [0, 1]}]}]
    multi = api.post("/jobs", json=bell(dry_run=True, type="ionq.multi-circuit.v1",
                                        input={"gateset": "qis", "qubits": 2, "circuits": circuits})).json()["id"]
    sign_in(page, server, key)

    page.goto(f"{server.url}/console/jobs/{bell_id}")
    drawing = page.get_by_role("img", name=f"circuit of job {bell_id}: 2 qubits, 2 gates", exact=True)
    expect(drawing).to_be_visible()
    expect(drawing.locator("line.wire")).to_have_count(2)
    expect(drawing.locator("g.oplus")).to_have_count(1)  # the cnot's target
    expect(drawing.locator("circle.control")).to_have_count(1)
    expect(drawing.locator('g.gate[data-gate="h"] text')).to_have_text("h")

    page.goto(f"{server.url}/console/jobs/{made.json()['id']}")
    counts = api.get(f"/jobs/{made.json()['id']}").json()["stats"]["gate_counts"]
    too_large = page.locator("p.too-large")
    expect(too_large).to_contain_text("Too large to draw")
    expect(too_large).to_contain_text("30 qubits")
    expect(too_large).to_contain_text(f"1q: {counts['1q']}")
    expect(page.locator("svg.circuit")).to_have_count(0)

    page.goto(f"{server.url}/console/jobs/{multi}")
    children = api.get(f"/jobs/{multi}/program").json()["circuits"]
    for child, gates in zip(children, (1, 2), strict=True):  # one after another, each labelled with its job
        expect(page.get_by_role("img", name=f"circuit of job {child['id']}: 2 qubits, {gates} gates")).to_be_visible()
    expect(page.locator("svg.circuit path.swap")).to_have_count(2)


def test_a_deleted_job_leaves_the_open_jobs_page_live(server: Server, page: Any) -> None:
    key, api = project_key(server)
    theirs, _ = project_key(server)
    gone, kept = (api.post("/jobs", json=bell(name=n, dry_run=True)).json()["id"] for n in ("gone", "kept"))
    seen: dict[str, list[dict]] = {"mine": [], "theirs": []}
    stop = threading.Event()
    for who, k in (("mine", key), ("theirs", theirs)):
        threading.Thread(target=follow, args=(server, k, "deleted", seen[who], stop), daemon=True).start()
    sign_in(page, server, key)
    expect(page.locator("#live")).to_have_text("live")
    expect(row(page, gone)).to_be_visible()
    expect(row(page, kept)).to_be_visible()
    page.evaluate("window.__notReloaded = true")

    assert api.delete(f"/jobs/{gone}").status_code == 200
    expect(row(page, gone)).to_have_count(0)
    expect(row(page, kept)).to_be_visible()
    assert page.evaluate("window.__notReloaded") is True  # removed live, not by a reload
    deadline = time.monotonic() + 10
    while {"id": gone} not in seen["mine"]:
        assert time.monotonic() < deadline, seen
        time.sleep(0.05)
    time.sleep(1.5)  # a tick for the other project's stream to have told anything it would
    stop.set()
    assert seen == {"mine": [{"id": gone}], "theirs": []}
