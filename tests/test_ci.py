"""CI runs the PostgreSQL tests for real: it finds PostgreSQL where Debian keeps it, and a
PostgreSQL it cannot find fails the run instead of skipping half the suite."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import support

TESTS = Path(__file__).parent


def _probe_outcome(probe: Path, unset: str, **env: str) -> str:
    """pytest's summary of ``probe`` run in a fresh process, without ``unset`` in its
    environment unless ``env`` sets it (as a developer's machine, or as CI)."""
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfs", str(probe)],
                         capture_output=True, text=True, cwd=probe.parent, timeout=300,
                         env={**{k: v for k, v in os.environ.items() if k != unset},
                              "PYTHONPATH": str(TESTS), **env})
    return run.stdout


@pytest.mark.skipif(not list(Path("/usr/lib/postgresql").glob("*/bin/initdb")), reason="no Debian PostgreSQL here")
def test_postgresql_is_found_where_debian_keeps_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # Debian's postgresql package puts nothing here
    assert support.postgres_available() is None
    assert support.postgres_tool("initdb").startswith("/usr/lib/postgresql/")


def test_ci_requires_postgresql(tmp_path: Path) -> None:
    probe = tmp_path / "test_probe.py"
    probe.write_text("import support\n"
                     "support.postgres_tool = lambda name: None  # as on a machine without PostgreSQL\n"
                     "def test_uses_postgres(postgres):\n    pass\n")
    (tmp_path / "conftest.py").write_text((TESTS / "conftest.py").read_text())

    assert "1 skipped" in _probe_outcome(probe, "QHARBOR_REQUIRE_POSTGRES")  # a developer without PostgreSQL
    required = _probe_outcome(probe, "QHARBOR_REQUIRE_POSTGRES", QHARBOR_REQUIRE_POSTGRES="1")  # CI
    assert "1 error" in required and "PostgreSQL is required here" in required
    ci = (TESTS.parent / ".ci" / "run").read_text()
    assert "export QHARBOR_REQUIRE_POSTGRES=1" in ci


def test_ci_requires_network_namespaces(tmp_path: Path) -> None:
    """The network soak skips, saying why, where namespaces cannot be made, except in CI."""
    probe = tmp_path / "test_probe.py"
    probe.write_text("import netns\n"
                     "netns.unavailable = lambda: 'no namespaces on this machine'\n"
                     "def test_needs_namespaces():\n    netns.require()\n")
    skipped = _probe_outcome(probe, "QHARBOR_REQUIRE_NETNS")
    assert "1 skipped" in skipped and "no namespaces on this machine" in skipped
    required = _probe_outcome(probe, "QHARBOR_REQUIRE_NETNS", QHARBOR_REQUIRE_NETNS="1")
    assert "1 failed" in required and "network namespaces are required here" in required
    assert "export QHARBOR_REQUIRE_NETNS=1" in (TESTS.parent / ".ci" / "run").read_text()
