"""``/audit``: the audit trail viewer (compliance and admin), filtered and paged in SQL."""

from __future__ import annotations

import reflex as rx
from sqlalchemy import select

from dpa_panel.db import session_scope
from dpa_panel.i18n import tr
from dpa_panel.models import StaffUser
from dpa_panel.services import audit, audit_view, auth
from dpa_panel.state.auth_state import AuthState
from dpa_panel.state.guard import (
    actor_for,
    current_identity,
    requires,
    start_download,
)
from dpa_panel.state.paging import (
    PAGE_SIZE,
    date_range_error,
    form_filters,
    optional_date,
    page_count,
    page_summary,
    turn_page,
)

READ = "audit.read"


class AuditViewState(AuthState):
    rows: list[dict[str, str]] = []
    total: int = 0
    page: int = 1
    actions: list[dict[str, str]] = []
    entity_types: list[dict[str, str]] = []
    actors: list[dict[str, str]] = []
    filters: dict[str, str] = {}
    filter_error: str = ""

    def _clear_on_denial(self):
        self.rows, self.total, self.page, self.filters = [], 0, 1, {}

    @rx.var
    def page_count(self) -> int:
        return page_count(self.total)

    @rx.var
    def summary(self) -> str:
        return page_summary(self.locale, self.total, self.page, "audit.summary")

    def _filter(self) -> audit.AuditFilter:
        f = self.filters
        actor = f.get("actor", "")
        actor_id, actor_type = None, ""
        if actor in ("public", "system"):
            actor_type = actor
        elif actor.isdigit():
            actor_id, actor_type = int(actor), "user"
        return audit.AuditFilter(
            actor_id=actor_id,
            actor_type=actor_type,
            action=f.get("action", ""),
            entity_type=f.get("entity_type", ""),
            entity_id=f.get("entity_id", ""),
            date_from=optional_date(f.get("date_from")),
            date_to=optional_date(f.get("date_to")),
        )

    def _query(self) -> None:
        with session_scope() as session:
            events, self.total = audit.query_events(
                session, self._filter(), page=self.page, page_size=PAGE_SIZE
            )
            self.rows = audit_view.rows(session, events, self.locale)

    @requires(READ)
    def load(self):
        with session_scope() as session:
            self.actions = audit_view.action_options(
                self.locale, audit.distinct_actions(session)
            )
            users = session.execute(
                select(StaffUser.id, StaffUser.username).order_by(StaffUser.username)
            ).all()
        self.actors = [{"value": str(uid), "label": name} for uid, name in users]
        self.entity_types = audit_view.entity_options(self.locale)
        self.page, self.filters, self.filter_error = 1, {}, ""
        self._query()

    @requires(READ)
    def apply_filters(self, form_data: dict):
        wanted = form_filters(
            form_data,
            ("actor", "action", "entity_type", "entity_id", "date_from", "date_to"),
            limit=64,
        )
        error = date_range_error(wanted)
        self.filter_error = tr(self.locale, error) if error else ""
        if error:
            return
        if wanted.get("entity_id"):
            with session_scope() as session:
                wanted["entity_id"] = audit_view.resolve_record(
                    session, wanted.get("entity_type", ""), wanted["entity_id"]
                )
        self.filters = wanted
        self.page = 1
        self._query()

    @requires(READ)
    def next_page(self):
        turn_page(self, +1, self._query)

    @requires(READ)
    def previous_page(self):
        turn_page(self, -1, self._query)

    @requires("audit.export")
    def export_csv(self):
        """Audit the export, then hand the browser a single-use download ticket."""
        ident = current_identity()
        params = {"kind": "audit_csv", **self._export_params(), "language": self.locale}
        with session_scope() as session:
            audit.record(
                session,
                actor_for(self),
                "audit.exported",
                "audit_event",
                "",
                {"filters": self.filters},
            )
            ticket = auth.download_ticket(session, ident, params)
        return start_download(f"/api/download/{ticket}")

    def _export_params(self) -> dict:
        flt = self._filter()
        return {
            "actor_id": flt.actor_id,
            "actor_type": flt.actor_type,
            "action": flt.action,
            "entity_type": flt.entity_type,
            "entity_id": flt.entity_id,
            "date_from": flt.date_from.isoformat() if flt.date_from else "",
            "date_to": flt.date_to.isoformat() if flt.date_to else "",
        }
