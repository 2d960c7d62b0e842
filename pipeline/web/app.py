"""The reviewer web app (``sealdesk web``): sign in (``signin``), the queue (``queue``), an
application's findings, evidence, pages and decisions (``application``), the RA's
certificate search and revocation (``certificates``), and public certificate verification
(``verification``) and the applicant's status page (``status``), over what ``site``
shares.

Every route but sign-in and verification needs a signed-in user with a role that may use
it; every form carries the session's CSRF token; images are served by application,
document and page number, never by a path, so nothing of the file store can be reached by
name.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from pipeline.config import Settings
from pipeline.web import (
    application,
    certificates,
    language,
    queue,
    signin,
    status,
    verification,
)
from pipeline.web.site import LoginRequired, Site, refusal_page
from pipeline.workspace import Workspace, open_workspace

SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self' 'unsafe-inline'; frame-ancestors 'none'"
    ),
}


def server_options(settings: Settings) -> dict[str, Any]:
    """How uvicorn serves the app: X-Forwarded-For believed only from the configured proxies
    (uvicorn would otherwise believe it from 127.0.0.1, so anyone on the machine could name
    any address and walk around the sign-in limit per address)."""
    proxies = settings.web.trusted_proxies
    return {"proxy_headers": bool(proxies), "forwarded_allow_ips": ",".join(proxies) or None}


def create_app(settings: Settings, workspace: Workspace | None = None) -> FastAPI:
    app = FastAPI(title="sealdesk", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.site = Site(settings, workspace or open_workspace(settings))

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def refused(request: Request, exc: StarletteHTTPException) -> Response:
        """A refusal in the reader's language: a page that looks like an error for a
        browser, ``{"detail": ...}`` for a script."""
        return refusal_page(request, exc.status_code, exc.detail, exc.headers)

    @app.middleware("http")
    async def headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        return response

    for area in (signin, language, verification, status, queue, application, certificates):
        app.include_router(area.router)
    return app
