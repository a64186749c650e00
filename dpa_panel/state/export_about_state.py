"""The "About this file" link beside every CSV download (issue 18; decision 18-gaps-1).

A CSV carries no metadata of its own: its generated-at time, digests, who and the filters are
recorded in an ``export.file`` audit event when the file has been streamed, and served as the
companion ``<name>.about.txt`` (export kind ``export_about``). This handler finds the user's
most recent export of one kind and fetches its companion through a download ticket, like any
other download; ``/api/download`` again refuses another account's event.
"""

from __future__ import annotations

import reflex as rx
from sqlalchemy import select

from dpa_panel.db import session_scope
from dpa_panel.exports import EXPORTS
from dpa_panel.i18n import tr
from dpa_panel.services import audit, auth
from dpa_panel.services.permissions import AUTHENTICATED, has_permission
from dpa_panel.state.auth_state import AuthState
from dpa_panel.state.guard import actor_for, current_identity, requires, start_download

#: The kinds whose companion text a page offers: every CSV export.
ABOUT_KINDS = frozenset(k for k in EXPORTS if k.endswith("_csv"))


def last_export_event(session, user_id: int, kind: str) -> int | None:
    """The id of ``user_id``'s most recent finished export of ``kind``, if any."""
    return session.scalars(
        select(audit.AuditEvent.id)
        .where(audit.AuditEvent.action == "export.file",
               audit.AuditEvent.entity_type == "export",
               audit.AuditEvent.entity_id == kind,
               audit.AuditEvent.actor_id == user_id)
        .order_by(audit.AuditEvent.id.desc())
        .limit(1)
    ).first()  # fmt: skip


class ExportAboutState(AuthState):
    @requires(AUTHENTICATED)
    def download_about(self, kind: str):
        """The companion text of the user's latest ``kind`` CSV. Refused (and audited) for a
        role that may not make that export; a toast when there is none yet."""
        ident = current_identity()
        kind = str(kind)
        allowed = kind in ABOUT_KINDS and has_permission(ident.role, EXPORTS[kind].permission)
        with session_scope() as session:
            if not allowed:
                audit.record(session, actor_for(self), "access.denied", "handler",
                             "ExportAboutState.download_about",
                             {"permission": EXPORTS[kind].permission if kind in EXPORTS else "",
                              "reason": "forbidden", "role": ident.role})  # fmt: skip
                return rx.toast.error(tr(self.locale, "auth.forbidden"))
            event_id = last_export_event(session, ident.user_id, kind)
            if event_id is None:
                return rx.toast.info(tr(self.locale, "gaps.about_none"))
            params = {"kind": "export_about", "event_id": event_id}
            ticket = auth.download_ticket(session, ident, params)
        return start_download(f"/api/download/{ticket}")
