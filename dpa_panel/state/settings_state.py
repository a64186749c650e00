"""``/admin/settings``: where the personal data lives (policy clause 4.3: in the Republic of
Kazakhstan) and whether the deployment is healthy — the cheap part of ``dpa-panel doctor``
(configuration, last backup, last retention sweep; the full audit-chain check stays in the
CLI because it reads every event)."""

from __future__ import annotations

from dpa_panel import settings
from dpa_panel.db import session_scope
from dpa_panel.models.types import utcnow
from dpa_panel.services import doctor
from dpa_panel.state.auth_state import AuthState
from dpa_panel.state.guard import requires

READ = "deployment.read"


class SettingsState(AuthState):
    data_location: str = ""
    checks: list[dict[str, str]] = []

    def _clear_on_denial(self):
        self.data_location, self.checks = "", []

    @requires(READ)
    def load(self):
        self.data_location = settings.data_location()
        found = doctor.configuration_checks()
        with session_scope() as session:
            found += doctor.operations_checks(session, now=utcnow())
        self.checks = [
            {
                "status": c.status.strip().lower(),
                "name": c.name.replace(" ", "_"),
                "detail": c.detail,
            }
            for c in found
        ]
