"""``/requests`` and ``/requests/[request_id]``: data-subject requests (clause 6) with their
statutory deadlines in Kazakh working days."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import reflex as rx

from dpa_panel.db import session_scope
from dpa_panel.i18n import tr
from dpa_panel.i18n.formatting import format_date, format_datetime, to_local
from dpa_panel.models.types import utcnow
from dpa_panel.models.vocab import REQUEST_KINDS
from dpa_panel.services import consent, requests
from dpa_panel.services.errors import ServiceError
from dpa_panel.state.actions import run_action
from dpa_panel.state.auth_state import AuthState
from dpa_panel.state.guard import actor_for, requires

MANAGE = "requests.manage"


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


class RequestsState(AuthState):
    rows: list[dict[str, str]] = []
    counts: dict[str, str] = {}
    form_error: str = ""
    notice: str = ""

    def _clear_on_denial(self):
        self.rows, self.counts = [], {}

    def _reload(self) -> None:
        today = _today()
        with session_scope() as session:
            open_rows = requests.open_requests(session, today=today)
            counts = requests.request_counts(session, today=today)
        share = counts.get("answered_on_time_share")
        self.counts = {
            "open": str(counts.get("open", 0)),
            "overdue": str(counts.get("overdue", 0)),
            "due_today": str(counts.get("due_today", 0)),
            "answered_on_time": "—" if share is None else f"{share:.0%}",
        }
        self.rows = [
            {
                "id": str(r.id),
                "reference": r.reference,
                "kind": r.kind,
                "status": r.status,
                "requester": r.requester,
                "due": format_date(r.due_date, self.locale, "medium"),
                "days_left": str(r.days_left),
                "overdue": "1" if r.overdue else "",
                "tone": "red" if r.overdue else ("amber" if r.days_left <= 1 else "green"),
            }
            for r in open_rows
        ]

    @requires(MANAGE)
    def load(self):
        self.form_error = self.notice = ""
        self._reload()

    @requires(MANAGE)
    def create(self, form_data: dict):
        self.form_error = self.notice = ""
        kind = str(form_data.get("kind", ""))
        try:
            day = date.fromisoformat(str(form_data.get("received_on", "")).strip())
        except ValueError:
            self.form_error = tr(self.locale, "audit.bad_date")
            return
        received_at = (
            datetime.combine(day, time(12, 0), tzinfo=UTC) if day != _today() else utcnow()
        )
        try:
            with session_scope() as session:
                subject_key = str(form_data.get("subject", "") or "")
                subject_id = _find_subject(session, subject_key) if subject_key else None
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
        except ServiceError as err:
            self.form_error = tr(self.locale, err.key)
            return
        return rx.redirect(f"/requests/{created_id}")


class RequestDetailState(AuthState):
    request: dict[str, str] = {}
    allowed: list[str] = []
    not_found: bool = False
    action_error: str = ""
    notice: str = ""

    def _clear_on_denial(self):
        self.request, self.allowed = {}, []

    def _request_id(self) -> int:
        raw = str(self.router.page.params.get("request_id", "") or "")
        return int(raw) if raw.isdigit() else 0

    def _reload(self) -> None:
        loc = self.locale
        with session_scope() as session:
            r = requests.get_request(session, actor_for(self), self._request_id())
            days_left = requests.working_days_left(session, r.due_date, _today())
        self.request = {
            "id": str(r.id),
            "reference": r.reference,
            "kind": r.kind,
            "status": r.status,
            "channel": r.channel,
            "requester": r.requester,
            "contact": r.contact,
            "details": r.details,
            "received": format_datetime(r.received_at, loc, "medium"),
            "due": format_date(r.due_date, loc, "long"),
            "days_left": str(days_left),
            "subject_id": str(r.subject_id or ""),
            "verified": format_datetime(r.identity_verified_at, loc, "medium"),
            "method": r.identity_method,
            "answer": r.answer,
            "refusal_reason": r.refusal_reason,
            "answered": format_datetime(r.answered_at, loc, "medium"),
        }
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
                refusal_reason=text if to_status == "refused" else "",
            )  # fmt: skip

        self._act(run, "detail.status_changed")
