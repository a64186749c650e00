"""``/retention``: destruction countdown, legal holds, the sweep and destruction acts
(policy clauses 4.4 and 7.2). The rules live in ``services.retention``; this state only shows
their results and asks for confirmation before anything is destroyed."""

from __future__ import annotations

from datetime import date

import reflex as rx

from dpa_panel.db import get_engine, session_scope
from dpa_panel.i18n import tr
from dpa_panel.i18n.formatting import format_date, format_datetime, to_local
from dpa_panel.models.types import utcnow
from dpa_panel.services import audit, auth, retention
from dpa_panel.services.errors import ServiceError
from dpa_panel.state.auth_state import AuthState
from dpa_panel.state.guard import (
    actor_for,
    current_identity,
    requires,
    start_download,
)
from dpa_panel.state.paging import PAGE_SIZE, form_filters, page_count, page_summary, turn_page

MANAGE = "retention.manage"
BUCKETS = ("overdue", "30", "90", "later")
PREVIEW_ROWS = 20


def _today() -> date:
    return to_local(utcnow()).date()


class RetentionState(AuthState):
    rows: list[dict[str, str]] = []
    total: int = 0
    page: int = 1
    buckets: dict[str, int] = {b: 0 for b in BUCKETS}
    per_month: list[dict[str, int | str]] = []
    filters: dict[str, str] = {}
    preview: list[dict[str, str]] = []
    preview_total: int = 0
    confirming: bool = False
    acts: list[dict[str, str]] = []
    notice: str = ""
    action_error: str = ""

    def _clear_on_denial(self):
        self.rows, self.preview, self.acts, self.total = [], [], [], 0

    @rx.var
    def page_count(self) -> int:
        return page_count(self.total)

    @rx.var
    def summary(self) -> str:
        return page_summary(self.locale, self.total, self.page)

    def _refresh(self) -> None:
        today = _today()
        f = self.filters
        with session_scope() as session:
            rows, self.total = retention.countdown(
                session,
                today=today,
                bucket=f.get("bucket", "") if f.get("bucket") in BUCKETS else "",
                search=f.get("search", ""),
                sort=f.get("sort", "due"),
                page=self.page,
                page_size=PAGE_SIZE,
            )
            counts = retention.bucket_counts(session, today=today)
            per_month = retention.due_per_month(session, today=today, months=24)
            acts, _acts_total = retention.list_acts(session, page=1, page_size=20)
            audit.record(
                session, actor_for(self), "retention.list", "data_subject", "",
                {"filters": sorted(self.filters), "page": self.page, "rows": len(rows)},
            )  # fmt: skip
        self.buckets = {b: int(counts.get(b, 0)) for b in BUCKETS}
        self.per_month = [{"month": str(p["month"]), "count": int(p["count"])} for p in per_month]
        self.rows = [
            {
                "subject_id": str(r.subject_id),
                "name": r.name,
                "due": format_date(r.due_date, self.locale, "medium"),
                "days_left": str(r.days_left),
                "purpose": r.purpose or "",
                "event": r.event or "",
                "held": "1" if r.held else "",
                "blocked": "1" if r.blocked else "",
                "tone": "red" if r.days_left < 0 else ("amber" if r.days_left <= 30 else "gray"),
            }
            for r in rows
        ]
        self.acts = [
            {
                "reference": a.reference,
                "subject_ref": a.subject_ref,
                "destroyed": format_datetime(a.destroyed_at, self.locale, "short"),
                "by": a.actor_type,
                "digest": a.digest[:16],
            }
            for a in acts
        ]

    @requires(MANAGE)
    def load(self):
        self.page, self.confirming, self.notice, self.action_error = 1, False, "", ""
        self.preview, self.preview_total = [], 0
        self._refresh()

    @requires(MANAGE)
    def apply_filters(self, form_data: dict):
        self.filters = form_filters(form_data, ("bucket", "search", "sort"))
        self.page = 1
        self._refresh()

    @requires(MANAGE)
    def next_page(self):
        turn_page(self, +1, self._refresh)

    @requires(MANAGE)
    def previous_page(self):
        turn_page(self, -1, self._refresh)

    @requires(MANAGE)
    def place_hold(self, form_data: dict):
        self.notice = self.action_error = ""
        raw_id = str(form_data.get("subject_id", "")).strip()
        ends = str(form_data.get("ends_on", "") or "").strip()
        try:
            ends_on = date.fromisoformat(ends) if ends else None
        except ValueError:
            self.action_error = tr(self.locale, "audit.bad_date")
            return
        try:
            with session_scope() as session:
                retention.place_hold(
                    session, actor_for(self), int(raw_id) if raw_id.isdigit() else 0,
                    str(form_data.get("reason", ""))[:2000], ends_on=ends_on,
                )  # fmt: skip
        except ServiceError as err:
            self.action_error = tr(self.locale, err.key)
            return
        self.notice = tr(self.locale, "retention.hold_placed")
        self._refresh()

    @requires(MANAGE)
    def preview_sweep(self):
        """Show what a sweep would destroy now, and ask for confirmation."""
        self.notice = self.action_error = ""
        with session_scope() as session:
            due = retention.preview_sweep(session, as_of=utcnow())
        self.preview_total = len(due)
        self.preview = [
            {
                "subject_id": str(d.subject_id),
                "due": format_datetime(d.due_at, self.locale, "short"),
                "purpose": d.purpose or "",
                "event": d.event or "",
            }
            for d in due[:PREVIEW_ROWS]
        ]
        self.confirming = True

    @requires(MANAGE)
    def cancel_sweep(self):
        self.confirming, self.preview, self.preview_total = False, [], 0

    @requires(MANAGE)
    def run_sweep(self):
        """Destroy everything due (each subject in its own transaction), with an act each."""
        self.notice = self.action_error = ""
        report = retention.run_sweep(get_engine(), as_of=utcnow(), actor=actor_for(self))
        self.confirming, self.preview, self.preview_total = False, [], 0
        self.notice = tr(self.locale, "retention.sweep_done", count=len(report.destroyed))
        self._refresh()

    @requires(MANAGE)
    def export_acts(self, fmt: str):
        ident = current_identity()
        kind = "acts_pdf" if fmt == "pdf" else "acts_csv"
        with session_scope() as session:
            audit.record(session, actor_for(self), "retention.acts_exported", "destruction_act", "",
                         {"format": fmt})  # fmt: skip
            ticket = auth.download_ticket(session, ident, {"kind": kind, "language": self.locale})
        return start_download(f"/api/download/{ticket}")
