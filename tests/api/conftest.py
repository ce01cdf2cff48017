from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from support import Server, create_key


@pytest.fixture
def key(server: Server) -> str:
    """A fresh key (own user and project) per test, so tests never see each other's jobs."""
    return create_key(server.storage)


@pytest.fixture
def api(server: Server, key: str) -> Iterator[httpx.Client]:
    with server.client(key) as client:
        yield client
