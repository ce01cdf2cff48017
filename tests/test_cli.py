"""The ``qharbor`` command: keys, serve, environment settings."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import httpx
from support import QHARBOR, Server, run_cli


def test_keys_create_list_revoke(tmp_path: Path) -> None:
    storage = ["--data-dir", str(tmp_path)]
    out = run_cli("keys", "create", "--name", "alice", *storage)
    secret = out.strip().splitlines()[-1]
    assert secret.startswith("qh_") and len(secret) > 40
    listing = run_cli("keys", "list", *storage)
    assert "alice" in listing and "active" in listing and secret not in listing
    key_id = listing.split()[0]
    run_cli("keys", "revoke", key_id, *storage)
    assert "revoked" in run_cli("keys", "list", *storage)
    failed = subprocess.run([*QHARBOR, "keys", "revoke", key_id, *storage], capture_output=True, text=True)
    assert failed.returncode != 0 and key_id in failed.stderr


def test_secrets_are_stored_only_as_hashes(tmp_path: Path) -> None:
    secret = run_cli("keys", "create", "--name", "k", "--data-dir", str(tmp_path)).strip().splitlines()[-1]
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("qharbor.db*"))
    assert secret.encode() not in raw


def test_serve_prints_a_first_key_once_and_it_works(tmp_path: Path) -> None:
    srv = Server(["--data-dir", str(tmp_path)], workers=1).start()
    try:
        assert srv.key
        with srv.client() as api:
            assert api.get("/whoami").json()["key_name"] == "default"
    finally:
        srv.stop()
    again = Server(["--data-dir", str(tmp_path)], workers=1).start()
    try:
        assert again.key == ""
    finally:
        again.stop()


def test_environment_selects_the_data_dir(tmp_path: Path) -> None:
    env = {"QHARBOR_DATA_DIR": str(tmp_path / "from-env")}
    secret = run_cli("keys", "create", "--name", "env", env=env).strip().splitlines()[-1]
    assert (tmp_path / "from-env" / "qharbor.db").exists()
    srv = Server([], workers=1, env=env).start()
    try:
        assert srv.key == ""  # it found the key made above, in the same place
        r = httpx.get(srv.url + "/v0.4/whoami", headers={"Authorization": f"apiKey {secret}"})
        assert r.status_code == 200
    finally:
        srv.stop()


def test_default_data_dir_is_per_user(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "XDG_DATA_HOME": ""}
    env_clean = {k: v for k, v in os.environ.items() if not k.startswith("QHARBOR_")}
    out = subprocess.run([*QHARBOR, "keys", "create", "--name", "d"], capture_output=True, text=True,
                         env={**env_clean, **env}, timeout=60)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / ".local" / "share" / "qharbor" / "qharbor.db").exists()


def test_database_url_from_environment(postgres) -> None:  # type: ignore[no-untyped-def]
    url = postgres.new_database()
    secret = run_cli("keys", "create", "--name", "pg", env={"QHARBOR_DATABASE_URL": url}).strip().splitlines()[-1]
    srv = Server(["--database", url], workers=1).start()
    try:
        assert srv.key == ""
        r = httpx.get(srv.url + "/v0.4/whoami", headers={"Authorization": f"apiKey {secret}"})
        assert r.json()["key_name"] == "pg"
    finally:
        srv.stop()
