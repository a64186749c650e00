"""``/consents``: the consent ledger as a subjects × purposes matrix, and the mailing list.

Compliance manages consents; staff may read the ledger. Every listing is audited, and the
mailing-list export asks ``services.consent`` (the one "may this purpose be processed?" rule).
"""

from __future__ import annotations

import reflex as rx

from dpa_panel.db import session_scope
from dpa_panel.models.vocab import PURPOSES
from dpa_panel.services import audit, auth, consent
from dpa_panel.state.auth_state import AuthState
from dpa_panel.state.guard import (
    actor_for,
    current_identity,
    requires,
    start_download,
)
from dpa_panel.state.paging import PAGE_SIZE, form_filters, page_count, page_summary, turn_page

READ = "consents.read"
CONSENT_PURPOSES = tuple(p for p in PURPOSES if p != "statistics")
STATES = ("granted", "withdrawn", "never")


class ConsentLedgerState(AuthState):
    #: Phones: the filter form folds behind a "Filters" button (issue 18).
    filters_open: bool = False
    rows: list[dict[str, str]] = []
    total: int = 0
    page: int = 1
    counts: dict[str, dict[str, int]] = {p: {s: 0 for s in STATES} for p in CONSENT_PURPOSES}
    filters: dict[str, str] = {}

    def _clear_on_denial(self):
        self.rows, self.total = [], 0

    @rx.var
    def page_count(self) -> int:
        return page_count(self.total)

    @rx.var
    def summary(self) -> str:
        return page_summary(self.locale, self.total, self.page)

    def _refresh(self) -> None:
        f = self.filters
        q = consent.MatrixQuery(
            search=f.get("search", ""),
            purpose=f.get("purpose", "") if f.get("purpose") in CONSENT_PURPOSES else "",
            state=f.get("state", "") if f.get("state") in STATES else "",
            page=self.page,
            page_size=PAGE_SIZE,
        )
        with session_scope() as session:
            rows, self.total = consent.consent_matrix(session, q)
            counts = consent.purpose_counts(session)
            audit.record(
                session, actor_for(self), "consent.list", "consent", "",
                {"filters": sorted(self.filters), "page": self.page, "rows": len(rows)},
            )  # fmt: skip
        self.counts = {
            p: {s: int(counts.get(p, {}).get(s, 0)) for s in STATES} for p in CONSENT_PURPOSES
        }
        self.rows = [
            {
                "subject_id": str(r.subject_id),
                "name": r.name,
                "email": r.email,
                "status": r.status,
                **{p: r.states.get(p, "never") for p in CONSENT_PURPOSES},
            }
            for r in rows
        ]

    @requires(READ)
    def load(self):
        self.page = 1
        self._refresh()

    @requires(READ)
    def toggle_filters(self):
        self.filters_open = not self.filters_open

    @requires(READ)
    def apply_filters(self, form_data: dict):
        self.filters = form_filters(form_data, ("search", "purpose", "state"))
        self.page = 1
        self._refresh()

    @requires(READ)
    def next_page(self):
        turn_page(self, +1, self._refresh)

    @requires(READ)
    def previous_page(self):
        turn_page(self, -1, self._refresh)

    @requires("consents.write")
    def export_mailing_list(self):
        """Names and e-mails of everyone who may be informed now; the export is audited."""
        ident = current_identity()
        with session_scope() as session:
            audit.record(session, actor_for(self), "consent.mailing_list_exported", "consent", "")
            ticket = auth.download_ticket(session, ident, {"kind": "mailing_csv",
                                                           "language": self.locale})  # fmt: skip
        return start_download(f"/api/download/{ticket}")
