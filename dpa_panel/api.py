"""Plain HTTP endpoints mounted beside Reflex's websocket (``api_transformer``).

They exist because a websocket event cannot set an HttpOnly cookie or stream a file:

* ``POST /api/auth/complete`` (form field ``t``) — exchange a 60-second single-use login ticket
  (issued after a successful password check) for the session cookie, then go to the role's
  home. Only a same-origin POST (``Origin``, else ``Referer``, equal to ``DPA_PUBLIC_URL`` or,
  without it, to the server's own origin) from the browser the ticket is bound to (its
  ``dpa_browser`` cookie) completes a login: no login CSRF, no completion from another
  browser. A GET is refused (405);
* ``GET /api/auth/logout`` — revoke the session named by the cookie and delete the cookie;
* ``GET /api/download/<ticket>`` — stream an export prepared by a guarded handler; the ticket
  is redeemed only by the login session that asked for it (another user's or another session's
  request neither redeems nor uses it up), and the role must still allow the export;
* ``POST /api/my/complete`` (form field ``t``), ``GET /api/my/logout``,
  ``GET /api/my/package/<request id>`` — the data subject's privacy centre (issue 20,
  ``privacy_api``): its own session cookie ``dpa_subject``, never a staff session;
* ``GET|POST /api/unsubscribe/<token>`` — one-click unsubscribe (RFC 8058), no login;
* ``GET /healthz`` — database (and migrations at head) and Redis checks for load balancers and
  container health checks: JSON, 200 when healthy, 503 otherwise, no personal data.

Every HTML page response to a browser without a ``dpa_browser`` cookie sets one
(``BrowserCookieMiddleware``: random, HttpOnly, SameSite=Strict), so the websocket the page
opens carries it and the login handler can bind its ticket to it. An unexpected failure in any
route is logged with a reference and answered with a generic message naming only that
reference (``dpa_panel.error_reporting``).
"""

from __future__ import annotations

import json
import secrets
from urllib.parse import parse_qs, urlsplit

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
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dpa_panel import error_reporting, settings
from dpa_panel.db import session_scope
from dpa_panel.exports import EXPORTS
from dpa_panel.services import auth
from dpa_panel.services.permissions import has_permission, home_for
from dpa_panel.state.guard import BROWSER_COOKIE, SESSION_COOKIE

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


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin_of(url: str) -> str:
    """``scheme://host[:port]`` in lower case, without a default port ("" when not a URL)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return ""
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return ""
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    shown = "" if port in (None, _DEFAULT_PORTS[parts.scheme]) else f":{port}"
    return f"{parts.scheme}://{host}{shown}".lower()


def expected_origin(request: Request) -> str:
    """The one origin allowed to post to this server: ``DPA_PUBLIC_URL`` in production, the
    server's own origin (scheme and ``Host`` of the request) without it (``make run``)."""
    public = settings.public_url()
    if public:
        return _origin_of(public)
    return _origin_of(f"{request.url.scheme}://{request.headers.get('host', '')}")


def same_origin(request: Request) -> bool:
    """Whether the browser says this request comes from the panel's own pages.

    ``Origin`` is sent by every current browser on a POST; an old one may send only
    ``Referer``. A request carrying neither (or ``Origin: null``) is refused.
    """
    expected = expected_origin(request)
    origin = request.headers.get("origin", "").strip()
    if origin and origin != "null":
        return bool(expected) and _origin_of(origin) == expected
    referer = request.headers.get("referer", "").strip()
    return bool(expected and referer) and _origin_of(referer) == expected


async def complete_login(request: Request):
    if not same_origin(request):
        return PlainTextResponse("Forbidden", status_code=403, headers=NO_STORE)
    body = (await request.body())[:4096].decode("utf-8", "replace")
    ticket = (parse_qs(body).get("t") or [""])[0]
    with session_scope() as session:
        started = auth.start_session(
            session,
            ticket,
            browser=request.cookies.get(BROWSER_COOKIE, ""),
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


async def refuse_get_completion(_request: Request) -> PlainTextResponse:
    """A login is never completed by a GET (a link or an image on any site could send one)."""
    return PlainTextResponse(
        "Method Not Allowed", status_code=405, headers={**NO_STORE, "Allow": "POST"}
    )


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
        # Only the session that asked redeems it: another user's or another session's request
        # matches no row and leaves the ticket unused.
        ticket = (
            auth.redeem_ticket(
                session,
                request.path_params["ticket"],
                "download",
                user_id=ident.user_id,
                login_session_id=ident.session_id,
            )
            if ident
            else None
        )
        params = json.loads(ticket.params) if ticket else {}
    export = EXPORTS.get(params.get("kind", ""))
    if (
        ident is None
        or ticket is None
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


class BrowserCookieMiddleware:
    """Give every browser that loads a page a random ``dpa_browser`` cookie (if it has none).

    Pure ASGI (the event websocket passes through untouched). The cookie is HttpOnly and
    SameSite=Strict, so neither a script nor another site can read or send it; a login ticket
    is bound to it (``services.auth.bind_login_ticket``).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        cookies = b"; ".join(v for k, v in scope.get("headers", []) if k == b"cookie")
        if f"{BROWSER_COOKIE}=".encode() in cookies:
            await self.app(scope, receive, send)
            return

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                if content_type.startswith(b"text/html"):
                    cookie = (
                        f"{BROWSER_COOKIE}={secrets.token_urlsafe(24)}; Path=/; HttpOnly; "
                        "SameSite=Strict" + ("; Secure" if settings.cookie_secure() else "")
                    )
                    headers.append((b"set-cookie", cookie.encode()))
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_cookie)


async def _server_error(request: Request, exc: Exception) -> PlainTextResponse:
    """Any unexpected failure: the detail goes to the log, the browser gets a reference."""
    reference = error_reporting.new_reference()
    error_reporting.log_failure(exc, reference, f"{request.method} {request.url.path}")
    text = error_reporting.http_error_text(reference, request.headers.get("accept-language", ""))
    return PlainTextResponse(text, status_code=500, headers=NO_STORE)


from dpa_panel import privacy_api  # noqa: E402  (its routes use the helpers above)

api = Starlette(
    routes=[
        *privacy_api.ROUTES,
        Route("/api/auth/complete", complete_login, methods=["POST"]),
        Route("/api/auth/complete", refuse_get_completion, methods=["GET", "HEAD"]),
        Route("/api/auth/logout", logout, methods=["GET"]),
        Route("/api/download/{ticket}", download, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET", "HEAD"]),
    ],
    exception_handlers={Exception: _server_error},
)
api.add_middleware(BrowserCookieMiddleware)
