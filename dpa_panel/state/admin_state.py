"""``/admin/users``: accounts and roles (admin only)."""

from __future__ import annotations

import reflex as rx

from dpa_panel.db import session_scope
from dpa_panel.i18n import tr
from dpa_panel.i18n.formatting import format_datetime
from dpa_panel.models.types import utcnow
from dpa_panel.services import accounts, throttle, two_factor
from dpa_panel.services.errors import ServiceError
from dpa_panel.state.auth_state import AuthState
from dpa_panel.state.guard import actor_for, requires

MANAGE = "accounts.manage"


class AdminState(AuthState):
    accounts: list[dict[str, str]] = []
    create_error: str = ""
    create_error_field: str = ""
    notice: str = ""
    action_error: str = ""
    temporary_password: str = ""
    temporary_for: str = ""
    #: The account whose second factor the admin asked to reset (named in the question).
    reset_two_factor_for: str = ""
    _reset_two_factor_id: int = 0

    @rx.var
    def reset_two_factor_question(self) -> str:
        """The question before a second-factor reset, naming the account."""
        if not self.reset_two_factor_for:
            return ""
        return tr(self.locale, "two_factor.reset_confirm", username=self.reset_two_factor_for)

    def _clear_on_denial(self):
        self.accounts = []
        self.temporary_password = self.temporary_for = ""
        self.notice = self.create_error = self.action_error = ""
        self.reset_two_factor_for, self._reset_two_factor_id = "", 0

    def _reload(self, session) -> None:
        now = utcnow()
        slowed = throttle.throttled_user_ids(session, now)
        enrolled = two_factor.enrolled_user_ids(session)
        self.accounts = [
            {
                "id": str(u.id),
                "username": u.username,
                "full_name": u.full_name,
                "role": u.role,
                "active": "1" if u.is_active else "",
                "locked": "1" if u.id in slowed else "",
                "two_factor": "1" if u.id in enrolled else "",
                "must_change": "1" if u.must_change_password else "",
                "last_login": format_datetime(u.last_login_at, self.locale, "short"),
            }
            for u in accounts.list_accounts(session)
        ]

    def _run(self, action, notice_key: str, *args):
        """Run one account action in one transaction; show its error or a notice."""
        self.action_error = self.notice = ""
        self.reset_two_factor_for, self._reset_two_factor_id = "", 0
        self.temporary_password = self.temporary_for = ""
        try:
            with session_scope() as session:
                result = action(session, actor_for(self), *args)
                self._reload(session)
        except ServiceError as err:
            self.action_error = tr(self.locale, err.key)
            return None
        self.notice = tr(self.locale, notice_key)
        return result

    @requires(MANAGE)
    def load(self):
        self.notice = self.action_error = self.create_error = ""
        self.temporary_password = self.temporary_for = ""
        with session_scope() as session:
            self._reload(session)

    @requires(MANAGE)
    def create(self, form_data: dict):
        self.create_error = self.create_error_field = self.notice = ""
        try:
            with session_scope() as session:
                user = accounts.create_account(
                    session,
                    actor_for(self),
                    username=str(form_data.get("new_username", "")),
                    full_name=str(form_data.get("new_full_name", "")),
                    role=str(form_data.get("new_role", "")),
                    password=str(form_data.get("new_password", "")),
                )
                self._reload(session)
                created = user.username
        except ServiceError as err:
            self.create_error = tr(self.locale, err.key)
            self.create_error_field = err.field
            return None
        self.notice = tr(self.locale, "accounts.created", username=created)
        return rx.set_value("new_password", "")

    @requires(MANAGE)
    def change_role(self, user_id: str, role: str):
        self._run(accounts.change_role, "accounts.role_changed", int(user_id), role)

    @requires(MANAGE)
    def deactivate(self, user_id: str):
        self._run(accounts.set_active, "accounts.deactivated", int(user_id), False)

    @requires(MANAGE)
    def activate(self, user_id: str):
        self._run(accounts.set_active, "accounts.activated", int(user_id), True)

    @requires(MANAGE)
    def unlock(self, user_id: str):
        self._run(accounts.unlock, "accounts.unlocked", int(user_id))

    @requires(MANAGE)
    def reset_password(self, user_id: str):
        temporary = self._run(accounts.reset_password, "accounts.password_reset", int(user_id))
        if temporary:
            self.temporary_password = temporary
            self.temporary_for = next(
                (a["username"] for a in self.accounts if a["id"] == user_id), ""
            )

    @requires(MANAGE)
    def ask_reset_two_factor(self, user_id: str):
        """First ask, naming the account, before its second factor is removed."""
        self.notice = self.action_error = ""
        username = next((a["username"] for a in self.accounts if a["id"] == user_id), "")
        if not username:
            self.action_error = tr(self.locale, "accounts.not_found")
            return
        self.reset_two_factor_for, self._reset_two_factor_id = username, int(user_id)

    @requires(MANAGE)
    def cancel_reset_two_factor(self):
        self.reset_two_factor_for, self._reset_two_factor_id = "", 0

    @requires(MANAGE)
    def reset_two_factor(self):
        """Remove the second factor of the account named in the question (audited)."""
        target = self._reset_two_factor_id
        if not target:
            return
        self._run(accounts.reset_two_factor, "two_factor.reset_done", target)
