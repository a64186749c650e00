"""``/subjects/[subject_id]``: one data subject as compliance sees it — consent history,
recording consents and withdrawals, blocking, destruction hand-over, the data report."""

from __future__ import annotations

from datetime import UTC, date, datetime

from dpa_panel.db import session_scope
from dpa_panel.i18n import normalise_locale, tr
from dpa_panel.i18n.dates import format_entry_date
from dpa_panel.i18n.formatting import format_datetime, to_local
from dpa_panel.models import DataSubject
from dpa_panel.services import auth, consent, disclosures, requests, retention
from dpa_panel.services.errors import ServiceError
from dpa_panel.state.actions import run_action
from dpa_panel.state.auth_state import AuthState
from dpa_panel.state.guard import current_identity, requires, start_download

MANAGE = "requests.manage"
SENTENCE_PURPOSES = ("application_review", "member_register", "informing", "feedback")


def _sentence(language: str, purpose: str) -> str:
    """The consent sentence of the edition's catalog, as on the public form."""
    return tr(language, f"consent.sentence.{purpose}") if purpose in SENTENCE_PURPOSES else ""


class SubjectState(AuthState):
    subject: dict[str, str] = {}
    states: dict[str, str] = {}
    history: list[dict[str, str]] = []
    requests: list[dict[str, str]] = []
    countdown: dict[str, str] = {}
    holds: list[dict[str, str]] = []
    disclosures: list[dict[str, str]] = []
    not_found: bool = False
    action_error: str = ""
    notice: str = ""

    def _clear_on_denial(self):
        self.subject, self.states, self.history, self.requests = {}, {}, [], []
        self.countdown, self.holds, self.disclosures = {}, [], []

    def _subject_id(self) -> int:
        raw = str(self.router.page.params.get("subject_id", "") or "")
        return int(raw) if raw.isdigit() else 0

    def _reload(self) -> None:
        loc = self.locale
        sid = self._subject_id()
        with session_scope() as session:
            s = session.get(DataSubject, sid)
            if s is None or s.status == "destroyed":
                raise ServiceError("subject.not_found")
            self.subject = {
                "id": str(s.id),
                "name": " ".join(p for p in (s.surname, s.first_name, s.patronymic) if p),
                "email": s.email,
                "phone": s.phone,
                "status": s.status,
                "language": s.language,
                "blocked_reason": s.blocked_reason or "",
                "destruction_due": format_datetime(s.destruction_due_at, loc, "medium"),
            }
            self.states = dict(consent.current_states(session, sid))
            self.history = [
                {
                    "purpose": h.consent.purpose_code,
                    "granted": format_datetime(h.consent.granted_at, loc, "short"),
                    "channel": h.consent.channel,
                    "version": h.policy_label,
                    "language": h.consent.language,
                    "evidence": h.consent.evidence_ref or "",
                    "withdrawn": format_datetime(h.consent.withdrawn_at, loc, "short"),
                    "ground": h.consent.withdrawal_retained_ground or "",
                }
                for h in consent.consent_history(session, sid)
            ]
            due = retention.destruction_date(session, sid)
            self.countdown = (
                {
                    "due": format_datetime(due.due_at, loc, "medium"),
                    "purpose": due.purpose or "",
                    "event": due.event or "",
                    "held": "1" if due.held else "",
                }
                if due
                else {}
            )
            self.holds = [
                {
                    "id": str(h.id),
                    "reason": h.reason,
                    "placed": format_datetime(h.placed_at, loc, "short"),
                    "ends": h.ends_on.isoformat() if h.ends_on else "",
                }
                for h in retention.active_holds(session, sid)
            ]
            self.requests = [
                {
                    "id": str(r.id),
                    "reference": r.reference,
                    "kind": r.kind,
                    "status": r.status,
                    "received": format_entry_date(to_local(r.received_at).date()),
                    "due": format_entry_date(r.due_date),
                }
                for r in requests.requests_about(session, sid)
            ]
            # Every disclosure about the subject (clause 5; answers access requests).
            self.disclosures = [
                {
                    "id": str(d["id"]),
                    "reference": str(d["reference"]),
                    "kind": str(d["kind"]),
                    "status": str(d["status"]),
                    "body": str(d["body_name"]),
                    "fields": ", ".join(tr(loc, f"subject.{f}") for f in d.get("fields", ())),
                    "disclosed": format_datetime(d.get("disclosed_at"), loc, "short"),
                }
                for d in disclosures.subject_disclosures(session, sid)
            ]

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
        """Run one action in one transaction; show its error, or a notice and fresh data."""
        subject_id = self._subject_id()
        run_action(self, lambda s, actor: fn(s, actor, subject_id), notice_key)

    @requires(MANAGE)
    def record_consent(self, form_data: dict):
        purpose = str(form_data.get("purpose", ""))
        language = normalise_locale(str(form_data.get("language", "")))
        received = str(form_data.get("evidence_received", "") or "").strip()
        try:
            received_at = (
                datetime.combine(date.fromisoformat(received), datetime.min.time(), tzinfo=UTC)
                if received
                else None
            )
        except ValueError:
            self.action_error = tr(self.locale, "audit.bad_date")
            return

        def run(session, actor, subject_id):
            if purpose == disclosures.TRANSFER_PURPOSE:  # clause 5.1: written, names recipient
                disclosures.record_transfer_consent(
                    session, actor, subject_id, str(form_data.get("recipient", ""))[:300],
                    channel=str(form_data.get("channel", "")),
                    evidence_ref=str(form_data.get("evidence_ref", ""))[:200],
                    evidence_received_at=received_at,
                    language=language,
                    evidence_text=str(form_data.get("evidence_text", ""))[:2000],
                )  # fmt: skip
                return
            consent.record_consent(
                session, actor, subject_id, purpose,
                channel=str(form_data.get("channel", "")),
                language=language,
                text=_sentence(language, purpose),
                evidence_ref=str(form_data.get("evidence_ref", ""))[:200],
                evidence_received_at=received_at,
                evidence_text=str(form_data.get("evidence_text", ""))[:2000],
            )  # fmt: skip

        self._act(run, "subject.consent_recorded")

    @requires(MANAGE)
    def withdraw(self, form_data: dict):
        def run(session, actor, subject_id):
            consent.withdraw(
                session, actor, subject_id, str(form_data.get("purpose", "")),
                channel=str(form_data.get("channel", "")),
                evidence=str(form_data.get("evidence", ""))[:2000],
                retained_ground=str(form_data.get("retained_ground", ""))[:2000],
            )  # fmt: skip

        self._act(run, "subject.withdrawal_recorded")

    @requires(MANAGE)
    def block(self, form_data: dict):
        reason = str(form_data.get("reason", ""))[:2000]
        self._act(
            lambda s, a, sid: requests.block_subject(s, a, sid, reason), "subject.blocked_notice"
        )

    @requires(MANAGE)
    def unblock(self, form_data: dict):
        reason = str(form_data.get("reason", ""))[:2000]
        self._act(
            lambda s, a, sid: requests.unblock_subject(s, a, sid, reason),
            "subject.unblocked_notice",
        )

    @requires(MANAGE)
    def schedule_destruction(self, form_data: dict):
        reason = str(form_data.get("reason", ""))[:2000]
        self._act(
            lambda s, a, sid: requests.schedule_destruction(s, a, sid, reason),
            "subject.destruction_scheduled",
        )

    @requires("retention.manage")
    def place_hold(self, form_data: dict):
        reason = str(form_data.get("reason", ""))[:2000]
        self._act(
            lambda s, a, sid: retention.place_hold(s, a, sid, reason), "retention.hold_placed"
        )

    @requires("retention.manage")
    def lift_hold(self, form_data: dict):
        raw = str(form_data.get("hold_id", ""))
        reason = str(form_data.get("reason", ""))[:2000]
        self._act(
            lambda s, a, _sid: retention.lift_hold(s, a, int(raw) if raw.isdigit() else 0, reason),
            "retention.hold_lifted",
        )

    @requires(MANAGE)
    def download_report(self, fmt: str):
        """JSON or PDF data report; generating it is audited by the service."""
        ident = current_identity()
        kind = "subject_report_pdf" if fmt == "pdf" else "subject_report_json"
        params = {
            "kind": kind,
            "subject_id": self._subject_id(),
            "language": self.subject.get("language", "kk"),
        }
        with session_scope() as session:
            ticket = auth.download_ticket(session, ident, params)
        return start_download(f"/api/download/{ticket}")
