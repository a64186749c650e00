"""``/policy-versions``: editions of the privacy policy and consents given under older ones
(clause 8). Adding an edition never moves an existing consent to it."""

from __future__ import annotations

from datetime import date

import reflex as rx

from dpa_panel.db import session_scope
from dpa_panel.i18n import tr
from dpa_panel.i18n.formatting import format_date
from dpa_panel.services import consent, policy
from dpa_panel.services.errors import ServiceError
from dpa_panel.state.auth_state import AuthState
from dpa_panel.state.guard import actor_for, requires

MANAGE = "policies.manage"


class PolicyVersionsState(AuthState):
    editions: list[dict[str, str]] = []
    older_subjects: list[dict[str, str]] = []
    older_total: int = 0
    form_error: str = ""

    def _clear_on_denial(self):
        self.older_subjects, self.older_total = [], 0

    notice: str = ""

    def _reload(self) -> None:
        with session_scope() as session:
            counts = consent.older_version_consents(session)
            self.editions = [
                {
                    "label": e.label,
                    "effective": format_date(e.effective_date, self.locale, "long"),
                    "sha256": e.sha256,
                    "granted": str(counts.get(e.label, 0)),
                }
                for e in policy.list_editions(session)
            ]
            rows, self.older_total = consent.subjects_on_older_versions(session, 1, 50)
            self.older_subjects = [
                {
                    "subject_id": str(r.subject_id),
                    "name": r.name,
                    "email": r.email,
                    "labels": ", ".join(r.labels),
                }
                for r in rows
            ]

    @rx.var
    def has_editions(self) -> bool:
        return bool(self.editions)

    @requires(MANAGE)
    def load(self):
        self.form_error = self.notice = ""
        self._reload()

    @requires(MANAGE)
    def add(self, form_data: dict):
        self.form_error = self.notice = ""
        try:
            effective = date.fromisoformat(str(form_data.get("effective_date", "")).strip())
        except ValueError:
            self.form_error = tr(self.locale, "audit.bad_date")
            return
        try:
            with session_scope() as session:
                consent.add_policy_version(
                    session,
                    actor_for(self),
                    label=str(form_data.get("label", "")).strip()[:20],
                    effective_date=effective,
                    text_kk=str(form_data.get("text_kk", "")),
                    text_ru=str(form_data.get("text_ru", "")),
                    text_en=str(form_data.get("text_en", "")),
                )
        except ServiceError as err:
            self.form_error = tr(self.locale, err.key, **err.params)
            return
        self.notice = tr(self.locale, "policies.added")
        self._reload()
