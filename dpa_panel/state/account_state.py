"""The account's own page: its live sessions, password change, log out everywhere."""

from __future__ import annotations

import reflex as rx

from dpa_panel.db import session_scope
from dpa_panel.i18n import tr
from dpa_panel.i18n.formatting import format_datetime
from dpa_panel.services import accounts, auth
from dpa_panel.services.errors import ServiceError
from dpa_panel.services.permissions import AUTHENTICATED, home_for
from dpa_panel.state.auth_state import AuthState
from dpa_panel.state.guard import actor_for, current_identity, requires


class AccountState(AuthState):
    sessions: list[dict[str, str]] = []
    password_error: str = ""
    password_notice: str = ""

    def _clear_on_denial(self):
        self.sessions = []
        self.password_error = self.password_notice = ""

    @requires(AUTHENTICATED)
    def load_sessions(self):
        ident = current_identity()
        with session_scope() as session:
            rows = auth.live_sessions(session, ident.user_id)
        self.sessions = [
            {
                "started": format_datetime(row.created_at, self.locale, "short"),
                "last_seen": format_datetime(row.last_seen_at, self.locale, "short"),
                "ip": row.client_ip,
                "agent": row.user_agent[:80],
                "current": "1" if row.id == ident.session_id else "",
            }
            for row in rows
        ]

    @requires(AUTHENTICATED, during_password_change=True)
    def change_password(self, form_data: dict):
        ident = current_identity()
        self.password_error = self.password_notice = ""
        current = str(form_data.get("current", ""))
        new = str(form_data.get("password", ""))
        if new != str(form_data.get("confirm", "")):
            self.password_error = tr(self.locale, "password.mismatch")
            return None
        try:
            with session_scope() as session:
                accounts.change_own_password(session, actor_for(self), ident.user_id, current, new)
        except ServiceError as err:
            self.password_error = tr(self.locale, err.key)
            return None
        if ident.must_change_password:
            return [
                rx.toast.success(tr(self.locale, "password.changed")),
                rx.redirect(home_for(ident.role)),
            ]
        self.password_notice = tr(self.locale, "password.changed")
        return None
