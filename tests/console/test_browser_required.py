"""Without chromium the console's browser tests skip on a developer's machine, saying why, and
fail in CI (``QHARBOR_REQUIRE_BROWSER``, which ``.ci/run`` sets after installing chromium)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent


def _outcome(tmp_path: Path, **env: str) -> str:
    probe = tmp_path / "test_probe.py"
    probe.write_text("def test_needs_a_browser(browser):\n    pass\n")
    (tmp_path / "conftest.py").write_text((HERE / "conftest.py").read_text())
    base = {k: v for k, v in os.environ.items() if k != "QHARBOR_REQUIRE_BROWSER"}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfEs", str(probe)],
                         capture_output=True, text=True, cwd=tmp_path, timeout=120, check=False,
                         env={**base, "QHARBOR_CHROMIUM": str(tmp_path / "no-chromium-here"), **env})
    return run.stdout


def test_a_missing_browser_skips_here_and_fails_in_ci(tmp_path: Path) -> None:
    skipped = _outcome(tmp_path)
    assert "1 skipped" in skipped and "chromium not found" in skipped
    required = _outcome(tmp_path, QHARBOR_REQUIRE_BROWSER="1")
    assert "1 error" in required and "a browser is required here" in required
    ci = (HERE.parents[1] / ".ci" / "run").read_text()
    assert "export QHARBOR_REQUIRE_BROWSER=1" in ci and "apt-get install -y -qq chromium" in ci
