"""``/applications/[app_id]``: one application — data, consents, timeline, decisions.

Opening the page is an audited read (``services.applications.read_application``). Every
action is one transaction with its own audit event; compliance can read but not act
(``applications.write`` is checked on the server for each action, whatever the page shows).
"""

from __future__ import annotations

import reflex as rx

from dpa_panel.db import session_scope
from dpa_panel.i18n import catalog, tr
from dpa_panel.i18n.formatting import format_date, format_datetime
from dpa_panel.services import applications
from dpa_panel.services.errors import ServiceError, ValidationFailed
from dpa_panel.services.permissions import has_permission
from dpa_panel.state.actions import run_action
from dpa_panel.state.auth_state import AuthState
from dpa_panel.state.guard import actor_for, requires

READ, WRITE = "applications.read", "applications.write"
EDITABLE = (
    "surname", "first_name", "patronymic", "phone", "email", "workplace", "workplace_category",
    "position", "position_level", "education_level", "education", "experience_years",
    "experience", "other_info",
)  # fmt: skip


class ApplicationDetailState(AuthState):
    app: dict[str, str] = {}
    subject: dict[str, str] = {}
    consents: list[dict[str, str]] = []
    timeline: list[dict[str, str]] = []
    member: dict[str, str] = {}
    allowed: list[str] = []
    staff: list[dict[str, str]] = []
    not_found: bool = False
    action_error: str = ""
    notice: str = ""
    edit_errors: dict[str, str] = {}

    def _clear_on_denial(self):
        self.app, self.subject, self.consents, self.timeline, self.member = {}, {}, [], [], {}
        self.allowed = []

    @rx.var
    def can_write(self) -> bool:
        """Only shapes the page; the server checks ``applications.write`` on every action."""
        return has_permission(self.me_role, WRITE)

    def _app_id(self) -> int | None:
        raw = str(self.router.page.params.get("app_id", "") or "")
        return int(raw) if raw.isdigit() else None

    def _fill(self, detail: applications.ApplicationDetail) -> None:
        loc = self.locale
        a, s = detail.application, detail.subject
        self.app = {
            "id": str(a.id),
            "reference": a.reference,
            "status": a.status,
            "submitted": format_datetime(a.submitted_at, loc, "medium"),
            "decided": format_datetime(a.decided_at, loc, "medium"),
            "closed": format_datetime(a.closed_at, loc, "medium"),
            "reason": a.reason,
            "assignee": detail.assignee_username or "",
            "assignee_id": str(a.assignee_id or ""),
            "language": a.language,
        }
        self.subject = {
            name: "" if getattr(s, name) is None else str(getattr(s, name)) for name in EDITABLE
        }
        self.subject["id"] = str(s.id)
        self.consents = [
            {
                "purpose": c.purpose_code,
                "granted": format_datetime(c.granted_at, loc, "short"),
                "channel": c.channel,
                "version": str(c.policy_version_id),
                "language": c.language,
                "text": c.consent_text,
                "withdrawn": format_datetime(c.withdrawn_at, loc, "short"),
            }
            for c in detail.consents
        ]
        self.timeline = [timeline_entry(e, detail.usernames, loc) for e in detail.timeline]
        m = detail.member
        self.member = (
            {
                "id": str(m.id),
                "number": m.membership_number,
                "since": format_date(m.since, loc, "medium"),
                "status": m.status,
            }
            if m
            else {}
        )
        self.allowed = list(detail.allowed)

    def _reload(self) -> None:
        app_id = self._app_id()
        with session_scope() as session:
            detail = applications.read_application(session, actor_for(self), app_id or 0)
            self._fill(detail)

    def _act(self, action, *args, notice_key: str, **kwargs) -> None:
        """Run one action (one transaction), then show the fresh state of the application."""
        app_id = self._app_id() or 0
        run_action(self, lambda s, actor: action(s, actor, app_id, *args, **kwargs), notice_key)

    @requires(READ)
    def load(self):
        self.action_error = self.notice = ""
        self.edit_errors = {}
        self.not_found = False
        try:
            with session_scope() as session:
                detail = applications.read_application(
                    session, actor_for(self), self._app_id() or 0
                )
                self._fill(detail)
                self.staff = [
                    {"value": str(uid), "label": name}
                    for uid, name in applications.staff_choices(session)
                ]
        except ServiceError:
            self._clear_on_denial()
            self.not_found = True

    @requires(WRITE)
    def change_status(self, form_data: dict):
        to_status = str(form_data.get("to_status", ""))
        reason = str(form_data.get("reason", ""))[:2000]
        self._act(
            applications.change_status, to_status, reason=reason, notice_key="detail.status_changed"
        )

    @requires(WRITE)
    def assign(self, form_data: dict):
        raw = str(form_data.get("assignee", ""))
        self._act(
            applications.assign, int(raw) if raw.isdigit() else None, notice_key="detail.assigned"
        )

    @requires(WRITE)
    def add_note(self, form_data: dict):
        self._act(
            applications.add_note,
            str(form_data.get("note", ""))[:2000],
            notice_key="detail.note_added",
        )

    @requires(WRITE)
    def save_edits(self, form_data: dict):
        """Rectify the applicant's data; the audit records which fields changed, not values."""
        self.action_error = self.notice = ""
        self.edit_errors = {}
        # As sent: a non-text value is refused per field (``field.not_text``), not stored.
        changes = {name: form_data[name] for name in EDITABLE if name in form_data}
        subject_id = int(self.subject.get("id", "0") or 0)
        try:
            with session_scope() as session:
                changed = applications.update_subject(
                    session, actor_for(self), subject_id, changes, application_id=self._app_id()
                )
        except ValidationFailed as failed:
            self.edit_errors = {f: tr(self.locale, k) for f, k in failed.errors.items()}
            self.action_error = tr(self.locale, "form.has_errors")
            return
        except ServiceError as err:
            self.action_error = tr(self.locale, err.key)
            return
        self.notice = tr(self.locale, "detail.saved" if changed else "detail.nothing_changed")
        self._reload()


def timeline_entry(event, usernames: dict[int, str], locale: str) -> dict[str, str]:
    """One history entry as "when · who · what" (labels, never the ``kind`` code): an
    assignment names the assignee, an edit the corrected fields by their labels."""
    labels = catalog(locale)
    if event.actor_id:
        who = usernames.get(event.actor_id) or labels["audit.actor_former"]
    elif event.kind == "submitted":
        who = labels["application_event.by_applicant"]
    else:
        who = labels["application_event.by_system"]
    text = event.text or ""
    if event.kind == "assigned":
        text = (
            tr(locale, "application_event.assigned_to", name=text)
            if text
            else labels["application_event.unassigned"]
        )
    elif event.kind == "edited" and text:
        names = [n.strip() for n in text.split(",") if n.strip()]
        fields = ", ".join(labels.get(f"subject.{n}", n.replace("_", " ")) for n in names)
        text = tr(locale, "application_event.edited_fields", fields=fields)
    return {
        "when": format_datetime(event.occurred_at, locale, "short"),
        "who": who,
        "kind": event.kind,
        "what": labels.get(f"application_event.{event.kind}", labels["audit.unknown_action"]),
        "from": event.from_status or "",
        "to": event.to_status or "",
        "text": text,
    }
