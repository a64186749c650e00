"""One user action on a detail page: one transaction, its outcome shown on the page.

Every detail state (application, member, request, subject, disclosure, calendar) runs its
buttons through ``run_action``: the messages are cleared, the service call runs in one
``session_scope`` (rolled back whole on a refusal), a ``ServiceError`` becomes the page's
``action_error`` in the user's language (a ``ValidationFailed`` also fills ``errors`` per field
when the page shows them), and a success shows ``notice_key`` and reloads the page's data.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session

from dpa_panel.db import session_scope
from dpa_panel.i18n import tr
from dpa_panel.services.audit import Actor
from dpa_panel.services.errors import ServiceError, ValidationFailed
from dpa_panel.state.guard import actor_for


def run_action(
    state,
    work: Callable[[Session, Actor], object],
    notice_key: str,
    *,
    field_errors: bool = False,
) -> bool:
    """Run ``work(session, actor)``; True when it succeeded (and the page was reloaded)."""
    state.action_error = state.notice = ""
    if field_errors:
        state.errors = {}
    try:
        with session_scope() as session:
            work(session, actor_for(state))
    except ServiceError as err:
        if field_errors and isinstance(err, ValidationFailed):
            state.errors = {k: tr(state.locale, v) for k, v in err.errors.items()}
        state.action_error = tr(state.locale, err.key, **err.params)
        return False
    state.notice = tr(state.locale, notice_key)
    state._reload()
    return True
