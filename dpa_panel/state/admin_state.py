"""``/admin/users``: accounts and roles (admin only)."""

from __future__ import annotations

import reflex as rx

from dpa_panel.db import session_scope
from dpa_panel.i18n import tr
from dpa_panel.i18n.formatting import format_datetime
from dpa_panel.models.account import StaffUser
from dpa_panel.models.types import utcnow
from dpa_panel.models.vocab import ROLES
from dpa_panel.services import accounts, throttle, two_factor
from dpa_panel.services.errors import ServiceError
from dpa_panel.state import confirming
from dpa_panel.state.auth_state import AuthState
from dpa_panel.state.guard import actor_for, current_identity, requires

MANAGE = "accounts.manage"
#: The account actions that ask first (issue 18): kind -> (service call, notice).
ASKED = ("deactivate", "role", "reset_password")
#: Refused for one's own account (also refused by ``services.accounts``).
NOT_FOR_SELF = ("deactivate", "role")


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
    #: The question before deactivate / role change / password reset (``state/confirming``).
    confirm_open: bool = False
    confirm_title: str = ""
    confirm_text: str = ""
    confirm_token: str = ""
    _pending: str = ""
    #: The logged-in account's id: its own row hides deactivate and the role choice.
    own_id: str = ""

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
        confirming.forget(self)

    def _reload(self, session) -> None:
        self.own_id = str(current_identity().user_id)
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
        confirming.forget(self)
        self.reset_two_factor_for, self._reset_two_factor_id = "", 0
        self.temporary_password = self.temporary_for = ""
        try:
            with session_scope() as session:
                result = action(session, actor_for(self), *args)
                self._reload(session)
        except ServiceError as err:
            self.action_error = tr(self.locale, err.key, **err.params)
            return None
        self.notice = tr(self.locale, notice_key)
        return result

    @requires(MANAGE)
    def load(self):
        self.notice = self.action_error = self.create_error = ""
        confirming.forget(self)
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
    def ask(self, kind: str, user_id: str, value: str = ""):
        """First step of deactivate / role change / password reset: name the account and ask.

        One's own account cannot be deactivated or given another role (refused here, before
        any question, and again by the service)."""
        self.notice = self.action_error = ""
        self.temporary_password = self.temporary_for = ""
        confirming.forget(self)
        uid = int(user_id) if str(user_id).isdigit() else 0
        if kind not in ASKED or (kind == "role" and value not in ROLES):
            self.action_error = tr(self.locale, "confirm.stale")
            return
        if kind in NOT_FOR_SELF and uid == current_identity().user_id:
            self.action_error = tr(self.locale, "confirm.not_self")
            return
        with session_scope() as session:
            user = session.get(StaffUser, uid) if uid else None
            if user is None:
                self.action_error = tr(self.locale, "accounts.not_found")
                return
            username, role = user.username, user.role
        if kind == "role" and value == role:
            return
        loc = self.locale
        names = {"username": username, "role": tr(loc, f"role.{role}")}
        if kind == "role":
            names["new_role"] = tr(loc, f"role.{value}")
        confirming.ask(
            self, f"{kind}:{uid}:{value if kind == 'role' else ''}",
            tr(loc, f"confirm.{kind}.title"), tr(loc, f"confirm.{kind}.text", **names),
        )  # fmt: skip

    @requires(MANAGE)
    def cancel_confirm(self):
        confirming.forget(self)

    @requires(MANAGE)
    def confirm(self, token: str):
        """Second step: act on the account named in the question, in one transaction."""
        if not confirming.take(self, token):
            return
        kind, raw_id, value = confirming.parts(token, 3)
        uid = int(raw_id) if raw_id.isdigit() else 0
        if kind == "deactivate":
            self._run(accounts.set_active, "accounts.deactivated", uid, False)
        elif kind == "role":
            self._run(accounts.change_role, "accounts.role_changed", uid, value)
        elif kind == "reset_password":
            temporary = self._run(accounts.reset_password, "accounts.password_reset", uid)
            if temporary:
                self.temporary_password = temporary
                self.temporary_for = next(
                    (a["username"] for a in self.accounts if a["id"] == raw_id), ""
                )

    @requires(MANAGE)
    def activate(self, user_id: str):
        self._run(accounts.set_active, "accounts.activated", int(user_id), True)

    @requires(MANAGE)
    def unlock(self, user_id: str):
        self._run(accounts.unlock, "accounts.unlocked", int(user_id))

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
