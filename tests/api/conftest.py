from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from support import Postgres, Server


@pytest.fixture
def key(server: Server) -> str:
    """A fresh key (own user and project) per test, so tests never see each other's jobs."""
    return server.new_key()


@pytest.fixture
def api(server: Server, key: str) -> Iterator[httpx.Client]:
    with server.client(key) as client:
        yield client


@pytest.fixture
def two_apis(postgres: Postgres, request: pytest.FixtureRequest) -> Iterator[list[Server]]:
    """Two API processes (no workers; ``env`` from an indirect parameter) on one fresh
    PostgreSQL database, for what API processes must share; both hold the first key."""
    storage = ["--database", postgres.new_database()]
    env = getattr(request, "param", {})
    servers = [Server(storage, workers=0, env=env).start()]
    try:
        servers.append(Server(storage, workers=0, env=env).start())
        servers[1].key = servers[0].key
        yield servers
    finally:
        for s in servers:
            s.stop()
