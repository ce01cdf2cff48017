"""The real IonQ client libraries against a real qharbor server; only URL and key change."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support import Server


@pytest.fixture(scope="session")
def qharbor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(["--data-dir", str(tmp_path_factory.mktemp("clients"))], workers=2).start()
    yield srv
    srv.stop()


@pytest.fixture
def key(qharbor: Server) -> str:
    return qharbor.new_key(name="client-test")


@pytest.fixture
def base_url(qharbor: Server) -> str:
    return qharbor.url + "/v0.4"


@pytest.fixture(autouse=True)
def _no_ambient_ionq_settings(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Clients read keys/URLs from the environment and a .env in the CWD; keep tests hermetic."""
    for name in ("IONQ_API_KEY", "IONQ_API_TOKEN", "IONQ_API_URL", "QISKIT_IONQ_API_TOKEN",
                 "QISKIT_IONQ_API_URL", "CIRQ_IONQ_API_KEY", "CIRQ_IONQ_REMOTE_HOST", "IONQ_REMOTE_HOST",
                 "PENNYLANE_IONQ_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
