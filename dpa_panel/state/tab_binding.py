"""A tab's state belongs to the login session that filled it, not to whoever holds its token.

Reflex keys a tab's whole state tree by the tab's client token (``?token=`` of the websocket
URL). Anyone who learns that token — from a proxy log, a shared screen, a copied URL — could
connect with it and hydrate: the first snapshot would carry whatever the tab last held. And a
tab whose session ended (logout over HTTP or in another tab, deactivation, expiry, a role
change) would get its old data back in the snapshot of its next reconnect, before any
``on_load`` could clear it.

``TabBindingMiddleware`` runs before *every* event of every tab (Reflex's event middleware:
it has the state lock, and it runs before ``hydrate``/``hydrate_and_load`` build the
snapshot). It remembers, in backend-only vars of ``AppState``, which session cookie and which
checked identity (user, session, role) the tree was filled under, and wipes the whole tree
(every state's vars, public and backend-only, so computed vars derived from them too; only
the UI language stays) when:

* the connection's session cookie is not the one the tree was filled under (another browser,
  an anonymous client, a new login, a logged-out browser);
* the session, re-read from the database for this event, is no longer valid or no longer
  names the same user, session and role (HTTP logout, logout everywhere, deactivation, role
  change, idle or absolute expiry). The handler's own ``@requires`` check reuses this result
  (``guard.remember_event_check``), so an event still costs one session read.

The state manager (memory, disk, or Redis shared by several workers) holds the binding with
the tree, so the rule holds whichever worker the tab reconnects to. Protected handlers check
the session themselves as before (``guard.requires``); this adds the guarantee that nothing a
tab held reaches a connection that is not the session that filled it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import reflex as rx
from reflex.middleware import Middleware

from dpa_panel.db import session_scope
from dpa_panel.services import auth
from dpa_panel.state.app_state import AppState
from dpa_panel.state.guard import remember_event_check, session_token

#: The backend-only vars of ``AppState`` that say which session filled the tree.
BINDING_VARS = ("_dpa_bound", "_dpa_cookie", "_dpa_identity")


def _identity_key(ident: auth.Identity | None) -> str:
    return f"{ident.user_id}:{ident.session_id}:{ident.role}" if ident else ""


def _resolve(token: str) -> auth.Identity | None:
    with session_scope() as session:
        return auth.resolve_session(session, token)


def _app_state_classes() -> Iterator[type[rx.State]]:
    def walk(cls):
        yield cls
        for sub in cls.get_substates():
            yield from walk(sub)

    yield from walk(AppState)


def _reset_own_fields(state: rx.State) -> None:
    """Every var this class declares (public and backend-only) back to its default."""
    cls = type(state)
    for name, field in cls.__fields__.items():
        if field._owner is cls:
            setattr(state, name, field.default_value())


async def wipe_tab(state: rx.State) -> None:
    """Reset every app state of this tab's tree (loading each one, whichever manager holds
    it), keeping only the UI language."""
    root = state._get_root_state()
    app_state = await root.get_state(AppState)
    locale = app_state.locale
    for cls in _app_state_classes():
        _reset_own_fields(await root.get_state(cls))
    app_state.locale = locale


class TabBindingMiddleware(Middleware):
    """Wipe a tab's state before an event from a connection that is not its session's."""

    async def preprocess(self, app, state, event):  # noqa: ARG002 - Reflex's signature
        root = state._get_root_state()
        app_state = await root.get_state(AppState)
        token = session_token(root)
        ident = await asyncio.to_thread(_resolve, token) if token else None
        remember_event_check(token, ident)
        cookie = auth.token_hash(token) if token else ""
        identity = _identity_key(ident)
        if app_state._dpa_bound and (
            app_state._dpa_cookie != cookie or app_state._dpa_identity != identity
        ):
            await wipe_tab(root)
        app_state._dpa_bound = True
        app_state._dpa_cookie = cookie
        app_state._dpa_identity = identity
        return None
