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
from dpa_panel.services import audit, audit_view, auth, retention, sweep_preview
from dpa_panel.services.errors import ServiceError
from dpa_panel.state import confirming
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
HOLD_HITS = 8


def _today() -> date:
    return to_local(utcnow()).date()


class RetentionState(AuthState):
    #: Phones: the filter form folds behind a "Filters" button (issue 18).
    filters_open: bool = False
    rows: list[dict[str, str]] = []
    total: int = 0
    page: int = 1
    buckets: dict[str, int] = {b: 0 for b in BUCKETS}
    per_month: list[dict[str, int | str]] = []
    filters: dict[str, str] = {}
    #: The sweep preview (issue 18): one SQL page of who would be destroyed, with reference,
    #: name and what goes; loaded per request, audited as a read, cleared on cancel.
    preview: list[dict[str, str]] = []
    preview_total: int = 0
    preview_page: int = 1
    confirming: bool = False
    #: The question before the sweep / a single destruction (``state/confirming``).
    confirm_open: bool = False
    confirm_title: str = ""
    confirm_text: str = ""
    confirm_token: str = ""
    _pending: str = ""
    #: The legal-hold form's subject search (name, e-mail, workplace, reference or id). The
    #: query itself (often a name) stays in the backend.
    hold_hits: list[dict[str, str]] = []
    hold_total: int = 0
    hold_page: int = 1
    hold_searched: bool = False
    hold_choice: str = ""
    _hold_query: str = ""
    _hold_subject: int = 0
    acts: list[dict[str, str]] = []
    notice: str = ""
    action_error: str = ""

    def _clear_on_denial(self):
        self.rows, self.preview, self.acts, self.total = [], [], [], 0
        self.hold_hits, self.hold_choice, self._hold_query, self._hold_subject = [], "", "", 0
        confirming.forget(self)

    @rx.var
    def preview_pages(self) -> int:
        return page_count(self.preview_total, PREVIEW_ROWS)

    @rx.var
    def hold_pages(self) -> int:
        return page_count(self.hold_total, HOLD_HITS)

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
            staff = audit_view.staff_directory(session) if acts else {}
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
                "by": audit_view.actor_text(self.locale, a, staff),
                "digest": a.digest[:16],
            }
            for a in acts
        ]

    @requires(MANAGE)
    def load(self):
        self.page, self.confirming, self.notice, self.action_error = 1, False, "", ""
        self.preview, self.preview_total, self.preview_page = [], 0, 1
        self._forget_hold_search()
        confirming.forget(self)
        self._refresh()

    @requires(MANAGE)
    def toggle_filters(self):
        self.filters_open = not self.filters_open

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

    # --- legal holds: find the subject by name or reference ------------------------------------

    def _forget_hold_search(self) -> None:
        self.hold_hits, self.hold_total, self.hold_page, self.hold_searched = [], 0, 1, False
        self.hold_choice, self._hold_query, self._hold_subject = "", "", 0

    def _load_hold_hits(self) -> None:
        with session_scope() as session:
            hits, self.hold_total = sweep_preview.find_subjects(
                session, self._hold_query, today=_today(), page=self.hold_page,
                page_size=HOLD_HITS,
            )
            # The query is often a person's name: the audit keeps only its length and counts.
            audit.record(
                session, actor_for(self), "retention.subject_search", "data_subject", "",
                {"length": len(self._hold_query), "page": self.hold_page, "rows": len(hits),
                 "total": self.hold_total},
            )  # fmt: skip
        self.hold_searched = True
        self.hold_hits = [
            {"id": str(h.subject_id), "reference": h.reference, "name": h.name,
             "status": h.status, "held": "1" if h.held else ""}
            for h in hits
        ]  # fmt: skip

    @requires(MANAGE)
    def search_hold_subject(self, form_data: dict):
        self.notice = self.action_error = ""
        self._forget_hold_search()
        self._hold_query = " ".join(str(form_data.get("query", "") or "").split())[:100]
        if not self._hold_query:
            self.action_error = tr(self.locale, "confirm.search_empty")
            return
        self._load_hold_hits()

    @requires(MANAGE)
    def hold_hits_next(self):
        if self._hold_query and self.hold_page < page_count(self.hold_total, HOLD_HITS):
            self.hold_page += 1
            self._load_hold_hits()

    @requires(MANAGE)
    def hold_hits_previous(self):
        if self._hold_query and self.hold_page > 1:
            self.hold_page -= 1
            self._load_hold_hits()

    @requires(MANAGE)
    def choose_hold_subject(self, subject_id: str):
        """Pick one of the results shown (only those): the hold form names them."""
        hit = next((h for h in self.hold_hits if h["id"] == str(subject_id)), None)
        if hit is None:
            self.action_error = tr(self.locale, "confirm.stale")
            return
        self._hold_subject = int(hit["id"])
        self.hold_choice = " · ".join(p for p in (hit["reference"], hit["name"]) if p)

    @requires(MANAGE)
    def clear_hold_subject(self):
        self._hold_subject, self.hold_choice = 0, ""

    @requires(MANAGE)
    def place_hold(self, form_data: dict):
        self.notice = self.action_error = ""
        if not self._hold_subject:
            self.action_error = tr(self.locale, "confirm.choose_subject")
            return
        ends = str(form_data.get("ends_on", "") or "").strip()
        try:
            ends_on = date.fromisoformat(ends) if ends else None
        except ValueError:
            self.action_error = tr(self.locale, "audit.bad_date")
            return
        try:
            with session_scope() as session:
                retention.place_hold(
                    session, actor_for(self), self._hold_subject,
                    str(form_data.get("reason", ""))[:2000], ends_on=ends_on,
                )  # fmt: skip
        except ServiceError as err:
            self.action_error = tr(self.locale, err.key)
            return
        self.notice = tr(self.locale, "retention.hold_placed")
        self._forget_hold_search()
        self._refresh()

    # --- the sweep and single destructions: preview, then ask naming the target ---------------

    def _load_preview(self) -> None:
        with session_scope() as session:
            due, self.preview_total = sweep_preview.due_page(
                session, as_of=utcnow(), page=self.preview_page, page_size=PREVIEW_ROWS
            )
            audit.record(
                session, actor_for(self), "retention.sweep_previewed", "data_subject", "",
                {"page": self.preview_page, "rows": len(due), "total": self.preview_total},
            )  # fmt: skip
        loc = self.locale
        self.preview = [
            {
                "subject_id": str(d.subject_id),
                "reference": d.reference or f"#{d.subject_id}",
                "name": d.name,
                "due": format_datetime(d.due_at, loc, "short"),
                "purpose": d.purpose,
                "event": d.event,
                "destroys": ", ".join(tr(loc, f"confirm.destroys.{k}") for k in d.destroys),
            }
            for d in due
        ]
        self.confirming = True

    @requires(MANAGE)
    def preview_sweep(self):
        """Show, a page at a time, who a sweep would destroy now and what of theirs."""
        self.notice = self.action_error = ""
        self.preview_page = 1
        self._load_preview()

    @requires(MANAGE)
    def preview_next(self):
        if self.confirming and self.preview_page < page_count(self.preview_total, PREVIEW_ROWS):
            self.preview_page += 1
            self._load_preview()

    @requires(MANAGE)
    def preview_previous(self):
        if self.confirming and self.preview_page > 1:
            self.preview_page -= 1
            self._load_preview()

    @requires(MANAGE)
    def cancel_sweep(self):
        self.confirming, self.preview, self.preview_total, self.preview_page = False, [], 0, 1
        confirming.forget(self)

    @requires(MANAGE)
    def ask_sweep(self):
        """Ask before the sweep, naming how many subjects it destroys now."""
        self.notice = self.action_error = ""
        with session_scope() as session:
            count = sweep_preview.count_due(session, as_of=utcnow())
        if not count:
            confirming.forget(self)
            self.notice = tr(self.locale, "confirm.sweep_nothing")
            return
        confirming.ask(
            self, f"sweep:{count}", tr(self.locale, "confirm.sweep.title"),
            tr(self.locale, "confirm.sweep.text", count=count),
        )  # fmt: skip

    @requires(MANAGE)
    def ask_destroy(self, subject_id: str):
        """Ask before destroying one subject now, naming them and their reference."""
        self.notice = self.action_error = ""
        confirming.forget(self)
        sid = int(subject_id) if str(subject_id).isdigit() else 0
        with session_scope() as session:
            due = sweep_preview.due_subject(session, sid, as_of=utcnow()) if sid else None
            if due is not None:
                audit.record(session, actor_for(self), "retention.destroy_asked",
                             "data_subject", sid, {})  # fmt: skip
        if due is None:
            self.action_error = tr(self.locale, "retention.not_due")
            return
        confirming.ask(
            self, f"destroy:{sid}", tr(self.locale, "confirm.destroy.title"),
            tr(self.locale, "confirm.destroy.text", name=due.name,
               reference=due.reference or f"#{sid}"),
        )  # fmt: skip

    @requires(MANAGE)
    def cancel_confirm(self):
        confirming.forget(self)

    @requires(MANAGE)
    def confirm(self, token: str):
        """Run what the question named: the sweep (if the count is still the one named) or
        the one subject's destruction (in one transaction, with its act)."""
        if not confirming.take(self, token):
            return
        kind, value = confirming.parts(token, 2)
        if kind == "sweep":
            with session_scope() as session:
                count = sweep_preview.count_due(session, as_of=utcnow())
            if str(count) != value:
                self.action_error = tr(self.locale, "confirm.sweep_changed", count=count)
                return
            report = retention.run_sweep(get_engine(), as_of=utcnow(), actor=actor_for(self))
            self.confirming, self.preview, self.preview_total = False, [], 0
            self.notice = tr(self.locale, "retention.sweep_done", count=len(report.destroyed))
        elif kind == "destroy" and value.isdigit():
            try:
                with session_scope() as session:
                    act = retention.destroy_subject(session, actor_for(self), int(value))
                    reference = act.reference
            except ServiceError as err:
                self.action_error = tr(self.locale, err.key)
                return
            self.notice = tr(self.locale, "confirm.destroyed", reference=reference)
            if self.confirming:
                self._load_preview()
        else:
            self.action_error = tr(self.locale, "confirm.stale")
            return
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
