"""The ASGI application: versions mounted at the host root, JSON errors everywhere."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..service import costs, metrics
from ..service.capacity import Capacity
from ..service.faults import Injector
from ..service.keys import Authenticator
from ..service.limits import Limiter
from ..service.waiting import CompletionWatcher
from ..settings import Settings, rate
from ..store.db import Database
from . import admin, console, docs, events, v03, v04
from .errors import HANDLERS, RETRY_AFTER_S, CatchAll, error_response
from .http import JSON
from .memo import renderings
from .middleware import Observed


async def health(_: Request) -> Response:
    """Liveness: the process answers."""
    return JSON({"status": "ok"})


async def ready(request: Request) -> Response:
    """Readiness: the database answers, its schema is current and a worker is alive (a load
    balancer sends requests only then); 503 saying what is missing otherwise."""
    missing = await run_in_threadpool(metrics.readiness, request.app.state.db,
                                      request.app.state.settings.worker_stale_after_s)
    if not missing:
        return JSON({"status": "ready"})
    return error_response(503, "not ready: " + "; ".join(missing), headers={"Retry-After": str(RETRY_AFTER_S)})


async def prometheus(request: Request) -> Response:
    """Prometheus metrics: this process's HTTP figures, the database's job and worker figures."""
    body = await run_in_threadpool(generate_latest, request.app.state.registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


@contextlib.asynccontextmanager
async def _lifespan(app: Starlette) -> AsyncIterator[None]:
    yield
    app.state.watcher.close()  # its listening socket, if any
    app.state.job_events.close()
    app.state.db.dispose()


def create_app(settings: Settings) -> Starlette:
    """Build the app for an already-migrated database."""
    db = Database(settings.database_url)
    costs.use(settings.prices())
    registry = CollectorRegistry()
    registry.register(metrics.DatabaseCollector(db, settings.worker_stale_after_s))
    app = Starlette(
        # The versions' paths never overlap, so each one's polled routes can all come first.
        routes=[*events.ROUTES, *v04.POLLED, *v03.POLLED, *v04.ROUTES, *v03.ROUTES,
                Route("/health", health, methods=["GET"]), Route("/ready", ready, methods=["GET"]),
                Route("/metrics", prometheus, methods=["GET"]),
                *admin.ROUTES, *docs.ROUTES, *console.ROUTES],
        exception_handlers=HANDLERS,
        middleware=[Middleware(Observed, registry=registry), Middleware(CatchAll)],
        lifespan=_lifespan,
    )
    # Clients never follow redirects (ionq-core disables them): no slash redirects.
    app.router.redirect_slashes = False
    app.state.settings = settings
    app.state.db = db
    app.state.registry = registry
    app.state.auth = Authenticator(db.engine, settings.auth_cache_s)
    app.state.watcher = CompletionWatcher(db)
    app.state.renderings = renderings(settings.render_memo_bytes)
    app.state.job_events = events.Wakeup()
    app.state.faults = Injector()
    limit = rate(settings.rate_limit)
    app.state.limiter = Limiter(*limit) if limit else None
    app.state.capacity = Capacity.of(settings)
    app.state.started_at = time.time()
    return app
