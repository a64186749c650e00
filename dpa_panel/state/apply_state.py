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
from dpa_panel.services import applications, consent_text, policy, submission
from dpa_panel.services.errors import ServiceError, ValidationFailed
from dpa_panel.services.permissions import PUBLIC
from dpa_panel.services.validation import form_flag
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
    #: The consent sentences exactly as they will be stored (issue 17), per language.
    sentences: dict[str, dict[str, str]] = {}

    @rx.var
    def policy_href(self) -> str:
        return f"/privacy?v={self.policy_label}" if self.policy_label else "/privacy"

    @requires(PUBLIC)
    def load(self):
        self.errors, self.form_error, self.reference = {}, "", ""
        with session_scope() as session:
            # The Almaty date, as the submission records it (not the UTC date).
            edition = policy.edition_ref_in_force(session, applications.local_date(utcnow()))
            self.policy_label = edition.label if edition else ""
            self.sentences = consent_text.form_sentences(session)

    @requires(PUBLIC)
    def start_over(self):
        self.errors, self.form_error, self.reference = {}, "", ""

    @requires(PUBLIC)
    def submit(self, form_data: dict):
        """Validate and store the application with its consents in one transaction."""
        self.errors, self.form_error = {}, ""
        ip = client_ip(self)
        if not isinstance(form_data, dict):
            self.form_error = tr(self.locale, "apply.bad_input")
            return rx.scroll_to("form-error")
        honeypot = form_data.get(HONEYPOT)
        if honeypot is not None and (not isinstance(honeypot, str) or honeypot.strip()):
            # A bot filled the invisible field: refuse like any other refusal, store nothing.
            self._record_refusal("application.honeypot", ip)
            self.form_error = tr(self.locale, "apply.refused")
            return None
        # Values go to the service as sent: a non-text value is refused there per field
        # (``field.not_text``), never stored as its Python spelling.
        raw = {name: form_data.get(name) for name in FIELDS}
        flags = {p: form_flag(form_data.get(f"consent_{p}")) for p in CONSENT_PURPOSES}
        if None in flags.values():
            self.form_error = tr(self.locale, "apply.bad_input")
            return rx.scroll_to("form-error")
        consents = {p for p, checked in flags.items() if checked}
        try:
            with session_scope() as session:
                application = submission.submit_application(
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
            submission.record_refusal(session, action, ip)
