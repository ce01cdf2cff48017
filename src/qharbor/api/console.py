"""The web console at ``/console``: one page and its script, a client of the public API only.

The page (``static/console/index.html``) is the same for every console path; its script
(``console.js``, framework-free, no build step, nothing fetched from elsewhere) reads the
path and draws the page from ``/v0.4`` calls made with the key the user signs in with, so
the console shows nothing an SDK could not, and is a reference client of the API. Its Keys,
Project and Audit pages use the admin API (``/admin/v1``, ``admin.py``) with the same key: they
are offered to admin keys only (``GET /v0.4/whoami`` says the key's ``role``), and a member who
opens one gets the admin API's 403.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

STATIC = Path(__file__).with_name("static") / "console"
#: The console's pages (each drawn by the script from its path).
PAGES = ["/console", "/console/jobs", "/console/jobs/{id}", "/console/sessions", "/console/backends",
         "/console/usage", "/console/keys", "/console/project", "/console/audit"]


#: The page runs only its own files and talks only to this server; no other site may frame it
#: (it holds an API key).
_HEADERS = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; object-src 'none'; "
                               "base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


async def page(_: Request) -> Response:
    return FileResponse(STATIC / "index.html", headers=_HEADERS)


async def root(_: Request) -> Response:
    return RedirectResponse("/console", status_code=302)


ROUTES: list[BaseRoute] = [
    Route("/", root, methods=["GET"]),
    *(Route(path, page, methods=["GET"]) for path in PAGES),
    Mount("/console/static", app=StaticFiles(directory=STATIC), name="console"),
]
