"""The account's own page: its live sessions, password change, log out everywhere, and its
second factor (set up, see the recovery codes once, turn off where the role allows)."""

from __future__ import annotations

import reflex as rx

from dpa_panel.db import session_scope
from dpa_panel.i18n import tr
from dpa_panel.i18n.formatting import format_datetime
from dpa_panel.models.types import utcnow
from dpa_panel.services import accounts, auth, two_factor
from dpa_panel.services.errors import ServiceError
from dpa_panel.services.permissions import AUTHENTICATED, home_for
from dpa_panel.state.auth_state import AuthState
from dpa_panel.state.guard import actor_for, client_ip, current_identity, requires


class AccountState(AuthState):
    sessions: list[dict[str, str]] = []
    password_error: str = ""
    password_notice: str = ""
    two_factor_on: bool = False
    two_factor_required: bool = False
    recovery_left: int = 0
    #: "" (status), "enrol" (QR + key + first code), "codes" (new recovery codes, once).
    tf_step: str = ""
    tf_qr: str = ""
    tf_secret: str = ""
    tf_codes: list[str] = []
    tf_error: str = ""
    tf_notice: str = ""

    def _clear_on_denial(self):
        self.sessions = []
        self.password_error = self.password_notice = ""
        self._clear_two_factor()

    @rx.var
    def recovery_left_text(self) -> str:
        return tr(self.locale, "two_factor.codes_left", count=self.recovery_left)

    def _clear_two_factor(self):
        self.tf_step = self.tf_qr = self.tf_secret = self.tf_error = self.tf_notice = ""
        self.tf_codes = []

    def _load_two_factor(self, session, ident) -> None:
        self.two_factor_on = two_factor.is_enrolled(session, ident.user_id)
        self.two_factor_required = two_factor.is_required(ident.role)
        self.recovery_left = (
            two_factor.recovery_codes_left(session, ident.user_id) if self.two_factor_on else 0
        )

    @requires(AUTHENTICATED)
    def load_sessions(self):
        ident = current_identity()
        self._clear_two_factor()
        with session_scope() as session:
            rows = auth.live_sessions(session, ident.user_id)
            self._load_two_factor(session, ident)
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
                accounts.change_own_password(
                    session,
                    actor_for(self),
                    ident.user_id,
                    current,
                    new,
                    client_ip=client_ip(self),
                )
        except ServiceError as err:
            self.password_error = tr(self.locale, err.key, **err.params)
            return None
        if ident.must_change_password:
            return [
                rx.toast.success(tr(self.locale, "password.changed")),
                rx.redirect(home_for(ident.role)),
            ]
        self.password_notice = tr(self.locale, "password.changed")
        return None

    @requires(AUTHENTICATED)
    def start_two_factor(self):
        """A new secret for this account, shown as a QR code and as text to this tab only."""
        ident = current_identity()
        self._clear_two_factor()
        try:
            with session_scope() as session:
                enrolment = two_factor.begin_enrolment(
                    session, ident.user_id, ident.username, utcnow()
                )
        except ServiceError as err:
            self.tf_error = tr(self.locale, err.key)
            return
        self.tf_step, self.tf_qr, self.tf_secret = "enrol", enrolment.qr_data_uri, enrolment.secret

    @requires(AUTHENTICATED)
    def confirm_two_factor(self, form_data: dict):
        """The first code from the app confirms the set-up; the recovery codes are shown once."""
        ident = current_identity()
        self.tf_error = ""
        try:
            with session_scope() as session:
                codes = two_factor.confirm_enrolment(
                    session,
                    actor_for(self),
                    ident.user_id,
                    str(form_data.get("tf_code", ""))[:40],
                    utcnow(),
                )
                self._load_two_factor(session, ident)
        except ServiceError as err:
            self.tf_error = tr(self.locale, err.key)
            return
        self.tf_step, self.tf_qr, self.tf_secret, self.tf_codes = "codes", "", "", codes
        self.tf_notice = tr(self.locale, "two_factor.enrolled")

    @requires(AUTHENTICATED)
    def finish_two_factor(self):
        """The recovery codes were seen: forget them in this tab too."""
        self._clear_two_factor()

    @requires(AUTHENTICATED)
    def disable_two_factor(self, form_data: dict):
        """Staff and board may turn their second factor off with a valid code."""
        ident = current_identity()
        self._clear_two_factor()
        try:
            with session_scope() as session:
                accounts.disable_own_two_factor(
                    session,
                    actor_for(self),
                    ident.user_id,
                    str(form_data.get("disable_code", ""))[:40],
                    client_ip=client_ip(self),
                )
        except ServiceError as err:
            self.tf_error = tr(self.locale, err.key, **err.params)
            return
        with session_scope() as session:
            self._load_two_factor(session, ident)
        self.tf_notice = tr(self.locale, "two_factor.disabled")
