"""HTTP endpoints of the data subject's side (issue 20), mounted with ``dpa_panel.api``.

* ``POST /api/my/complete`` — a valid e-mail code gave the /my tab a 60-second ticket bound to
  the browser's ``dpa_browser`` cookie; a same-origin POST of it sets the HttpOnly, SameSite
  Strict ``dpa_subject`` cookie (like the staff login's hand-over, but another table and
  another cookie: never a staff session). A GET is refused.
* ``GET /api/my/logout`` — end the subject session and delete its cookie.
* ``GET /api/my/package/<request id>`` — the person's released access package as a PDF in
  their language, for 7 days after release (audited, counted).
* ``GET /api/unsubscribe/<token>`` — a page with one confirm button (a link scanner's GET
  changes nothing); ``POST`` to the same URL (the button, or a mail client's RFC 8058
  ``List-Unsubscribe=One-Click``) withdraws the "informing" consent; idempotent, no login.
"""

from __future__ import annotations

import html
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from dpa_panel import settings
from dpa_panel.api import NO_STORE, _client_ip, _redirect, refuse_get_completion, same_origin
from dpa_panel.db import session_scope
from dpa_panel.i18n import CATALOGS, normalise_locale, tr
from dpa_panel.services import privacy_centre, subject_access, subject_report, unsubscribe
from dpa_panel.services.errors import ServiceError
from dpa_panel.state.guard import BROWSER_COOKIE

COOKIE = subject_access.SUBJECT_COOKIE


def _cookie_args() -> dict:
    return {"path": "/", "httponly": True, "secure": settings.cookie_secure(),
            "samesite": "strict"}  # fmt: skip


async def complete(request: Request):
    if not same_origin(request):
        return PlainTextResponse("Forbidden", status_code=403, headers=NO_STORE)
    body = (await request.body())[:4096].decode("utf-8", "replace")
    ticket = (parse_qs(body).get("t") or [""])[0]
    with session_scope() as session:
        token = subject_access.start_session(
            session, ticket, browser=request.cookies.get(BROWSER_COOKIE, ""),
            client_ip=_client_ip(request),
        )  # fmt: skip
    response = _redirect("/my")
    if token:
        response.set_cookie(COOKIE, token, **_cookie_args())
    return response


async def logout(request: Request):
    token = request.cookies.get(COOKIE, "")
    if token:
        with session_scope() as session:
            subject_access.end_session(session, token, client_ip=_client_ip(request))
    response = _redirect("/my")
    response.delete_cookie(COOKIE, **_cookie_args())
    return response


async def package(request: Request):
    token = request.cookies.get(COOKIE, "")
    try:
        request_id = int(request.path_params["request_id"])
    except ValueError:
        request_id = 0
    try:
        with session_scope() as session:
            ident = subject_access.resolve_session(session, token) if token else None
            if ident is None:
                raise ServiceError("my.session_ended")
            report = privacy_centre.download_package(
                session, ident.subject_id, request_id, client_ip=_client_ip(request)
            )
    except ServiceError:
        return PlainTextResponse("Forbidden", status_code=403, headers=NO_STORE)
    pdf = subject_report.report_pdf(report)
    headers = {**NO_STORE,
               "Content-Disposition": f'attachment; filename="my-data-{request_id}.pdf"'}
    return Response(pdf, media_type="application/pdf", headers=headers)  # fmt: skip


def _language(request: Request, session, token: str) -> str:
    wanted = request.query_params.get("lang", "")
    if wanted in CATALOGS:
        return wanted
    own = unsubscribe.language_of(session, token)
    if own:
        return normalise_locale(own)
    header = request.headers.get("accept-language", "").lower()
    return next((loc for loc in ("kk", "ru", "en") if header.startswith(loc)), "kk")


def _page(lang: str, title_key: str, text: str, form: bool) -> HTMLResponse:
    """A minimal page of its own (no Reflex: works in any mail client's browser, no script)."""
    e = html.escape
    button = (
        f'<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">'
        f'<button id="unsubscribe-confirm" type="submit">{e(tr(lang, "unsub.button"))}'
        "</button></form>" if form else ""
    )
    body = (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(tr(lang, title_key))}</title><style>body{{font-family:sans-serif;"
        "max-width:34rem;margin:2rem auto;padding:0 1rem;line-height:1.5}button{font-size:1rem;"
        "padding:.6rem 1.2rem}</style></head><body>"
        f"<h1>{e(tr(lang, title_key))}</h1><p id=\"unsubscribe-text\">{e(text)}</p>{button}"
        f'<p><a href="/my">{e(tr(lang, "unsub.centre"))}</a></p></body></html>'
    )
    return HTMLResponse(body, headers=NO_STORE)


async def unsubscribe_page(request: Request):
    token = request.path_params["token"]
    with session_scope() as session:
        lang = _language(request, session, token)
    if unsubscribe.read_token(token) is None:
        return _page(lang, "unsub.title", tr(lang, "unsub.invalid"), False)
    return _page(lang, "unsub.title", tr(lang, "unsub.lead"), True)


async def unsubscribe_post(request: Request):
    token = request.path_params["token"]
    with session_scope() as session:
        lang = _language(request, session, token)
        outcome = unsubscribe.unsubscribe(session, token, client_ip=_client_ip(request))
    status = 400 if outcome == "invalid" else 200
    text = tr(lang, f"unsub.{outcome}", purpose=tr(lang, f"purpose.{unsubscribe.PURPOSE}"))
    response = _page(lang, "unsub.title", text, False)
    response.status_code = status
    return response


ROUTES = [
    Route("/api/my/complete", complete, methods=["POST"]),
    Route("/api/my/complete", refuse_get_completion, methods=["GET", "HEAD"]),
    Route("/api/my/logout", logout, methods=["GET"]),
    Route("/api/my/package/{request_id}", package, methods=["GET"]),
    Route("/api/unsubscribe/{token}", unsubscribe_page, methods=["GET", "HEAD"]),
    Route("/api/unsubscribe/{token}", unsubscribe_post, methods=["POST"]),
]
