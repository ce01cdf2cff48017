"""deploy/*.service: systemd accepts them (``systemd-analyze verify``, where installed), and
they say what README "At scale" says: SIGTERM with time for the job in hand, a restart
policy, an unprivileged user, the environment file."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
UNITS = {"qharbor-api@.service": "8001", "qharbor-worker@.service": "1"}
INSTALLED = "/opt/qharbor/venv/bin/qharbor"   # where the units expect qharbor


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment, method-assign]
    parser.read_string((DEPLOY / name).read_text())
    return parser


@pytest.mark.parametrize("name", UNITS)
def test_unit_settings(name: str) -> None:
    service = unit(name)["Service"]
    assert service["ExecStart"].startswith(INSTALLED + (" serve " if "api" in name else " worker"))
    assert service["User"] not in ("", "root") and service["EnvironmentFile"] == "/etc/qharbor/qharbor.env"
    assert service["KillSignal"] == "SIGTERM" and service["Restart"] == "always"
    stop = int(service["TimeoutStopSec"])
    if "worker" in name:
        assert stop > 600, "a stopping worker finishes its job: up to QHARBOR_JOB_TIME_LIMIT_S (600 s)"
    else:
        assert "--workers 0" in service["ExecStart"] and "--port %i" in service["ExecStart"]
        assert stop > 2, "requests in flight (a long poll holds 2 s) are answered before it exits"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed (apt: systemd)")
@pytest.mark.parametrize("name", UNITS)
def test_systemd_accepts_the_unit(name: str, tmp_path: Path) -> None:
    """No error and no warning (an unknown key or a bad value is only a warning)."""
    qharbor = Path(sys.executable).parent / "qharbor"   # verify checks that ExecStart exists
    (tmp_path / name).write_text((DEPLOY / name).read_text().replace(INSTALLED, str(qharbor)))
    instance = name.replace("@.", f"@{UNITS[name]}.")
    done = subprocess.run(["systemd-analyze", "verify", "--man=no", str(tmp_path / instance)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0 and not done.stderr.strip() and not done.stdout.strip(), done.stderr + done.stdout
