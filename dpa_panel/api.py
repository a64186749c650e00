"""Plain HTTP endpoints mounted beside Reflex's websocket (``api_transformer``).

They exist because a websocket event cannot set an HttpOnly cookie or stream a file:

* ``GET /api/auth/complete?t=<login ticket>`` — exchange a 60-second single-use ticket (issued
  after a successful password check) for the session cookie, then go to the role's home;
* ``GET /api/auth/logout`` — revoke the session named by the cookie and delete the cookie;
* ``GET /api/download/<ticket>`` — stream an export prepared by a guarded handler; the ticket
  must belong to the account of the session cookie, and the role must still allow the export;
* ``GET /healthz`` — database (and migrations at head) and Redis checks for load balancers and
  container health checks: JSON, 200 when healthy, 503 otherwise, no personal data.
"""

from __future__ import annotations

import json

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import (
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    StreamingResponse,
)
from starlette.routing import Route

from dpa_panel import settings
from dpa_panel.db import session_scope
from dpa_panel.exports import EXPORTS
from dpa_panel.services import auth
from dpa_panel.services.permissions import has_permission, home_for
from dpa_panel.state.guard import SESSION_COOKIE

NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _client_ip(request: Request) -> str:
    """The caller's address, read like Reflex reads it for websocket events: behind
    ``trusted_proxy_hops`` reverse proxies (``REFLEX_TRUSTED_PROXY_HOPS``), the matching entry
    of ``X-Forwarded-For``; otherwise the direct peer (a client-sent header is not trusted)."""
    import reflex as rx

    direct = request.client.host if request.client else ""
    hops = rx.config.get_config().trusted_proxy_hops
    if hops:
        forwarded = [
            ip.strip() for ip in request.headers.get("x-forwarded-for", "").split(",") if ip.strip()
        ]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return direct


def _redirect(location: str) -> RedirectResponse:
    return RedirectResponse(location, status_code=303, headers=NO_STORE)


async def complete_login(request: Request) -> RedirectResponse:
    with session_scope() as session:
        started = auth.start_session(
            session,
            request.query_params.get("t", ""),
            client_ip=_client_ip(request),
            user_agent=request.headers.get("user-agent", ""),
        )
    if started is None:
        return _redirect("/login")
    token, user = started
    response = _redirect("/account/password" if user.must_change_password else home_for(user.role))
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_absolute_hours() * 3600,
        path="/",
        httponly=True,
        secure=settings.cookie_secure(),
        samesite="strict",
    )
    return response


async def logout(request: Request) -> RedirectResponse:
    token = request.cookies.get(SESSION_COOKIE, "")
    if token:
        with session_scope() as session:
            auth.end_session(session, token, client_ip=_client_ip(request))
    response = _redirect("/login")
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, secure=settings.cookie_secure(), samesite="strict"
    )
    return response


async def download(request: Request):
    token = request.cookies.get(SESSION_COOKIE, "")
    with session_scope() as session:
        ident = auth.resolve_session(session, token) if token else None
        ticket = (
            auth.redeem_ticket(session, request.path_params["ticket"], "download")
            if ident
            else None
        )
        params = json.loads(ticket.params) if ticket else {}
    export = EXPORTS.get(params.get("kind", ""))
    if (
        ident is None
        or ticket is None
        or ticket.user_id != ident.user_id
        or export is None
        or not has_permission(ident.role, export.permission)
    ):
        return PlainTextResponse("Forbidden", status_code=403, headers=NO_STORE)
    headers = {
        **NO_STORE,
        "Content-Disposition": f'attachment; filename="{export.filename(params)}"',
    }
    return StreamingResponse(
        export.stream(params, ident.user_id),
        media_type=export.media_type_of(params),
        headers=headers,
    )


async def healthz(_request: Request) -> JSONResponse:
    from dpa_panel.services.health import health

    report = await run_in_threadpool(health)
    return JSONResponse(
        report, status_code=200 if report["status"] == "ok" else 503, headers=NO_STORE
    )


api = Starlette(
    routes=[
        Route("/api/auth/complete", complete_login, methods=["GET"]),
        Route("/api/auth/logout", logout, methods=["GET"]),
        Route("/api/download/{ticket}", download, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET", "HEAD"]),
    ]
)
