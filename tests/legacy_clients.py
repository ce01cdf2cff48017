"""Client libraries in virtualenvs of their own, cached between test runs.

qiskit-ionq 0.5.13 and cirq-ionq 1.5.0 (API v0.3) cannot share the test environment with the
v0.4 clients (each package exists once per environment, and cirq-ionq pins its cirq-core),
CUDA-Q would pull in gigabytes of CUDA libraries it does not need on a CPU, qBraid must
not see qiskit-ionq, and the ``ionq`` alpha SDK needs pydantic v1, so each gets a virtualenv, built once with ``pip`` and kept under
``$QHARBOR_TEST_VENVS`` (default ``~/.cache/qharbor-test-venvs``). A venv is built in a
temporary directory and renamed into place only once its install succeeded, so an
interrupted build is never reused. Without network (or PyPI), the tests that need one skip.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

#: The client releases under test, and what their environments hold.
CLIENTS: dict[str, list[str]] = {
    "qiskit-ionq-0.5.13": ["qiskit-ionq==0.5.13", "qiskit>=1.0,<2"],
    "cirq-ionq-1.5.0": ["cirq-ionq==1.5.0"],  # the last release before cirq moved to v0.4 (Cirq PR #7438)
    # CUDA-Q's Python wheel declares CUDA libraries (cupy, cuStateVec, ...) its IonQ target never loads:
    # installed without them (NO_DEPS) plus the three it imports, it is ~0.5 GB instead of several.
    "cuda-quantum-0.16": ["numpy>=1.26,<3", "scipy>=1.11,<2", "requests>=2.31,<3"],
    # Without qiskit-ionq: with it, qBraid builds circuits through a provider that ignores the URL.
    "qbraid-0.13": ["qbraid==0.13.*"],
    "ionq-0.0.0a15": ["ionq[all]==0.0.0a15", "pydantic>=1.10,<2"],  # IonQ's alpha SDK is pydantic v1
}
#: Packages installed first, without their declared dependencies.
NO_DEPS: dict[str, list[str]] = {"cuda-quantum-0.16": ["cuda-quantum-cu12==0.16.*"]}
SCRIPTS = Path(__file__).parent / "clients" / "v03"  # flows of v0.4 clients: clients/v04

#: Settings the clients pick up from the environment: none may leak in from outside.
_AMBIENT = ("IONQ_API_KEY", "IONQ_API_TOKEN", "IONQ_API_URL", "QISKIT_IONQ_API_TOKEN", "QISKIT_IONQ_API_URL",
            "CIRQ_IONQ_API_KEY", "CIRQ_IONQ_REMOTE_HOST", "IONQ_REMOTE_HOST", "PYTHONPATH", "VIRTUAL_ENV")


def cache_dir() -> Path:
    return Path(os.environ.get("QHARBOR_TEST_VENVS") or Path.home() / ".cache" / "qharbor-test-venvs")


def venv_python(name: str) -> Path:
    """The interpreter of ``name``'s cached virtualenv, building it if needed (or skipping)."""
    requirements, bare = CLIENTS[name], NO_DEPS.get(name, [])
    recipe: list = [list(sys.version_info[:2]), requirements] + ([bare] if bare else [])
    digest = hashlib.sha256(json.dumps(recipe).encode()).hexdigest()[:10]
    home = cache_dir() / f"{name}-py{sys.version_info[0]}{sys.version_info[1]}-{digest}"
    python = home / "bin" / "python"
    if (home / ".complete").exists():
        return python
    home.parent.mkdir(parents=True, exist_ok=True)
    building = home.with_name(f".{home.name}.{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(building)], check=True, capture_output=True, timeout=300)
        install = [str(building / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        steps = ([[*install, "--no-deps", *bare]] if bare else []) + [[*install, *requirements]]
        for step in steps:
            pip = subprocess.run(step, check=False, capture_output=True, text=True, timeout=1200)
            if pip.returncode != 0:
                break
    except (subprocess.SubprocessError, OSError) as exc:
        shutil.rmtree(building, ignore_errors=True)
        pytest.skip(f"could not build a virtualenv for {name}: {exc}")
    if pip.returncode != 0:
        shutil.rmtree(building, ignore_errors=True)
        tail = "\n".join(line for line in pip.stderr.splitlines() if not line.startswith("WARNING"))[-600:]
        pytest.skip(f"could not install {' '.join(bare + requirements)} (no network or PyPI?): {tail}")
    (building / ".complete").write_text(" ".join(bare + requirements) + "\n")
    try:
        building.rename(home)
    except OSError:  # another run finished the same venv first
        shutil.rmtree(building, ignore_errors=True)
    return python


def run_flow(python: Path, script: str, flow: str, url: str, key: str, cwd: Path,
             env: dict[str, str] | None = None, timeout: float = 120, scripts: Path = SCRIPTS) -> dict:
    """Run one flow of a client script; returns the JSON it prints last."""
    clean = {k: v for k, v in os.environ.items() if k not in _AMBIENT}
    out = subprocess.run(
        [str(python), str(scripts / script), flow, url, key],
        check=False, capture_output=True, text=True, timeout=timeout, cwd=cwd, env={**clean, **(env or {})},
    )
    assert out.returncode == 0, f"{script} {flow} failed:\n{out.stdout}\n{out.stderr[-4000:]}"
    return json.loads(out.stdout.strip().splitlines()[-1])
