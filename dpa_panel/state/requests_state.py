"""``/requests`` (the register of all requests, new request) and ``/requests/[request_id]``
(one request: facts, deadline with its citation, history, and the steps that move it)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import reflex as rx
from sqlalchemy import select

from dpa_panel import settings
from dpa_panel.db import session_scope
from dpa_panel.i18n import tr
from dpa_panel.i18n.dates import format_entry_date, format_entry_datetime, parse_date
from dpa_panel.i18n.formatting import format_number, to_local
from dpa_panel.models import StaffUser
from dpa_panel.models.types import utcnow
from dpa_panel.models.vocab import CLOSED_REQUEST_STATUSES, REQUEST_KINDS
from dpa_panel.services import (
    audit,
    auth,
    consent,
    request_deadlines,
    request_register,
    requests,
)
from dpa_panel.services.errors import ServiceError, ValidationFailed
from dpa_panel.state.actions import run_action
from dpa_panel.state.auth_state import AuthState
from dpa_panel.state.guard import (
    actor_for,
    current_identity,
    requires,
    start_download,
)
from dpa_panel.state.paging import form_filters, page_count, page_summary, turn_page

MANAGE = "requests.manage"
ALMATY = ZoneInfo(settings.DISPLAY_TZ)
FILTER_KEYS = ("kind", "assignee", "received_from", "received_to", "search", "due_within")
EXPORTS = {"csv": "requests_csv", "xlsx": "requests_xlsx"}


def _today() -> date:
    return to_local(utcnow()).date()


def _find_subject(session, key: str) -> int | None:
    """A subject id from what the officer typed: an id, or an e-mail."""
    key = key.strip()
    if key.isdigit():
        return int(key)
    if "@" in key:
        rows, _ = consent.consent_matrix(session, consent.MatrixQuery(search=key, page_size=2))
        exact = [r for r in rows if r.email.lower() == key.lower()]
        return exact[0].subject_id if len(exact) == 1 else None
    return None


def _assignable(session) -> list[dict[str, str]]:
    stmt = (
        select(StaffUser.id, StaffUser.username, StaffUser.full_name)
        .where(
            StaffUser.is_active.is_(True),
            StaffUser.role.in_(requests.REQUEST_ASSIGNABLE_ROLES),
        )
        .order_by(StaffUser.username)
    )
    return [
        {"value": str(uid), "label": f"{name} ({username})" if name else username}
        for uid, username, name in session.execute(stmt)
    ]


def _outcome_text(locale: str, status: str, late_days: int) -> str:
    if status not in ("answered", "refused"):
        return ""
    if late_days <= 0:
        return tr(locale, "requests.on_time_answer")
    return tr(locale, "requests.late_by", days=late_days)


def _tone(row: request_register.RequestRow) -> str:
    """Badge colour: red overdue or late, amber due within a working day, gray withdrawn."""
    if row.status == "withdrawn":
        return "gray"
    if row.overdue or row.late_days:
        return "red"
    if row.status in CLOSED_REQUEST_STATUSES or row.days_left > 1:
        return "green"
    return "amber"


class RequestsState(AuthState):
    """The register: a view (tab), filters, one page of rows, counts per view, exports."""
    #: Phones: the filter form folds behind a "Filters" button (issue 18).
    filters_open: bool = False

    rows: list[dict[str, str]] = []
    counts: dict[str, str] = {}
    view: str = "open"
    filters: dict[str, str] = {}
    page: int = 1
    total: int = 0
    staff: list[dict[str, str]] = []
    due_soon_until: str = ""
    filter_error: str = ""
    form_error: str = ""
    notice: str = ""
    today_text: str = ""
    on_time_share: str = "—"

    def _clear_on_denial(self):
        self.rows, self.counts, self.staff = [], {}, []

    @rx.var
    def summary(self) -> str:
        return page_summary(self.locale, self.total, self.page)

    @rx.var
    def page_count(self) -> int:
        return page_count(self.total)

    def _query(self) -> request_register.RegisterQuery:
        return request_register.query_from_strings({**self.filters, "view": self.view}, self.page)

    def _reload(self) -> None:
        today = _today()
        loc = self.locale
        q = self._query()
        with session_scope() as session:
            found = request_register.register_page(session, q, today=today)
            counts = request_register.view_counts(session, today=today, due_within=q.due_within)
            share = request_register.request_counts(session, today)["answered_on_time_share"]
            audit.record(
                session, actor_for(self), "request.register_read", "subject_request", "",
                # Filter names and codes only: a search term is often a person's name.
                {"view": q.view, "filters": sorted(self.filters), "page": q.page,
                 "rows": len(found.rows)},
            )  # fmt: skip
        self.total = found.total
        self.counts = {k: format_number(v, loc) for k, v in counts.items()}
        self.on_time_share = "—" if share is None else f"{share:.0%}"
        self.due_soon_until = format_entry_date(found.due_soon_until)
        self.rows = [
            {
                "id": str(r.id),
                "reference": r.reference,
                "kind": r.kind,
                "status": r.status,
                "requester": r.requester,
                "received": format_entry_date(to_local(r.received_at).date()),
                "due": format_entry_date(r.due_date),
                "days_left": str(r.days_left),
                "closed": "1" if r.status in CLOSED_REQUEST_STATUSES else "",
                "closed_on": format_entry_date(
                    to_local(r.answered_at).date() if r.answered_at else None
                ),
                "outcome": _outcome_text(loc, r.status, r.late_days),
                "overdue": "1" if r.overdue else "",
                "paused": "1" if r.paused else "",
                "assignee": r.assignee_username or "",
                "tone": _tone(r),
            }
            for r in found.rows
        ]

    def _safe_reload(self) -> None:
        try:
            self._reload()
        except ServiceError as err:
            self.filter_error = tr(self.locale, err.key)
            self.rows, self.total = [], 0

    @requires(MANAGE)
    def load(self):
        self.form_error = self.notice = self.filter_error = ""
        self.page = 1
        self.today_text = format_entry_date(_today())
        view = str(self.router.page.params.get("view", "") or "")
        self.view = view if view in request_register.VIEWS else "open"
        with session_scope() as session:
            self.staff = _assignable(session)
        self._safe_reload()

    @requires(MANAGE)
    def show_view(self, view: str):
        """A tab: an unknown view is refused with a message and nothing changes."""
        self.filter_error = ""
        if str(view) not in request_register.VIEWS:
            self.filter_error = tr(self.locale, "register.bad_filter")
            return
        self.view, self.page = str(view), 1
        self._safe_reload()

    @requires(MANAGE)
    def toggle_filters(self):
        self.filters_open = not self.filters_open

    @requires(MANAGE)
    def apply_filters(self, form_data: dict):
        self.filter_error = ""
        filters = form_filters(form_data, FILTER_KEYS)
        try:
            request_register.query_from_strings({**filters, "view": self.view})
        except ServiceError as err:
            self.filter_error = tr(self.locale, err.key)
            return
        self.filters, self.page = filters, 1
        self._safe_reload()

    @requires(MANAGE)
    def clear_filters(self):
        self.filters, self.page, self.filter_error = {}, 1, ""
        self._safe_reload()

    @requires(MANAGE)
    def next_page(self):
        turn_page(self, 1, self._safe_reload)

    @requires(MANAGE)
    def previous_page(self):
        turn_page(self, -1, self._safe_reload)

    @requires(MANAGE)
    def export(self, fmt: str):
        """The filtered register as CSV or XLSX (audited here: filter names, no values)."""
        kind = EXPORTS.get(str(fmt))
        if kind is None:
            return None
        try:
            self._query()
        except ServiceError as err:
            self.filter_error = tr(self.locale, err.key)
            return None
        with session_scope() as session:
            audit.record(
                session, actor_for(self), "request.register_exported", "subject_request", "",
                {"format": fmt, "view": self.view, "filters": sorted(self.filters)},
            )  # fmt: skip
            # The ticket's own "kind" names the export: the kind filter travels as
            # "request_kind" (what exports.py reads).
            params = {k: v for k, v in self.filters.items() if k != "kind"}
            params["request_kind"] = self.filters.get("kind", "")
            ticket = auth.download_ticket(
                session, current_identity(),
                {"kind": kind, **params, "view": self.view, "language": self.locale},
            )  # fmt: skip
        return start_download(f"/api/download/{ticket}")

    @requires(MANAGE)
    def create(self, form_data: dict):
        self.form_error = self.notice = ""
        kind = str(form_data.get("kind", ""))
        raw = str(form_data.get("received_on", "") or "").strip()
        try:
            day = parse_date(raw) if raw else None
        except ValueError:
            day = None
            raw = "bad"
        if day is None:
            self.form_error = tr(self.locale, "date.bad" if raw else "requests.received_required")
            return
        # A past day without a time: noon in Almaty (today: the moment it is recorded).
        received_at = (
            datetime.combine(day, time(12, 0), tzinfo=ALMATY).astimezone(UTC)
            if day != _today() else utcnow()
        )  # fmt: skip
        try:
            with session_scope() as session:
                subject_key = str(form_data.get("subject", "") or "")
                subject_id = _find_subject(session, subject_key) if subject_key else None
                if subject_key.strip() and subject_id is None:
                    raise ServiceError("requests.subject_not_found", field="subject")
                request = requests.create_request(
                    session,
                    actor_for(self),
                    kind=kind if kind in REQUEST_KINDS else "",
                    received_at=received_at,
                    channel=str(form_data.get("channel", "")),
                    requester=str(form_data.get("requester", ""))[:300],
                    contact=str(form_data.get("contact", ""))[:300],
                    details=str(form_data.get("details", ""))[:4000],
                    subject_id=subject_id,
                )
                created_id = request.id
        except ValidationFailed as err:
            self.form_error = " ".join(
                tr(self.locale, v) for v in dict.fromkeys(err.errors.values())
            )
            return
        except ServiceError as err:
            self.form_error = tr(self.locale, err.key)
            return
        return rx.redirect(f"/requests/{created_id}")


def _event_line(locale: str, kind: str, data: dict, usernames: dict[int, str]) -> str:
    """One history entry in words (the actor and time are shown beside it)."""
    if kind == "assigned":
        to = data.get("to")
        if to is None:
            return tr(locale, "request_event.unassigned")
        return tr(locale, "request_event.assigned_to", name=usernames.get(to, f"#{to}"))
    if kind == "resumed" and data.get("paused_days"):
        return tr(locale, "request_event.resumed_extended", days=data["paused_days"],
                  due=format_entry_date(date.fromisoformat(data["due"])))  # fmt: skip
    if kind == "reopened":
        return tr(locale, "request_event.reopened")
    if kind == "received" and data.get("due"):
        return tr(locale, "request_event.received_due",
                  due=format_entry_date(date.fromisoformat(data["due"])))  # fmt: skip
    return tr(locale, f"request_event.{kind}")


class RequestDetailState(AuthState):
    request: dict[str, str] = {}
    allowed: list[str] = []
    history: list[dict[str, str]] = []
    staff: list[dict[str, str]] = []
    not_found: bool = False
    action_error: str = ""
    notice: str = ""

    def _clear_on_denial(self):
        self.request, self.allowed, self.history, self.staff = {}, [], [], []

    def _request_id(self) -> int:
        raw = str(self.router.page.params.get("request_id", "") or "")
        return int(raw) if raw.isdigit() else 0

    def _reload(self) -> None:
        loc = self.locale
        with session_scope() as session:
            r = requests.get_request(session, actor_for(self), self._request_id())
            deadline = requests.deadline_for(session, r.kind)
            closed = r.status in CLOSED_REQUEST_STATUSES
            days_left = 0 if closed else requests.working_days_left(session, r.due_date, _today())
            outcome = (
                request_deadlines.closing_outcome(session, r.due_date, r.answered_at)
                if closed and r.answered_at is not None
                else None
            )
            entries = requests.request_history(session, r.id)
            usernames = dict(session.execute(select(StaffUser.id, StaffUser.username)).all())
            subject_name = ""
            if r.subject_id is not None:
                from dpa_panel.models import DataSubject

                subject = session.get(DataSubject, r.subject_id)
                if subject is not None and subject.status != "destroyed":
                    subject_name = f"{subject.surname} {subject.first_name}".strip()
            self.staff = _assignable(session)
        self.request = {
            "id": str(r.id),
            "reference": r.reference,
            "kind": r.kind,
            "status": r.status,
            "channel": r.channel,
            "requester": r.requester,
            "contact": r.contact,
            "details": r.details,
            "received": format_entry_datetime(r.received_at),
            "due": format_entry_date(r.due_date),
            "days_left": str(days_left),
            "overdue": "1" if not closed and days_left < 0 else "",
            "closed": "1" if closed else "",
            "closed_on": format_entry_datetime(r.answered_at),
            "outcome": _outcome_text(loc, r.status, outcome.late_days) if outcome else "",
            "late": "1" if outcome and outcome.late_days else "",
            "deadline_days": str(deadline.working_days),
            "deadline_from": deadline.counted_from,
            "deadline_source": deadline.source,
            "pause_stops_clock": "1" if deadline.pause_stops_clock else "",
            "paused": "1" if r.paused_at else "",
            "paused_since": format_entry_datetime(r.paused_at),
            "pause_reason": r.pause_reason,
            "subject_id": str(r.subject_id or ""),
            "subject_name": subject_name,
            "verified": format_entry_datetime(r.identity_verified_at),
            "method": r.identity_method,
            "answer": r.answer,
            "refusal_reason": r.refusal_reason,
            "assignee": str(r.assignee_id or ""),
        }
        self.history = [
            {
                "id": str(e.id),
                "kind": e.kind,
                "line": _event_line(loc, e.kind, json.loads(e.data or "{}"), usernames),
                "who": username or tr(loc, "request_event.system"),
                "at": format_entry_datetime(e.at),
                "text": e.text,
            }
            for e, username in entries
        ]
        self.allowed = list(requests.REQUEST_TRANSITIONS.get(r.status, ()))

    @requires(MANAGE)
    def load(self):
        self.action_error = self.notice = ""
        self.not_found = False
        try:
            self._reload()
        except ServiceError:
            self._clear_on_denial()
            self.not_found = True

    def _act(self, fn, notice_key: str) -> None:
        request_id = self._request_id()
        run_action(self, lambda s, actor: fn(s, actor, request_id), notice_key)

    @requires(MANAGE)
    def verify_identity(self, form_data: dict):
        method = str(form_data.get("method", ""))[:300]
        key = str(form_data.get("subject", "") or "")

        def run(session, actor, request_id):
            subject_id = None
            if key.strip():
                subject_id = _find_subject(session, key)
                if subject_id is None:
                    raise ServiceError("requests.subject_not_found", field="subject")
            requests.verify_identity(
                session, actor, request_id, subject_id=subject_id, method=method
            )

        self._act(run, "requests.identity_verified")

    @requires(MANAGE)
    def change_status(self, form_data: dict):
        to_status = str(form_data.get("to_status", ""))
        text = str(form_data.get("text", ""))[:4000]

        def run(session, actor, request_id):
            requests.change_request_status(
                session, actor, request_id, to_status,
                answer=text if to_status == "answered" else "",
                refusal_reason=text if to_status in ("refused", "withdrawn") else "",
            )  # fmt: skip

        self._act(run, "detail.status_changed")

    @requires(MANAGE)
    def pause(self, form_data: dict):
        reason = str(form_data.get("reason", ""))[:400]
        self._act(lambda s, a, rid: requests.pause_request(s, a, rid, reason), "requests.paused")

    @requires(MANAGE)
    def resume(self):
        self._act(lambda s, a, rid: requests.resume_request(s, a, rid), "requests.resumed")

    @requires(MANAGE)
    def reopen(self, form_data: dict):
        reason = str(form_data.get("reason", ""))[:400]
        self._act(lambda s, a, rid: requests.reopen_request(s, a, rid, reason), "requests.reopened")

    @requires(MANAGE)
    def assign(self, form_data: dict):
        raw = str(form_data.get("assignee", "") or "").strip()

        def run(session, actor, request_id):
            if raw and not raw.isdigit():
                raise ServiceError("request.bad_assignee", field="assignee")
            requests.assign_request(session, actor, request_id, int(raw) if raw else None)

        self._act(run, "requests.assigned")

    @requires(MANAGE)
    def add_note(self, form_data: dict):
        text = str(form_data.get("text", ""))[:4000]
        self._act(lambda s, a, rid: requests.add_request_note(s, a, rid, text), "requests.noted")
