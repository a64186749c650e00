"""The officer's review of an online access request's package (issue 20), shown on the request
detail page beside the casework: preview the stored report, prepare it again, release it.
Nothing reaches the person until the release; every step is audited by the services."""

from __future__ import annotations

import reflex as rx

from dpa_panel.db import session_scope
from dpa_panel.i18n import tr
from dpa_panel.i18n.dates import format_entry_datetime
from dpa_panel.services import auth, privacy_centre
from dpa_panel.state.actions import run_action
from dpa_panel.state.auth_state import AuthState
from dpa_panel.state.guard import current_identity, requires, start_download

PERMISSION = "requests.manage"


class AccessPackageState(AuthState):
    #: Facts about the package (dates and counts; no personal data): empty when none.
    package: dict[str, str] = {}
    confirming: bool = False
    action_error: str = ""
    notice: str = ""
    #: The request the pending confirmation is about (another request's page drops it).
    _confirm_for: int = 0

    def _clear_on_denial(self):
        self.package, self.confirming = {}, False

    def _request_id(self) -> int:
        raw = str(self.router.page.params.get("request_id", "") or "")
        return int(raw) if raw.isdigit() else 0

    def _reload(self) -> None:
        """Re-read the package. A pending confirmation is kept: the page's on_load runs again
        when the websocket reconnects (e.g. after the preview download), and must not take
        the confirmation away under the officer's pointer."""
        if self._confirm_for != self._request_id():
            self.confirming = False
        with session_scope() as session:
            package = privacy_centre.package_for(session, self._request_id())
            reference = ""
            if package is not None:
                from dpa_panel.models import SubjectRequest

                reference = session.get(SubjectRequest, package.request_id).reference
        if package is None:
            self.package, self.confirming = {}, False
            return
        self.package = {
            "prepared": tr(self.locale, "my.staff.prepared",
                           date=format_entry_datetime(package.prepared_at)),
            "released": tr(self.locale, "my.staff.released",
                           date=format_entry_datetime(package.released_at),
                           downloads=package.downloads) if package.released_at else "",
            "lead": tr(self.locale, "my.staff.package_lead", days=privacy_centre.PACKAGE_DAYS),
            "confirm": tr(self.locale, "my.staff.release_confirm", reference=reference,
                          days=privacy_centre.PACKAGE_DAYS),
        }  # fmt: skip

    @requires(PERMISSION)
    def load(self):
        self.action_error = self.notice = ""
        self._reload()

    @requires(PERMISSION)
    def preview(self):
        """The stored report as a PDF (what the person will get), through a download ticket."""
        params = {"kind": "access_package_pdf", "request_id": self._request_id(),
                  "language": self.locale}  # fmt: skip
        with session_scope() as session:
            ticket = auth.download_ticket(session, current_identity(), params)
        return start_download(f"/api/download/{ticket}")

    @requires(PERMISSION)
    def refresh(self):
        self.confirming = False
        request_id = self._request_id()
        run_action(self, lambda s, a: privacy_centre.prepare_package(s, a, request_id),
                   "my.staff.refreshed_notice")  # fmt: skip

    @requires(PERMISSION)
    def ask_release(self):
        self.confirming, self._confirm_for = True, self._request_id()

    @requires(PERMISSION)
    def cancel_release(self):
        self.confirming = False

    @requires(PERMISSION)
    def release(self):
        self.confirming = False
        request_id = self._request_id()
        if run_action(self, lambda s, a: privacy_centre.release_package(s, a, request_id),
                      "my.staff.released_notice"):  # fmt: skip
            return rx.redirect(f"/requests/{request_id}")
        return None
