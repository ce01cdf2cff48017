"""Fixtures: real servers over SQLite and over a real PostgreSQL started here."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from support import Postgres, Server, postgres_available


@pytest.fixture(scope="session", autouse=True)
def compiled_kernels() -> None:
    """Compile the engine's kernels once, here, into numba's on-disk cache. Otherwise each
    server's workers compile them at start-up (~20 s on a fresh checkout), and servers that
    tests stop sooner never save them, so every later server pays again."""
    from qharbor import engine

    for precision in engine.PRECISIONS:
        engine.warm_up(precision)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """A real PostgreSQL for the session. Without one the PostgreSQL tests skip, except where
    ``QHARBOR_REQUIRE_POSTGRES`` is set (CI sets it): there a missing PostgreSQL fails them,
    so no run passes without covering SKIP LOCKED claiming and LISTEN/NOTIFY."""
    reason = postgres_available()
    if reason:
        if os.environ.get("QHARBOR_REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL is required here (QHARBOR_REQUIRE_POSTGRES) but missing: {reason}")
        pytest.skip(f"PostgreSQL tests need a local PostgreSQL: {reason}")
    pg = Postgres()
    yield pg
    pg.stop()


def storage_for(kind: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> list[str]:
    if kind == "sqlite":
        return ["--data-dir", str(tmp_path_factory.mktemp("data"))]
    pg: Postgres = request.getfixturevalue("postgres")
    return ["--database", pg.new_database()]


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One shared server per back end (two workers); tests use their own keys for isolation."""
    srv = Server(storage_for(request.param, tmp_path_factory, request), workers=2).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def idle_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server with no workers: jobs stay queued until a test runs one."""
    srv = Server(storage_for(request.param, tmp_path_factory, request), workers=0).start()
    yield srv
    srv.stop()
