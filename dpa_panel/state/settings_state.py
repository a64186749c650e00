"""``/admin/settings``: where the personal data lives (policy clause 4.3: in the Republic of
Kazakhstan) and whether the deployment is healthy — the cheap part of ``dpa-panel doctor``
(configuration, last backup, last retention sweep; the full audit-chain check stays in the
CLI because it reads every event)."""

from __future__ import annotations

from dpa_panel import settings
from dpa_panel.db import session_scope
from dpa_panel.i18n import tr
from dpa_panel.i18n.formatting import format_datetime
from dpa_panel.models.types import utcnow
from dpa_panel.services import doctor, outbox
from dpa_panel.services.errors import ServiceError
from dpa_panel.state.auth_state import AuthState
from dpa_panel.state.guard import actor_for, requires

READ = "deployment.read"
MAIL = "mail.manage"


class SettingsState(AuthState):
    data_location: str = ""
    checks: list[dict[str, str]] = []
    #: The e-mail outbox (issue 16): counts per status and messages that failed.
    mail_counts: dict[str, str] = {}
    mail_problems: list[dict[str, str]] = []
    mail_notice: str = ""
    mail_error: str = ""

    def _clear_on_denial(self):
        self.data_location, self.checks = "", []
        self.mail_counts, self.mail_problems = {}, []

    def _load_outbox(self, session) -> None:
        status = outbox.outbox_status(session)
        self.mail_counts = {k: str(v) for k, v in status.counts.items()}
        self.mail_problems = [
            {
                "id": str(m.id),
                "purpose": m.purpose,
                "recipient": m.recipient,
                "status": m.status,
                "attempts": str(m.attempts),
                "error": m.last_error,
                "next": format_datetime(m.next_attempt_at, self.locale, "short")
                if m.status == "pending" else "",
            }  # fmt: skip
            for m in status.problems
        ]

    @requires(MAIL)
    def retry_mail(self, message_id: str):
        self.mail_notice = self.mail_error = ""
        try:
            with session_scope() as session:
                outbox.retry(session, actor_for(self), int(message_id) if
                             str(message_id).isdigit() else 0)  # fmt: skip
                self._load_outbox(session)
        except ServiceError as err:
            self.mail_error = tr(self.locale, err.key)
            return
        self.mail_notice = tr(self.locale, "outbox.retried_notice")

    @requires(READ)
    def load(self):
        self.data_location = settings.data_location()
        self.mail_notice = self.mail_error = ""
        found = doctor.configuration_checks()
        with session_scope() as session:
            found += doctor.operations_checks(session, now=utcnow())
            found.append(doctor.check_calendar(session, utcnow()))
            self._load_outbox(session)
        self.checks = [
            {
                "status": c.status.strip().lower(),
                "name": c.name.replace(" ", "_"),
                "detail": tr(self.locale, f"settings.detail.{c.key}", **dict(c.params))
                if c.key
                else tr(self.locale, "settings.detail.see_doctor"),
            }
            for c in found
        ]
