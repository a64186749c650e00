"""``/inventory``: the list of personal data and processing register (issue 17)."""

from __future__ import annotations

import json

from dpa_panel.db import session_scope
from dpa_panel.i18n import tr
from dpa_panel.i18n.dates import format_entry_datetime
from dpa_panel.models import StaffUser
from dpa_panel.services import audit, auth, data_inventory
from dpa_panel.state.actions import run_action
from dpa_panel.state.auth_state import AuthState
from dpa_panel.state.guard import (
    actor_for,
    current_identity,
    requires,
    start_download,
)

READ = "inventory.read"


class InventoryState(AuthState):
    current: list[str] = []
    approved: list[str] = []
    approved_line: str = ""
    version: str = ""
    version_label: str = ""
    needs_approval: bool = False
    notice: str = ""
    action_error: str = ""

    def _reload(self) -> None:
        loc = self.locale
        with session_scope() as session:
            st = data_inventory.status(session)
            self.current = data_inventory.lines(session, data_inventory.build_content(session),
                                                loc)  # fmt: skip
            self.needs_approval = st.needs_approval
            row = st.latest
            if row is None:
                self.approved, self.approved_line = [], ""
                self.version = self.version_label = ""
                return
            person = session.get(StaffUser, row.approved_by_id)
            self.approved = data_inventory.lines(session, json.loads(row.content), loc)
            self.approved_line = tr(loc, "inventory.approved_by",
                                    who=(person.full_name or person.username) if person else "",
                                    at=format_entry_datetime(row.approved_at))  # fmt: skip
            self.version, self.version_label = str(row.version), f"v{row.version}"

    @requires(READ)
    def load(self):
        self.notice = self.action_error = ""
        self._reload()

    @requires("inventory.approve")
    def approve(self):
        run_action(self, lambda s, a: data_inventory.approve(s, a), "inventory.approved_notice")

    @requires(READ)
    def download(self, language: str):
        lang = language if language in ("kk", "ru", "en") else "kk"
        if not self.version:
            return None
        ident = current_identity()
        with session_scope() as session:
            audit.record(session, actor_for(self), "inventory.exported", "data_inventory",
                         self.version, {"language": lang})  # fmt: skip
            ticket = auth.download_ticket(session, ident, {
                "kind": "inventory_pdf", "version": int(self.version), "language": lang})
        return start_download(f"/api/download/{ticket}")
