"""The ASGI application: versions mounted at the host root, JSON errors everywhere."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..service.keys import Authenticator
from ..service.limits import Limiter
from ..settings import Settings, rate
from ..store.db import Database
from . import admin, docs, v03, v04
from .errors import HANDLERS, CatchAll, unavailable
from .http import JSON
from .middleware import RequestId
from .waiting import CompletionWatcher


async def health(_: Request) -> Response:
    """Liveness: the process answers."""
    return JSON({"status": "ok"})


async def ready(request: Request) -> Response:
    """Readiness: the database answers too (a load balancer sends requests only then)."""
    if await run_in_threadpool(request.app.state.db.reachable):
        return JSON({"status": "ready"})
    return unavailable()


@contextlib.asynccontextmanager
async def _lifespan(app: Starlette) -> AsyncIterator[None]:
    yield
    app.state.watcher.close()  # its listening socket, if any
    app.state.db.dispose()


def create_app(settings: Settings) -> Starlette:
    """Build the app for an already-migrated database."""
    db = Database(settings.database_url)
    app = Starlette(
        # The versions' paths never overlap, so each one's polled routes can all come first.
        routes=[*v04.POLLED, *v03.POLLED, *v04.ROUTES, *v03.ROUTES,
                Route("/health", health, methods=["GET"]), Route("/ready", ready, methods=["GET"]),
                *admin.ROUTES, *docs.ROUTES],
        exception_handlers=HANDLERS,
        middleware=[Middleware(RequestId), Middleware(CatchAll)],
        lifespan=_lifespan,
    )
    # Clients never follow redirects (ionq-core disables them): no slash redirects.
    app.router.redirect_slashes = False
    app.state.settings = settings
    app.state.db = db
    app.state.auth = Authenticator(db.engine, settings.auth_cache_s)
    app.state.watcher = CompletionWatcher(db)
    limit = rate(settings.rate_limit)
    app.state.limiter = Limiter(*limit) if limit else None
    app.state.started_at = time.time()
    return app
