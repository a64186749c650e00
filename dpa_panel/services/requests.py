"""Data-subject requests (policy clause 6): intake, identity, deadlines, answers, and the
actions that fulfil them — the subject report (access), blocking, scheduling destruction.

Deadlines: ``request_deadline`` says how many working days each kind gets and whether they
count from receipt or from identity verification (seeded by migration 0004 from secondary
readings of Law 94-V; see docs/compliance-matrix.md). Days are Asia/Almaty calendar days and
working days come from ``services.calendar``. A request counted from identity verification
gets a provisional due date from its receipt, recomputed when the identity is verified.

State machine: received → identity_check → in_progress → answered | refused; received and
identity_check may also go to refused. ``in_progress`` is reached only by ``verify_identity``.

Like every service: the caller's session and transaction, audit events with codes only (the
requester's name, the details, notes and answers are personal data and stay on the row).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, inspect, select
from sqlmodel import Session

from dpa_panel.i18n import normalise_locale, tr
from dpa_panel.models import (
    ApplicationEvent,
    Consent,
    DataSubject,
    Member,
    MembershipApplication,
    PolicyVersion,
    RequestDeadline,
    StaffUser,
    SubjectRequest,
)
from dpa_panel.models.types import utcnow
from dpa_panel.models.vocab import (
    OPEN_REQUEST_STATUSES,
    PURPOSES,
    REQUEST_CHANNELS,
    REQUEST_KINDS,
)
from dpa_panel.services import audit, calendar
from dpa_panel.services.applications import local_date
from dpa_panel.services.audit import Actor
from dpa_panel.services.errors import ServiceError, ValidationFailed
from dpa_panel.services.validation import clean_text

ENTITY = "subject_request"
TEXT_MAX = 2000

REQUEST_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "received": ("identity_check", "in_progress", "refused"),
    "identity_check": ("in_progress", "refused"),
    "in_progress": ("answered", "refused"),
    "answered": (),
    "refused": (),
}
CLOSED_REQUEST_STATUSES = ("answered", "refused")
#: Roles whose active accounts can be given requests.
REQUEST_ASSIGNABLE_ROLES = ("staff", "admin", "compliance")
COUNTED_FROM = ("received", "identity_verified")

#: The Unicode font of the PDF report (Debian package ``fonts-dejavu-core``).
FONT_PATH = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
FONT_PACKAGE = "fonts-dejavu-core"


def allowed_request_transitions(status: str) -> tuple[str, ...]:
    return REQUEST_TRANSITIONS.get(status, ())


# --- deadlines -------------------------------------------------------------------------------


def list_deadlines(session: Session) -> list[RequestDeadline]:
    return list(session.scalars(select(RequestDeadline).order_by(RequestDeadline.kind)))


def set_deadline(
    session: Session,
    actor: Actor,
    kind: str,
    *,
    working_days: int,
    counted_from: str,
    source: str,
) -> RequestDeadline:
    """Change a request kind's period (requests already received keep their due date)."""
    if kind not in REQUEST_KINDS:
        raise ServiceError("request.bad_kind", field="kind")
    if not isinstance(working_days, int) or not 0 <= working_days <= 60:
        raise ServiceError("request.bad_deadline", field="working_days")
    if counted_from not in COUNTED_FROM:
        raise ServiceError("request.bad_deadline", field="counted_from")
    source_value, error = clean_text(source, 300, required=True)
    if error:
        raise ServiceError(error, field="source")
    audit.lock_writers(session)
    row = session.get(RequestDeadline, kind, populate_existing=True)
    before = None
    if row is None:
        row = RequestDeadline(kind=kind, working_days=working_days)
    else:
        before = row.working_days
    row.working_days = working_days
    row.counted_from = counted_from
    row.source = source_value
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "request.deadline_changed",
        "request_deadline",
        kind,
        {"from": before, "to": working_days, "counted_from": counted_from},
    )
    return row


def compute_due_date(session: Session, kind: str, moment: datetime) -> date:
    """The due date of a ``kind`` request counted from ``moment`` (receipt or verification):
    the Almaty calendar day of ``moment`` plus the kind's working days."""
    deadline = session.get(RequestDeadline, kind)
    if deadline is None:
        raise ServiceError("request.no_deadline", field="kind")
    start = local_date(moment)
    years = range(start.year, start.year + 2 + deadline.working_days // 200)
    return calendar.add_working_days(
        start, deadline.working_days, calendar.holidays(session, years)
    )


# --- intake and lifecycle --------------------------------------------------------------------


def _load(session: Session, request_id: int) -> SubjectRequest:
    request = session.get(SubjectRequest, request_id, populate_existing=True)
    if request is None:
        raise ServiceError("request.not_found")
    return request


def get_request(session: Session, actor: Actor, request_id: int) -> SubjectRequest:
    """One request for its detail page; reading it (it names a person) is audited."""
    request = _load(session, request_id)
    audit.record(session, actor, "request.read", "subject_request", request.id)
    return request


def working_days_left(session: Session, due: date, today: date) -> int:
    """Working days from ``today`` to ``due``: 0 on the due day, negative when overdue."""
    years = range(min(due, today).year, max(due, today).year + 1)
    return calendar.working_days_between(today, due, calendar.holidays(session, years))


def create_request(
    session: Session,
    actor: Actor,
    *,
    kind: str,
    received_at: datetime,
    channel: str,
    requester: str,
    contact: str,
    details: str = "",
    subject_id: int | None = None,
    purpose_code: str | None = None,
    now: datetime | None = None,
) -> SubjectRequest:
    """Register a request as received; reference ``R-<year>-<6 digits>``, status ``received``,
    due date from ``received_at`` (provisional for kinds counted from identity verification).
    """
    now = now or utcnow()
    errors: dict[str, str] = {}
    if kind not in REQUEST_KINDS:
        errors["kind"] = "request.bad_kind"
    if channel not in REQUEST_CHANNELS:
        errors["channel"] = "request.bad_channel"
    requester_value, error = clean_text(requester, 300, required=True)
    if error:
        errors["requester"] = error
    contact_value, error = clean_text(contact, 300, required=True)
    if error:
        errors["contact"] = error
    details_value, error = clean_text(details, TEXT_MAX, required=False, multiline=True)
    if error:
        errors["details"] = error
    if received_at is None:
        errors["received_at"] = "field.required"
    elif received_at > now:
        errors["received_at"] = "request.received_in_future"
    if purpose_code is not None and purpose_code not in PURPOSES:
        errors["purpose_code"] = "request.bad_purpose"
    if errors:
        raise ValidationFailed(errors)
    audit.lock_writers(session)
    if subject_id is not None and session.get(DataSubject, subject_id) is None:
        raise ServiceError("subject.not_found", field="subject_id")
    request = SubjectRequest(
        reference=f"pending-{uuid.uuid4().hex[:12]}",
        kind=kind,
        subject_id=subject_id,
        requester=requester_value,
        contact=contact_value,
        received_at=received_at,
        channel=channel,
        purpose_code=purpose_code,
        due_date=compute_due_date(session, kind, received_at),
        status="received",
        details=details_value,
        created_by_id=actor.user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(request)
    session.flush()
    request.reference = f"R-{local_date(now).year}-{request.id:06d}"
    session.add(request)
    session.flush()
    audit.record(
        session,
        actor,
        "request.created",
        ENTITY,
        request.id,
        {"kind": kind, "channel": channel, "subject_id": subject_id},
    )
    return request


def verify_identity(
    session: Session,
    actor: Actor,
    request_id: int,
    *,
    subject_id: int,
    method: str,
    now: datetime | None = None,
) -> SubjectRequest:
    """Record that the requester is the subject (who, when, how) and link the subject;
    status → ``in_progress``. Kinds counted from identity verification get their due date
    recomputed from this moment."""
    now = now or utcnow()
    method_value, error = clean_text(method, 300, required=True)
    if error:
        raise ServiceError(error, field="method")
    audit.lock_writers(session)
    request = _load(session, request_id)
    if "in_progress" not in allowed_request_transitions(request.status):
        raise ServiceError("request.illegal_transition")
    subject = session.get(DataSubject, subject_id)
    if subject is None or subject.status == "destroyed":
        raise ServiceError("subject.not_found", field="subject_id")
    from_status = request.status
    request.subject_id = subject_id
    request.identity_verified_at = now
    request.identity_verified_by_id = actor.user_id
    request.identity_method = method_value
    request.status = "in_progress"
    deadline = session.get(RequestDeadline, request.kind)
    recomputed = deadline is not None and deadline.counted_from == "identity_verified"
    if recomputed:
        request.due_date = compute_due_date(session, request.kind, now)
    request.updated_at = now
    session.add(request)
    session.flush()
    audit.record(
        session,
        actor,
        "request.identity_verified",
        ENTITY,
        request.id,
        {
            "subject_id": subject_id,
            "from": from_status,
            "to": "in_progress",
            "due_recomputed": recomputed,
        },
    )
    return request


def change_request_status(
    session: Session,
    actor: Actor,
    request_id: int,
    to_status: str,
    *,
    answer: str = "",
    refusal_reason: str = "",
    now: datetime | None = None,
) -> SubjectRequest:
    """Move a request along ``REQUEST_TRANSITIONS``. ``answered`` needs the answer text
    (``request.answer_required``), ``refused`` the reason (``request.reason_required``);
    both record ``answered_at`` (when the request was closed). ``in_progress`` is reached
    through ``verify_identity`` (``request.verify_identity_first``)."""
    now = now or utcnow()
    answer_value, error = clean_text(answer, TEXT_MAX * 5, required=False, multiline=True)
    if error:
        raise ServiceError(error, field="answer")
    reason_value, error = clean_text(refusal_reason, TEXT_MAX, required=False, multiline=True)
    if error:
        raise ServiceError(error, field="refusal_reason")
    if to_status == "answered" and not answer_value:
        raise ServiceError("request.answer_required", field="answer")
    if to_status == "refused" and not reason_value:
        raise ServiceError("request.reason_required", field="refusal_reason")
    audit.lock_writers(session)
    request = _load(session, request_id)
    from_status = request.status
    if to_status not in allowed_request_transitions(from_status):
        raise ServiceError("request.illegal_transition")
    if to_status == "in_progress" and request.identity_verified_at is None:
        raise ServiceError("request.verify_identity_first")
    request.status = to_status
    if to_status == "answered":
        request.answer = answer_value
    if to_status == "refused":
        request.refusal_reason = reason_value
    if to_status in CLOSED_REQUEST_STATUSES:
        request.answered_at = now
    request.updated_at = now
    session.add(request)
    session.flush()
    audit.record(
        session,
        actor,
        "request.status_changed",
        ENTITY,
        request.id,
        {"from": from_status, "to": to_status},
    )
    return request


def assign_request(
    session: Session, actor: Actor, request_id: int, assignee_id: int | None
) -> SubjectRequest:
    """Give the request to an active staff, compliance or admin account (``None`` = nobody)."""
    audit.lock_writers(session)
    request = _load(session, request_id)
    if assignee_id is not None:
        assignee = session.get(StaffUser, assignee_id)
        if (
            assignee is None
            or not assignee.is_active
            or assignee.role not in REQUEST_ASSIGNABLE_ROLES
        ):
            raise ServiceError("request.bad_assignee", field="assignee")
    previous = request.assignee_id
    if previous == assignee_id:
        return request
    request.assignee_id = assignee_id
    request.updated_at = utcnow()
    session.add(request)
    session.flush()
    audit.record(
        session,
        actor,
        "request.assigned",
        ENTITY,
        request.id,
        {"from": previous, "to": assignee_id},
    )
    return request


def add_request_note(
    session: Session, actor: Actor, request_id: int, text: str, *, now: datetime | None = None
) -> SubjectRequest:
    """Append a dated note to the request's ``notes`` (free text: stays on the row)."""
    now = now or utcnow()
    value, error = clean_text(text, TEXT_MAX, required=True, multiline=True)
    if error:
        raise ServiceError(error, field="text")
    audit.lock_writers(session)
    request = _load(session, request_id)
    username = ""
    if actor.user_id is not None:
        username = session.scalar(select(StaffUser.username).where(StaffUser.id == actor.user_id))
    stamp = now.strftime("%Y-%m-%d %H:%M UTC")
    entry = f"[{stamp}{' ' + username if username else ''}] {value}"
    request.notes = f"{request.notes}\n{entry}" if request.notes else entry
    request.updated_at = now
    session.add(request)
    session.flush()
    audit.record(session, actor, "request.note_added", ENTITY, request.id, {})
    return request


# --- lists -----------------------------------------------------------------------------------


@dataclass
class RequestRow:
    id: int
    reference: str
    kind: str
    status: str
    requester: str
    subject_id: int | None
    received_at: datetime
    due_date: date
    #: Working days from today to the due date: 0 on the due day, negative when overdue.
    days_left: int
    overdue: bool
    assignee_id: int | None
    assignee_username: str | None


def open_requests(session: Session, *, today: date) -> list[RequestRow]:
    """Every open request (received, identity check, in progress), soonest due first."""
    stmt = (
        select(SubjectRequest, StaffUser.username)
        .outerjoin(StaffUser, StaffUser.id == SubjectRequest.assignee_id)
        .where(SubjectRequest.status.in_(OPEN_REQUEST_STATUSES))
        .order_by(SubjectRequest.due_date, SubjectRequest.id)
    )
    found = session.execute(stmt).all()
    years: set[int] = {today.year}
    for request, _ in found:
        years.update(
            range(
                min(today.year, request.due_date.year), max(today.year, request.due_date.year) + 1
            )
        )
    hol = calendar.holidays(session, years)
    return [
        RequestRow(
            id=r.id,
            reference=r.reference,
            kind=r.kind,
            status=r.status,
            requester=r.requester,
            subject_id=r.subject_id,
            received_at=r.received_at,
            due_date=r.due_date,
            days_left=calendar.working_days_between(today, r.due_date, hol),
            overdue=today > r.due_date,
            assignee_id=r.assignee_id,
            assignee_username=username,
        )
        for r, username in found
    ]


def request_counts(session: Session, today: date) -> dict[str, Any]:
    """``open``, ``overdue``, ``due_today`` (open requests), ``closed``, ``closed_on_time``
    (answered or refused on or before the due date, Almaty day) and ``answered_on_time_share``
    (closed_on_time / closed, ``None`` when nothing was closed yet)."""
    SR = SubjectRequest
    open_cond = SR.status.in_(OPEN_REQUEST_STATUSES)
    open_n = session.scalar(select(func.count()).select_from(SR).where(open_cond))
    overdue = session.scalar(
        select(func.count()).select_from(SR).where(open_cond, SR.due_date < today)
    )
    due_today = session.scalar(
        select(func.count()).select_from(SR).where(open_cond, SR.due_date == today)
    )
    closed = on_time = 0
    # The Almaty day of each closing moment is computed in Python (portable across engines);
    # requests number in the hundreds a year.
    for answered_at, due in session.execute(
        select(SR.answered_at, SR.due_date).where(
            SR.status.in_(CLOSED_REQUEST_STATUSES), SR.answered_at.is_not(None)
        )
    ):
        closed += 1
        if local_date(answered_at) <= due:
            on_time += 1
    return {
        "open": open_n,
        "overdue": overdue,
        "due_today": due_today,
        "closed": closed,
        "closed_on_time": on_time,
        "answered_on_time_share": (on_time / closed) if closed else None,
    }


def requests_about(session: Session, subject_id: int) -> list[SubjectRequest]:
    return list(
        session.scalars(
            select(SubjectRequest)
            .where(SubjectRequest.subject_id == subject_id)
            .order_by(SubjectRequest.received_at.desc(), SubjectRequest.id.desc())
        )
    )


# --- actions: blocking, destruction ----------------------------------------------------------


def _reason(reason: str) -> str:
    value, error = clean_text(reason, TEXT_MAX, required=True, multiline=True)
    if error:
        raise ServiceError("subject.reason_required" if error == "field.required" else error,
                           field="reason")  # fmt: skip
    return value


def _note_on_request(
    session: Session, actor: Actor, request_id: int | None, text: str, now: datetime
) -> None:
    if request_id is not None:
        add_request_note(session, actor, request_id, text, now=now)


def _recompute(session: Session, subject_id: int) -> None:
    from dpa_panel.services import retention

    retention.recompute_retention(session, [subject_id])


def _change_block(
    session: Session,
    actor: Actor,
    subject_id: int,
    reason: str,
    *,
    block: bool,
    request_id: int | None,
    now: datetime | None,
) -> DataSubject:
    """Block (``active`` -> ``blocked``) or lift a block (``blocked`` -> ``active``), with the
    required reason noted on ``request_id``; one audited change, decision recomputed."""
    now = now or utcnow()
    value = _reason(reason)
    audit.lock_writers(session)
    subject = session.get(DataSubject, subject_id, populate_existing=True)
    if subject is None:
        raise ServiceError("subject.not_found")
    if subject.status != ("active" if block else "blocked"):
        raise ServiceError("subject.not_active" if block else "subject.not_blocked")
    subject.status = "blocked" if block else "active"
    subject.blocked_at = now if block else None
    subject.blocked_reason = value if block else ""
    subject.updated_at = now
    session.add(subject)
    session.flush()
    _recompute(session, subject.id)
    _note_on_request(session, actor, request_id, value, now)
    action = "subject.blocked" if block else "subject.unblocked"
    audit.record(session, actor, action, "data_subject", subject.id, {"request_id": request_id})
    return subject


def block_subject(
    session: Session,
    actor: Actor,
    subject_id: int,
    reason: str,
    *,
    request_id: int | None = None,
    now: datetime | None = None,
) -> DataSubject:
    """Block the subject's data: status ``blocked``, ``blocked_at``, ``blocked_reason``.
    Blocked subjects vanish from staff lists and every processing service refuses them."""
    return _change_block(
        session, actor, subject_id, reason, block=True, request_id=request_id, now=now
    )


def unblock_subject(
    session: Session,
    actor: Actor,
    subject_id: int,
    reason: str,
    *,
    request_id: int | None = None,
    now: datetime | None = None,
) -> DataSubject:
    """Lift a block: status ``active``; ``blocked_at``/``blocked_reason`` are cleared (the
    audit trail keeps when it was blocked and lifted). The reason is required; with
    ``request_id`` it is noted on that request."""
    return _change_block(
        session, actor, subject_id, reason, block=False, request_id=request_id, now=now
    )


def schedule_destruction(
    session: Session,
    actor: Actor,
    subject_id: int,
    reason: str,
    *,
    request_id: int | None = None,
    now: datetime | None = None,
) -> DataSubject:
    """Hand the subject to the retention sweep: ``destruction_due_at = now`` (an earlier due
    moment is kept). The reason is required; with ``request_id`` it is noted there."""
    now = now or utcnow()
    value = _reason(reason)
    audit.lock_writers(session)
    subject = session.get(DataSubject, subject_id, populate_existing=True)
    if subject is None or subject.status == "destroyed":
        raise ServiceError("subject.not_found")
    if subject.destruction_due_at is None or subject.destruction_due_at > now:
        subject.destruction_due_at = now
    subject.updated_at = now
    session.add(subject)
    session.flush()
    _recompute(session, subject.id)
    _note_on_request(session, actor, request_id, value, now)
    audit.record(
        session,
        actor,
        "subject.destruction_scheduled",
        "data_subject",
        subject.id,
        {"request_id": request_id},
    )
    return subject


# --- the subject report (right of access) ----------------------------------------------------

#: Subject columns never put in a report: internal copies, not data about the person.
REPORT_EXCLUDED_SUBJECT_COLUMNS = ("search_text",)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _derived_key(name: str) -> bool:
    """The statistics' stored month keys and day counts (``models.types.keep_derived_keys``):
    copies of dates the report already shows, so they are left out."""
    return name.endswith("_month") or name == "decision_days"


def _row_dict(obj, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    columns = inspect(type(obj)).columns
    return {
        c.key: _jsonable(getattr(obj, c.key))
        for c in columns
        if c.key not in exclude and not _derived_key(c.key)
    }


def subject_report(session: Session, actor: Actor, subject_id: int) -> dict[str, Any]:
    """Everything stored about the subject, for an access request (one audited read).

    Sections: ``subject`` (every column but the search copy), ``consents`` (every row, with
    its policy label), ``policies`` (the editions those consents point at, with their texts),
    ``applications`` (each with its ``events`` timeline), ``member``, ``requests`` (about the
    subject), ``disclosures`` (clause 5: to whom, which fields, the package digest) and
    ``retention`` (status, block, ``destruction_due_at``, purpose end dates).
    """
    subject = session.get(DataSubject, subject_id)
    if subject is None:
        raise ServiceError("subject.not_found")
    consents = list(
        session.scalars(
            select(Consent)
            .where(Consent.subject_id == subject_id)
            .order_by(Consent.granted_at, Consent.id)
        )
    )
    version_ids = sorted({c.policy_version_id for c in consents})
    versions = {
        v.id: v
        for v in session.scalars(select(PolicyVersion).where(PolicyVersion.id.in_(version_ids)))
    }
    apps = list(
        session.scalars(
            select(MembershipApplication)
            .where(MembershipApplication.subject_id == subject_id)
            .order_by(MembershipApplication.submitted_at, MembershipApplication.id)
        )
    )
    events: dict[int, list[ApplicationEvent]] = {a.id: [] for a in apps}
    if apps:
        for event in session.scalars(
            select(ApplicationEvent)
            .where(ApplicationEvent.application_id.in_(list(events)))
            .order_by(ApplicationEvent.id)
        ):
            events[event.application_id].append(event)
    member = session.scalars(select(Member).where(Member.subject_id == subject_id)).first()
    about = requests_about(session, subject_id)
    from dpa_panel.services import disclosures

    report: dict[str, Any] = {
        "generated_at": utcnow().isoformat(),
        "language": subject.language,
        "subject": _row_dict(subject, REPORT_EXCLUDED_SUBJECT_COLUMNS),
        "consents": [
            {**_row_dict(c), "policy_label": versions[c.policy_version_id].label} for c in consents
        ],
        "policies": [
            {
                "id": v.id,
                "label": v.label,
                "effective_date": v.effective_date.isoformat(),
                "sha256": v.sha256,
                "text": getattr(v, f"text_{normalise_locale(subject.language)}"),
            }
            for v in (versions[i] for i in version_ids)
        ],
        "applications": [
            {**_row_dict(a), "events": [_row_dict(e) for e in events[a.id]]} for a in apps
        ],
        "member": _row_dict(member) if member is not None else None,
        "requests": [_row_dict(r) for r in about],
        # Clause 5: to whom the data was (or is to be) disclosed, which fields, the digest.
        "disclosures": disclosures.report_section(session, subject_id),
        "retention": {
            "status": subject.status,
            "blocked_at": _jsonable(subject.blocked_at),
            "destruction_due_at": _jsonable(subject.destruction_due_at),
            "applications_closed_at": [_jsonable(a.closed_at) for a in apps if a.closed_at],
            "membership_ended_at": _jsonable(member.ended_at) if member else None,
            "consents_withdrawn_at": [
                _jsonable(c.withdrawn_at) for c in consents if c.withdrawn_at
            ],
        },
    }
    audit.record(session, actor, "subject.report_generated", "data_subject", subject_id, {})
    return report


def report_json(report: dict[str, Any]) -> bytes:
    """The report as UTF-8 JSON (readable: indented, non-ASCII kept)."""
    return json.dumps(report, ensure_ascii=False, indent=2, default=str).encode("utf-8")


def _label(language: str, key: str, fallback: str) -> str:
    try:
        return tr(language, key)
    except KeyError:
        return fallback


def report_pdf(report: dict[str, Any], language: str | None = None) -> bytes:
    """The report as a PDF, labels in ``language`` (default: the subject's language).

    Needs the DejaVuSans TrueType font (Kazakh and Russian letters); ``RuntimeError`` naming
    the Debian package when it is missing.
    """
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    if not FONT_PATH.exists():
        raise RuntimeError(
            f"PDF font {FONT_PATH} is missing: install the Debian package {FONT_PACKAGE}"
        )
    lang = normalise_locale(language or report.get("language"))
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_font("DejaVu", "", str(FONT_PATH))
    pdf.add_page()

    def heading(text: str, size: int = 13) -> None:
        pdf.set_font("DejaVu", size=size)
        pdf.multi_cell(0, 8, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font("DejaVu", size=9)

    def line(text: str) -> None:
        pdf.multi_cell(0, 5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT, wrapmode="CHAR")

    def fields(values: dict[str, Any], prefix: str = "") -> None:
        for key, value in values.items():
            if isinstance(value, list | dict) or value is None or value == "":
                continue
            name = _label(lang, f"{prefix}{key}", key) if prefix else key
            line(f"{name}: {value}")

    def t(key: str) -> str:
        return tr(lang, f"report.{key}")

    heading(t("title"), 16)
    line(f"{t('generated_at')}: {report['generated_at']}")
    heading(t("subject"))
    fields(report["subject"], "subject.")
    heading(t("consents"))
    if not report["consents"]:
        line(t("none"))
    for consent in report["consents"]:
        line(f"— {_label(lang, 'purpose.' + consent['purpose_code'], consent['purpose_code'])}")
        fields(consent)
    heading(t("policies"))
    for version in report["policies"]:
        line(f"{version['label']} ({version['effective_date']}) SHA-256 {version['sha256']}")
        line(version["text"])
    heading(t("applications"))
    if not report["applications"]:
        line(t("none"))
    for application in report["applications"]:
        line(f"— {application['reference']}")
        fields(application)
        heading(t("events"), 10)
        for event in application["events"]:
            fields(event)
            line("")
    heading(t("member"))
    if report["member"] is None:
        line(t("none"))
    else:
        fields(report["member"])
    heading(t("requests"))
    if not report["requests"]:
        line(t("none"))
    for request in report["requests"]:
        line(f"— {request['reference']}")
        fields(request)
    heading(t("disclosures"))
    if not report.get("disclosures"):
        line(t("none"))
    for item in report.get("disclosures", []):
        kind = _label(lang, "disclosure.kind." + item["kind"], item["kind"])
        status = _label(lang, "disclosure.status." + item["status"], item["status"])
        line(f"— {item['reference']} ({kind}, {status})")
        fields({k: ", ".join(v) if isinstance(v, list) else v for k, v in item.items()
                if k not in ("id", "kind", "status", "reference")})  # fmt: skip
    heading(t("retention"))
    retention = report["retention"]
    status = retention["status"]
    line(f"{t('status')}: {_label(lang, 'subject_status.' + status, status)}")
    line(f"{t('destruction_due_at')}: {retention['destruction_due_at'] or t('none')}")
    fields({k: ", ".join(v) if isinstance(v, list) else v for k, v in retention.items()
            if k not in ("status", "destruction_due_at")})  # fmt: skip
    return bytes(pdf.output())
