"""The breach register pages (issue 17): the list with its countdown and the record form
(``/breaches``), one breach (``/breaches/[breach_id]``) and the countdown shown on the
compliance officer's home page (``/requests``). The services audit every change and every
read of the affected people."""

from __future__ import annotations

from dpa_panel import settings
from dpa_panel.db import session_scope
from dpa_panel.i18n import tr
from dpa_panel.i18n.dates import format_entry_date, format_entry_datetime
from dpa_panel.models.types import utcnow
from dpa_panel.models.vocab import BREACH_AUTHORITY_CHANNELS
from dpa_panel.services import audit, auth, breaches
from dpa_panel.services.errors import ServiceError
from dpa_panel.services.permissions import has_permission
from dpa_panel.state.actions import run_action
from dpa_panel.state.auth_state import AuthState
from dpa_panel.state.guard import (
    actor_for,
    current_identity,
    hard_navigate,
    requires,
    start_download,
)

READ = "breaches.read"
MANAGE = "breaches.manage"


def _countdown_rows(session, locale: str) -> list[dict[str, str]]:
    rows = []
    for c in breaches.awaiting_notification(session, utcnow()):
        key = "breach.countdown_overdue" if c.overdue else "breach.countdown"
        rows.append({
            "id": str(c.breach_id),
            "text": tr(locale, key, reference=c.reference, due=format_entry_date(c.due_date),
                       hours=abs(c.hours_left)),
            "tone": "red" if c.overdue or c.hours_left < 24 else "amber",
        })  # fmt: skip
    return rows


class BreachAlertState(AuthState):
    """The countdown on the compliance home page (references and deadlines only)."""

    countdowns: list[dict[str, str]] = []
    #: The list of personal data needs (re-)approval (issue 17 item 3).
    inventory_stale: bool = False

    @requires(READ)
    def load(self):
        from dpa_panel.services import data_inventory

        with session_scope() as session:
            self.countdowns = _countdown_rows(session, self.locale)
            self.inventory_stale = data_inventory.status(session).needs_approval


class BreachesState(AuthState):
    rows: list[dict[str, str]] = []
    countdowns: list[dict[str, str]] = []
    can_manage: bool = False
    lead: str = ""
    errors: dict[str, str] = {}
    notice: str = ""
    action_error: str = ""

    def _clear_on_denial(self):
        super()._clear_on_denial()
        self.rows, self.countdowns = [], []

    def _reload(self) -> None:
        loc = self.locale
        with session_scope() as session:
            items, _total = breaches.list_breaches(session, limit=200)
            self.rows = [
                {
                    "id": str(b.id), "reference": b.reference,
                    "detected": format_entry_datetime(b.detected_at),
                    "due": format_entry_date(b.due_date),
                    "notified": format_entry_datetime(b.authority_notified_at),
                    "status": tr(loc, f"breach.status.{b.status}"),
                    "tone": "red" if b.status == "open" else "gray",
                }
                for b in items
            ]  # fmt: skip
            self.countdowns = _countdown_rows(session, loc)
        self.lead = tr(loc, "breach.lead", days=settings.breach_notify_working_days(),
                       source=settings.BREACH_NOTIFY_SOURCE)  # fmt: skip

    @requires(READ)
    def load(self):
        self.errors, self.notice, self.action_error = {}, "", ""
        self.can_manage = has_permission(current_identity().role, MANAGE)
        self._reload()

    @requires(MANAGE)
    def record(self, form_data: dict):
        values = {k: form_data.get(k, "") for k in (
            "detected_at", "detected_by", "description", "data_categories", "subjects_estimate",
            "systems", "cause", "containment", "risk_assessment")}  # fmt: skip
        created: list[int] = []

        def work(session, actor):
            created.append(breaches.record_breach(session, actor, values).id)

        if run_action(self, work, "breach.recorded", field_errors=True):
            return hard_navigate(f"/breaches/{created[0]}")
        return None

    @requires(READ)
    def export(self, fmt: str):
        if fmt not in ("csv", "xlsx", "pdf"):
            return None
        ident = current_identity()
        with session_scope() as session:
            audit.record(session, actor_for(self), "breach.register_exported", "breach", "",
                         {"format": fmt})  # fmt: skip
            ticket = auth.download_ticket(
                session, ident, {"kind": f"breaches_{fmt}", "language": self.locale}
            )
        return start_download(f"/api/download/{ticket}")


class BreachDetailState(AuthState):
    facts: dict[str, str] = {}
    subjects: list[dict[str, str]] = []
    can_manage: bool = False
    channels: list[str] = list(BREACH_AUTHORITY_CHANNELS)
    confirm_text: str = ""
    errors: dict[str, str] = {}
    notice: str = ""
    action_error: str = ""
    _confirm: dict = {}

    def _clear_on_denial(self):
        super()._clear_on_denial()
        self.facts, self.subjects, self.confirm_text, self._confirm = {}, [], "", {}

    def _breach_id(self) -> int:
        raw = str(self.router.page.params.get("breach_id", "") or "")
        return int(raw) if raw.isdigit() else 0

    def _reload(self) -> None:
        loc = self.locale
        try:
            with session_scope() as session:
                b = breaches.get_breach(session, self._breach_id())
                people = breaches.affected(session, actor_for(self), b.id)
                cd = breaches.countdown(session, b, utcnow())
        except ServiceError as err:
            self.facts, self.subjects = {}, []
            self.action_error = tr(loc, err.key)
            return
        estimate = "" if b.subjects_estimate is None else str(b.subjects_estimate)
        countdown = "" if b.authority_notified_at or b.status != "open" else tr(
            loc, "breach.countdown_overdue" if cd.overdue else "breach.countdown",
            reference=b.reference, due=format_entry_date(b.due_date), hours=abs(cd.hours_left))
        self.facts = {
            "id": str(b.id), "reference": b.reference, "status": b.status,
            "status_label": tr(loc, f"breach.status.{b.status}"),
            "detected_at": format_entry_datetime(b.detected_at), "detected_by": b.detected_by,
            "description": b.description, "data_categories": b.data_categories,
            "subjects_estimate": estimate, "systems": b.systems, "cause": b.cause,
            "containment": b.containment, "risk_assessment": b.risk_assessment,
            "due_date": format_entry_date(b.due_date), "countdown": countdown,
            "tone": "red" if cd.overdue else "amber",
            "authority_notified_at": format_entry_datetime(b.authority_notified_at),
            "authority_channel": tr(loc, f"breach.channel.{b.authority_channel}")
            if b.authority_channel else "",
            "authority_reference": b.authority_reference,
            "closed_at": format_entry_datetime(b.closed_at), "lessons_learned": b.lessons_learned,
        }  # fmt: skip
        self.subjects = [
            {
                "id": str(p.subject_id), "name": p.name, "has_email": "1" if p.email else "",
                "notified": tr(loc, "breach.notified", at=format_entry_datetime(p.notified_at),
                               channel=tr(loc, f"breach.subject_channel.{p.notified_channel}"))
                if p.notified_at else "",
            }
            for p in people
        ]  # fmt: skip

    def _act(self, fn, notice_key: str) -> bool:
        bid = self._breach_id()
        return run_action(self, lambda s, a: fn(s, a, bid), notice_key, field_errors=True)

    @requires(READ)
    def load(self):
        self.errors, self.notice, self.action_error = {}, "", ""
        self.confirm_text, self._confirm = "", {}
        self.can_manage = has_permission(current_identity().role, MANAGE)
        self._reload()

    @requires(MANAGE)
    def record_notification(self, form_data: dict):
        self._act(
            lambda s, a, bid: breaches.record_authority_notification(
                s, a, bid, sent_at=str(form_data.get("sent_at", "")),
                channel=str(form_data.get("channel", "")),
                reference=form_data.get("reference", "")),
            "breach.authority_recorded",
        )  # fmt: skip

    @requires(MANAGE)
    def update(self, form_data: dict):
        """Change the assessment as the investigation goes on (audited with what changed)."""
        values = {k: form_data[k] for k in (
            "description", "data_categories", "subjects_estimate", "systems", "cause",
            "containment", "risk_assessment") if k in form_data}  # fmt: skip
        self._act(lambda s, a, bid: breaches.update_assessment(s, a, bid, values),
                  "breach.updated")  # fmt: skip

    @requires(MANAGE)
    def add_subject(self, form_data: dict):
        raw = str(form_data.get("subject_id", "")).strip().lstrip("#")
        self._act(
            lambda s, a, bid: breaches.add_subject(s, a, bid, int(raw) if raw.isdigit() else 0),
            "breach.subject_added",
        )

    @requires(MANAGE)
    def notify_letter(self, subject_id: str):
        sid = int(subject_id) if str(subject_id).isdigit() else 0
        self._act(lambda s, a, bid: breaches.notify_subject(s, a, bid, sid, "letter"),
                  "breach.subject_notified")  # fmt: skip

    @requires(MANAGE)
    def ask_email(self, subject_id: str):
        """Sending a letter cannot be undone: ask first, naming the person and the breach."""
        person = next((p for p in self.subjects if p["id"] == str(subject_id)), None)
        if person is None:
            self.action_error = tr(self.locale, "breach.unknown_subject")
            return
        self._confirm = {"action": "email", "subject_id": int(person["id"])}
        self.confirm_text = tr(self.locale, "breach.confirm_email", name=person["name"],
                               reference=self.facts.get("reference", ""))  # fmt: skip

    @requires(MANAGE)
    def ask_close(self, form_data: dict):
        self._confirm = {"action": "close", "lessons": str(form_data.get("lessons", ""))[:5000]}
        self.confirm_text = tr(self.locale, "breach.confirm_close",
                               reference=self.facts.get("reference", ""))  # fmt: skip

    @requires(MANAGE)
    def cancel(self):
        self.confirm_text, self._confirm = "", {}

    @requires(MANAGE)
    def confirm(self):
        pending, self._confirm, self.confirm_text = self._confirm, {}, ""
        if pending.get("action") == "email":
            sid = int(pending["subject_id"])
            self._act(lambda s, a, bid: breaches.notify_subject(s, a, bid, sid, "email"),
                      "breach.subject_notified")  # fmt: skip
        elif pending.get("action") == "close":
            lessons = pending["lessons"]
            self._act(lambda s, a, bid: breaches.close_breach(s, a, bid, lessons),
                      "breach.closed_notice")  # fmt: skip

    def _ticket(self, params: dict, action: str, entity: str, entity_id, details: dict):
        ident = current_identity()
        with session_scope() as session:
            audit.record(session, actor_for(self), action, entity, entity_id, details)
            ticket = auth.download_ticket(session, ident, params)
        return start_download(f"/api/download/{ticket}")

    @requires(READ)
    def download_notice(self, language: str):
        lang = language if language in ("kk", "ru") else "kk"
        bid = self._breach_id()
        params = {"kind": "breach_notice", "breach_id": bid, "language": lang,
                  "reference": self.facts.get("reference", "")}  # fmt: skip
        return self._ticket(params, "breach.notice_generated", "breach", bid, {"language": lang})

    @requires(MANAGE)
    def download_letter(self, subject_id: str):
        if not any(p["id"] == str(subject_id) for p in self.subjects):
            self.action_error = tr(self.locale, "breach.unknown_subject")
            return None
        bid = self._breach_id()
        params = {"kind": "breach_letter", "breach_id": bid, "subject_id": int(subject_id),
                  "reference": self.facts.get("reference", "")}  # fmt: skip
        return self._ticket(params, "breach.letter_generated", "data_subject", int(subject_id),
                            {"breach": self.facts.get("reference", "")})  # fmt: skip
