"""``@requires(permission)``: the one door every Reflex event handler goes through.

Any connected browser can call any handler by name, without loading a page first, so page
guards are only a convenience. This decorator makes the server-side check unavoidable:

1. it reads the session token from the HttpOnly cookie sent with the websocket handshake
   (never from a client-writable state var);
2. it re-reads the session and the account from the database for *this* event
   (``services.auth.resolve_session``; ``tab_binding`` has usually just done so for the same
   event, and that result is reused): a revoked session or a changed role takes effect at once;
3. it checks ``services.permissions.has_permission`` and, while a password change is pending,
   allows only handlers marked ``during_password_change``;
4. on refusal it writes an ``access.denied`` audit event, clears the state's data, and sends
   the browser to the login page (anonymous) or to the account's home (wrong role).

The handler reads the checked identity with ``current_identity()``. The declared permission is
kept on the function (``_dpa_permission``) so a test can prove no handler lacks one.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import json
import time
from collections.abc import Callable
from http.cookies import SimpleCookie

import reflex as rx

from dpa_panel.db import session_scope
from dpa_panel.i18n import tr
from dpa_panel.services import audit, auth
from dpa_panel.services.audit import Actor
from dpa_panel.services.permissions import PERMISSIONS, PUBLIC, has_permission, home_for

SESSION_COOKIE = "dpa_session"
#: A random HttpOnly SameSite=Strict cookie set on every page load (``dpa_panel.api``); a login
#: ticket is bound to it, so only the browser that logged in can complete the login.
BROWSER_COOKIE = "dpa_browser"

_identity: contextvars.ContextVar[auth.Identity | None] = contextvars.ContextVar(
    "dpa_identity", default=None
)
#: The session already re-read for the running event by ``tab_binding.TabBindingMiddleware``
#: (token, identity, when), so the handler's own check does not read the database again.
_event_check: contextvars.ContextVar[tuple[str, auth.Identity | None, float] | None] = (
    contextvars.ContextVar("dpa_event_check", default=None)
)
#: How long such a check stands for the same token (one event takes far less).
EVENT_CHECK_SECONDS = 5.0


def remember_event_check(token: str, ident: auth.Identity | None) -> None:
    """Record the session check made for the running event (``tab_binding``)."""
    _event_check.set((token, ident, time.monotonic()) if token else None)


def _resolve(token: str) -> auth.Identity | None:
    """The identity behind ``token`` for this event: the check already made for it, if any,
    else a fresh ``resolve_session``."""
    checked = _event_check.get()
    if (
        checked is not None
        and checked[0] == token
        and time.monotonic() - checked[2] < EVENT_CHECK_SECONDS
    ):
        return checked[1]
    with session_scope() as session:
        return auth.resolve_session(session, token)


def current_identity() -> auth.Identity:
    """The identity checked by ``requires`` for the running handler (never None inside one)."""
    ident = _identity.get()
    if ident is None:
        raise RuntimeError("current_identity() called outside a protected handler")
    return ident


def handshake_cookie(state: rx.State, name: str) -> str:
    """A cookie of the websocket handshake (the connection the running event came on)."""
    raw = state.router.headers.raw_headers.get("cookie", "")
    if not raw:
        return ""
    jar = SimpleCookie()
    try:
        jar.load(raw)
    except Exception:  # a malformed Cookie header is simply "no cookie"
        return ""
    morsel = jar.get(name)
    return morsel.value if morsel else ""


def session_token(state: rx.State) -> str:
    """The raw session token from the websocket handshake's Cookie header."""
    return handshake_cookie(state, SESSION_COOKIE)


def hard_navigate(path: str):
    """A full-page navigation to a server route (``/api/...``), not a client-side route change.

    ``rx.redirect`` would let React Router handle a same-origin path (and 404), and its
    ``is_external`` opens a new tab; the auth and download endpoints need the real request.
    """
    return rx.call_script(f"window.location.assign({json.dumps(path)})")


def start_download(path: str):
    """Fetch a download (``/api/download/<ticket>``) without leaving the page.

    A navigation (``window.location``) fires ``beforeunload``, on which Reflex's client drops
    its websocket; the page then stays (the answer is an attachment) but its next events wait
    for a reconnect that may come late. Reflex's ``_download`` event clicks a hidden
    ``<a download>`` instead: no unload, the connection stays. The empty ``download`` value
    lets the server's ``Content-Disposition`` name the file.
    """
    return rx.download(url=path, filename="")


def client_ip(state: rx.State) -> str:
    return state.router.session.client_ip or ""


def actor_for(state: rx.State) -> Actor:
    """The audit actor of the running handler: the checked user, or the public."""
    ident = _identity.get()
    if ident is None:
        return Actor.public(client_ip(state))
    return Actor.user(ident.user_id, client_ip(state))


def _check(state: rx.State, permission: str, during_password_change: bool, handler: str):
    """(identity or None, refusal or None) where refusal is "login" or "forbidden"."""
    token = session_token(state)
    if permission == PUBLIC:
        return (_resolve(token) if token else None), None
    ident = _resolve(token) if token else None
    refusal = None
    if ident is None:
        refusal = "login"
    elif ident.must_change_password and not during_password_change:
        refusal = "password"
    elif not has_permission(ident.role, permission):
        refusal = "forbidden"
    if refusal:
        actor = (
            Actor.user(ident.user_id, client_ip(state)) if ident else Actor.public(client_ip(state))
        )
        with session_scope() as session:
            audit.record(
                session,
                actor,
                "access.denied",
                "handler",
                handler[:64],
                {"permission": permission, "reason": refusal, "role": ident.role if ident else ""},
            )
    return ident, refusal


def _refuse(state: rx.State, ident: auth.Identity | None, refusal: str):
    clear = getattr(state, "_clear_on_denial", None)
    if callable(clear):
        clear()
    locale = getattr(state, "locale", "kk")
    if refusal == "login":
        return [rx.toast.warning(tr(locale, "auth.login_required")), rx.redirect("/login")]
    if refusal == "password":
        return rx.redirect("/account/password")
    # ``?refused=1``: the home page's frame says the page is not available for this role
    # (a toast alone is gone before anyone reads it; issue 18, point 6).
    return [
        rx.toast.error(tr(locale, "auth.forbidden")),
        rx.redirect(home_for(ident.role if ident else None) + "?refused=1"),
    ]


def requires(permission: str, *, during_password_change: bool = False) -> Callable:
    """Declare and enforce the permission of a Reflex event handler."""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")

    def decorate(fn: Callable) -> Callable:
        name = f"{fn.__qualname__}"

        # The identity is set around each step of the handler and cleared after it, so it is
        # visible to the handler's code however Reflex schedules a (async) generator's steps.
        if inspect.isasyncgenfunction(fn):

            @functools.wraps(fn)
            async def wrapper(self, *args, **kwargs):
                ident, refusal = _check(self, permission, during_password_change, name)
                if refusal:
                    yield _refuse(self, ident, refusal)
                    return
                steps = fn(self, *args, **kwargs)
                while True:
                    _identity.set(ident)
                    try:
                        item = await steps.__anext__()
                    except StopAsyncIteration:
                        return
                    finally:
                        _identity.set(None)
                    yield item

        elif inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def wrapper(self, *args, **kwargs):
                ident, refusal = _check(self, permission, during_password_change, name)
                if refusal:
                    return _refuse(self, ident, refusal)
                _identity.set(ident)
                try:
                    return await fn(self, *args, **kwargs)
                finally:
                    _identity.set(None)

        elif inspect.isgeneratorfunction(fn):

            @functools.wraps(fn)
            def wrapper(self, *args, **kwargs):
                ident, refusal = _check(self, permission, during_password_change, name)
                if refusal:
                    yield _refuse(self, ident, refusal)
                    return
                steps = fn(self, *args, **kwargs)
                while True:
                    _identity.set(ident)
                    try:
                        item = next(steps)
                    except StopIteration:
                        return
                    finally:
                        _identity.set(None)
                    yield item

        else:

            def checked_call(self, args, kwargs):
                ident, refusal = _check(self, permission, during_password_change, name)
                if refusal:
                    return _refuse(self, ident, refusal)
                _identity.set(ident)
                try:
                    return fn(self, *args, **kwargs)
                finally:
                    _identity.set(None)

            # A plain handler does blocking database work. Reflex would call it on the worker's
            # event loop, so one slow query would stall every other tab of that worker; it runs
            # in a thread instead (the tab's state stays locked by Reflex meanwhile, and the
            # thread gets a copy of the context, so the identity set there is its own).
            @functools.wraps(fn)
            async def wrapper(self, *args, **kwargs):
                return await asyncio.to_thread(checked_call, self, args, kwargs)

        wrapper._dpa_permission = permission  # type: ignore[attr-defined]
        wrapper._dpa_during_password_change = during_password_change  # type: ignore[attr-defined]
        return rx.event(wrapper)

    return decorate
