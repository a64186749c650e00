"""``/apply``: the public membership application form (no login).

The applicant's answers arrive as form data and go straight to the service; they are never
kept in a state var. The state holds only translated messages and, after success, the
reference number the applicant quotes later.
"""

from __future__ import annotations

import reflex as rx

from dpa_panel.db import session_scope
from dpa_panel.i18n import tr
from dpa_panel.models.types import utcnow
from dpa_panel.services import applications, policy
from dpa_panel.services.errors import ServiceError, ValidationFailed
from dpa_panel.services.permissions import PUBLIC
from dpa_panel.state.app_state import AppState
from dpa_panel.state.guard import client_ip, requires

FIELDS = (
    "surname", "first_name", "patronymic", "phone", "email", "workplace", "workplace_category",
    "position", "position_level", "education_level", "education", "experience_years",
    "experience", "other_info",
)  # fmt: skip
CONSENT_PURPOSES = ("application_review", "member_register", "informing", "feedback")
#: Refusals whose audit event must survive the rollback of the refused submission.
AUDITED_REFUSALS = {
    "apply.duplicate": "application.duplicate_refused",
    "apply.rate_limited": "application.rate_limited",
}
HONEYPOT = "website"


class ApplyState(AppState):
    errors: dict[str, str] = {}
    form_error: str = ""
    reference: str = ""
    policy_label: str = ""

    @rx.var
    def policy_href(self) -> str:
        return f"/privacy?v={self.policy_label}" if self.policy_label else "/privacy"

    @requires(PUBLIC)
    def load(self):
        self.errors, self.form_error, self.reference = {}, "", ""
        with session_scope() as session:
            edition = policy.edition_in_force(session, utcnow().date())
            self.policy_label = edition.label if edition else ""

    @requires(PUBLIC)
    def start_over(self):
        self.errors, self.form_error, self.reference = {}, "", ""

    @requires(PUBLIC)
    def submit(self, form_data: dict):
        """Validate and store the application with its consents in one transaction."""
        self.errors, self.form_error = {}, ""
        ip = client_ip(self)
        if str(form_data.get(HONEYPOT, "")).strip():
            # A bot filled the invisible field: refuse like any other refusal, store nothing.
            self._record_refusal("application.honeypot", ip)
            self.form_error = tr(self.locale, "apply.refused")
            return None
        raw = {name: str(form_data.get(name, "") or "") for name in FIELDS}
        consents = {p for p in CONSENT_PURPOSES if _checked(form_data.get(f"consent_{p}"))}
        try:
            with session_scope() as session:
                application = applications.submit_application(
                    session, raw, consents, language=self.locale, client_ip=ip
                )
                reference = application.reference
        except ValidationFailed as failed:
            self.errors = {field: tr(self.locale, key) for field, key in failed.errors.items()}
            self.form_error = tr(self.locale, "form.has_errors")
            return rx.scroll_to("form-error")
        except ServiceError as err:
            if err.key in AUDITED_REFUSALS:
                self._record_refusal(AUDITED_REFUSALS[err.key], ip)
            self.form_error = tr(self.locale, err.key)
            return rx.scroll_to("form-error")
        self.reference = reference
        return rx.scroll_to("apply-done")

    def _record_refusal(self, action: str, ip: str) -> None:
        with session_scope() as session:
            applications.record_refusal(session, action, ip)


def _checked(value: object) -> bool:
    return str(value).lower() in ("on", "true", "1", "yes")
