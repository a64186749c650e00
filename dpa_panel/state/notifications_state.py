"""The account's own e-mail settings (issue 16): where deadline reminders go and in which
language they are written (the language defaults to the one the panel is shown in)."""

from __future__ import annotations

from dpa_panel.db import session_scope
from dpa_panel.i18n import normalise_locale, tr
from dpa_panel.models import StaffUser
from dpa_panel.services import notify
from dpa_panel.services.errors import ServiceError
from dpa_panel.services.permissions import AUTHENTICATED
from dpa_panel.state.auth_state import AuthState
from dpa_panel.state.guard import actor_for, current_identity, requires


class NotificationsState(AuthState):
    email: str = ""
    mail_language: str = ""
    notify_error: str = ""
    notify_notice: str = ""

    def _clear_on_denial(self):
        self.email = self.mail_language = ""

    @requires(AUTHENTICATED)
    def load(self):
        self.notify_error = self.notify_notice = ""
        with session_scope() as session:
            user = session.get(StaffUser, current_identity().user_id)
            self.email = user.email if user else ""
            self.mail_language = user.language if user else normalise_locale(self.locale)

    @requires(AUTHENTICATED)
    def save(self, form_data: dict):
        self.notify_error = self.notify_notice = ""
        email = str(form_data.get("email", "") or "")[:300]
        language = str(form_data.get("language", "") or "")
        try:
            with session_scope() as session:
                notify.set_notification_settings(
                    session, actor_for(self), current_identity().user_id,
                    email=email, language=language,
                )  # fmt: skip
        except ServiceError as err:
            self.notify_error = tr(self.locale, err.key)
            return
        self.email, self.mail_language = email.strip(), language
        self.notify_notice = tr(self.locale, "notify.saved")
