"""The organisation profile (issue 17): the public footer's facts and the admin's form."""

from __future__ import annotations

import reflex as rx

from dpa_panel.db import session_scope
from dpa_panel.i18n import normalise_locale, tr
from dpa_panel.services import org_profile
from dpa_panel.services.permissions import PUBLIC
from dpa_panel.state.actions import run_action
from dpa_panel.state.app_state import AppState
from dpa_panel.state.auth_state import AuthState
from dpa_panel.state.guard import requires

MANAGE = "profile.manage"


class OrgFooterState(AppState):
    """Who the operator is, for every page (public facts of the organisation, no personal data
    of anyone but the published contact). Loaded by every page's ``on_load``."""

    org_names: dict[str, str] = {}
    org_bin: str = ""
    org_email: str = ""

    @rx.var
    def footer_line(self) -> str:
        """"Name · BIN … · e-mail" in the visitor's language, or empty before it is set."""
        name = self.org_names.get(normalise_locale(self.locale)) or self.org_names.get("kk", "")
        if not name:
            return ""
        parts = [name]
        if self.org_bin:
            parts.append(tr(self.locale, "profile.footer_bin", bin=self.org_bin))
        if self.org_email:
            parts.append(self.org_email)
        return " · ".join(parts)

    @rx.var
    def write_to(self) -> str:
        """"Write to …" with the data-protection e-mail (``/apply``), or empty."""
        return tr(self.locale, "profile.write_to", email=self.org_email) if self.org_email else ""

    @requires(PUBLIC)
    def load(self):
        with session_scope() as session:
            profile = org_profile.public_profile(session)
        self.org_names, self.org_bin, self.org_email = profile.names, profile.bin, profile.dp_email


class ProfileState(AuthState):
    """``/admin/organisation``: the administrator edits the profile (audited by the service)."""

    values: dict[str, str] = {}
    people: list[dict[str, str]] = []
    missing: str = ""
    errors: dict[str, str] = {}
    notice: str = ""
    action_error: str = ""

    def _clear_on_denial(self):
        super()._clear_on_denial()
        self.values, self.people, self.missing = {}, [], ""

    def _reload(self) -> None:
        with session_scope() as session:
            profile = org_profile.get_profile(session)
            self.values = {
                name: str(getattr(profile, name) or "")
                for name in (*org_profile.TEXT_FIELDS, "bin", "dp_email", "responsible_user_id")
            }
            self.people = [
                {"id": str(u.id), "label": f"{u.full_name or u.username} ({u.username})"}
                for u in org_profile.responsible_options(session)
            ]
            missing = org_profile.missing_fields(session, profile)
        self.missing = (
            tr(self.locale, "profile.incomplete",
               fields=", ".join(tr(self.locale, f"profile.{f}") for f in missing))
            if missing else ""
        )  # fmt: skip

    @requires(MANAGE)
    def load(self):
        self.errors, self.notice, self.action_error = {}, "", ""
        self._reload()

    @requires(MANAGE)
    def save(self, form_data: dict):
        values = {k: form_data.get(k, "") for k in self.values or form_data}
        if run_action(
            self, lambda s, a: org_profile.update_profile(s, a, values), "profile.saved",
            field_errors=True,
        ):  # fmt: skip
            return OrgFooterState.load  # the footer shows the new profile at once
        return None
