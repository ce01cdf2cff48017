"""ionq-core's own integration suite (shipped in its sdist), run unmodified against qharbor.

The suite expects the key to own at least two jobs when it starts (its pagination test), reads
``IONQ_API_KEY`` / ``IONQ_API_URL``, and ships pytest options meant for its unit tests, which are
overridden on the command line (clients.md §6.4).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from support import Server, bell

VERSION = "0.2.0"


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = Path(os.environ.get("QHARBOR_TEST_CACHE", Path.home() / ".cache" / "qharbor-tests"))
    root = cache / f"ionq_core-{VERSION}"
    if not (root / "tests" / "integration").is_dir():
        cache.mkdir(parents=True, exist_ok=True)
        download = tmp_path_factory.mktemp("sdist")
        fetched = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
             f"ionq-core=={VERSION}", "--dest", str(download)], capture_output=True, text=True, timeout=300)
        if fetched.returncode != 0:
            pytest.skip(f"could not download the ionq-core sdist: {fetched.stderr[-500:]}")
        with tarfile.open(next(download.glob("*.tar.gz"))) as archive:
            archive.extractall(cache, filter="data")
    return root


def test_ionq_core_integration_suite(suite: Path, qharbor: Server) -> None:
    key = qharbor.new_key(name="ionq-core-suite")
    with qharbor.client(key) as api:
        for _ in range(2):
            api.post("/jobs", json=bell())
    env = {**os.environ, "IONQ_API_KEY": key, "IONQ_API_URL": qharbor.url + "/v0.4"}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/integration", "-o", "addopts=", "-m", "integration",
         "-W", "ignore::UserWarning", "-p", "no:cacheprovider", "-q", "-o", "asyncio_mode=auto"],
        cwd=suite, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert " passed" in run.stdout and "failed" not in run.stdout
