"""Data-subject requests (policy clause 6): intake, identity, pauses, assignment, notes,
answers, refusals, withdrawals and reopening — each step written to the request's history
(``request_event``: who, when, what).

Related jobs live beside this module: ``request_deadlines`` (per-kind periods and due dates on
the working-day calendar), ``request_register`` (the register of all requests, its filters
and counts), ``request_actions`` (blocking, destruction) and ``subject_report`` (the access
report). Their public names are re-exported here for callers that know only this module.

State machine (``REQUEST_TRANSITIONS``): received → identity_check → in_progress → answered |
refused; every open status may go to refused or withdrawn; ``in_progress`` is reached only by
``verify_identity``; a closed request (answered, refused, withdrawn) can be reopened with a
reason — back to ``in_progress`` when the identity was verified, else to ``received``. A
request may be paused (waiting for the requester) while open; whether the pause extends the
due date is the kind's setting.

Like every service: the caller's session and transaction, audit events with codes only (the
requester's name, the details, notes, answers and pause reasons are personal data and stay
in the request's own rows).
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from dpa_panel.models import DataSubject, RequestEvent, StaffUser, SubjectRequest
from dpa_panel.models.types import utcnow
from dpa_panel.models.vocab import (
    CLOSED_REQUEST_STATUSES,
    OPEN_REQUEST_STATUSES,
    PURPOSES,
    REQUEST_CHANNELS,
    REQUEST_KINDS,
)
from dpa_panel.services import audit
from dpa_panel.services.applications import local_date
from dpa_panel.services.audit import Actor
from dpa_panel.services.errors import ServiceError, ValidationFailed
from dpa_panel.services.request_actions import (  # noqa: F401  (re-exported)
    block_subject,
    schedule_destruction,
    unblock_subject,
)
from dpa_panel.services.request_deadlines import (  # noqa: F401  (re-exported)
    COUNTED_FROM,
    compute_due_date,
    deadline_for,
    extend_due_date,
    list_deadlines,
    set_deadline,
    working_days_between,
    working_days_left,
)
from dpa_panel.services.request_register import (  # noqa: F401  (re-exported)
    RequestRow,
    open_requests,
    request_counts,
    requests_about,
)
from dpa_panel.services.subject_report import (  # noqa: F401  (re-exported)
    FONT_PACKAGE,
    FONT_PATH,
    report_json,
    report_pdf,
    subject_report,
)
from dpa_panel.services.validation import clean_text

ENTITY = "subject_request"
TEXT_MAX = 2000
REASON_MAX = 300

REQUEST_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "received": ("identity_check", "in_progress", "refused", "withdrawn"),
    "identity_check": ("in_progress", "refused", "withdrawn"),
    "in_progress": ("answered", "refused", "withdrawn"),
    "answered": (),
    "refused": (),
    "withdrawn": (),
}
#: Roles whose active accounts can be given requests.
REQUEST_ASSIGNABLE_ROLES = ("staff", "admin", "compliance")


def allowed_request_transitions(status: str) -> tuple[str, ...]:
    return REQUEST_TRANSITIONS.get(status, ())


# --- history ---------------------------------------------------------------------------------


def _event(
    session: Session,
    request: SubjectRequest,
    kind: str,
    actor: Actor,
    now: datetime,
    text: str = "",
    **data,
) -> RequestEvent:
    event = RequestEvent(
        request_id=request.id,
        kind=kind,
        at=now,
        actor_id=actor.user_id,
        text=text,
        data=json.dumps(data, default=str, sort_keys=True),
    )
    session.add(event)
    return event


def request_history(session: Session, request_id: int) -> list[tuple[RequestEvent, str]]:
    """The request's history in the order it was written, each with the username of who did
    it (the order of writing is the truth; ``at`` of the first entry is the receipt, which
    may be earlier than its recording)."""
    stmt = (
        select(RequestEvent, StaffUser.username)
        .outerjoin(StaffUser, StaffUser.id == RequestEvent.actor_id)
        .where(RequestEvent.request_id == request_id)
        .order_by(RequestEvent.id)
    )
    return [(event, username or "") for event, username in session.execute(stmt)]


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
    _event(session, request, "received", actor, received_at, channel=channel,
           due=request.due_date.isoformat())  # fmt: skip
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
    subject_id: int | None = None,
    method: str,
    now: datetime | None = None,
) -> SubjectRequest:
    """Record that the requester is the subject (who, when, how) and link the subject;
    status → ``in_progress``. Without ``subject_id`` the subject the request is already
    linked to is used (``request.subject_required`` when it has none). Kinds counted from
    identity verification get their due date recomputed from this moment."""
    now = now or utcnow()
    method_value, error = clean_text(method, 300, required=True)
    if error:
        raise ServiceError(error, field="method")
    audit.lock_writers(session)
    request = _load(session, request_id)
    if "in_progress" not in allowed_request_transitions(request.status):
        raise ServiceError("request.illegal_transition")
    if subject_id is None:
        subject_id = request.subject_id
    if subject_id is None:
        raise ServiceError("request.subject_required", field="subject_id")
    subject = session.get(DataSubject, subject_id)
    if subject is None or subject.status == "destroyed":
        raise ServiceError("subject.not_found", field="subject_id")
    from_status = request.status
    request.subject_id = subject_id
    request.identity_verified_at = now
    request.identity_verified_by_id = actor.user_id
    request.identity_method = method_value
    request.status = "in_progress"
    deadline = deadline_for(session, request.kind)
    recomputed = deadline.counted_from == "identity_verified"
    due_before = request.due_date
    if recomputed:
        request.due_date = compute_due_date(session, request.kind, now)
    request.updated_at = now
    session.add(request)
    _event(session, request, "identity_verified", actor, now, method_value,
           due_from=due_before.isoformat(), due=request.due_date.isoformat())  # fmt: skip
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
    ``withdrawn`` takes an optional note in ``refusal_reason``. Closing records
    ``answered_at`` (when the request was closed) and ends a pause. ``in_progress`` is
    reached through ``verify_identity`` (``request.verify_identity_first``)."""
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
        request.paused_at = None
        request.pause_reason = ""
    request.updated_at = now
    session.add(request)
    if to_status in CLOSED_REQUEST_STATUSES:
        text = {"answered": answer_value, "refused": reason_value}.get(to_status, reason_value)
        _event(session, request, to_status, actor, now, text, **{"from": from_status})
    session.flush()
    audit.record(
        session,
        actor,
        "request.status_changed",
        ENTITY,
        request.id,
        {"from": from_status, "to": to_status},
    )
    from dpa_panel.services import acknowledgements

    acknowledgements.request_closed(session, request, now=now)
    return request


def reopen_request(
    session: Session, actor: Actor, request_id: int, reason: str, *, now: datetime | None = None
) -> SubjectRequest:
    """Reopen a closed request (e.g. the requester disputes the answer) with a reason: back to
    ``in_progress`` when the identity was verified, else ``received``. The due date is kept,
    so a late answer stays late."""
    now = now or utcnow()
    value, error = clean_text(reason, REASON_MAX, required=True)
    if error:
        raise ServiceError(
            "request.reason_required" if error == "field.required" else error, field="reason"
        )
    audit.lock_writers(session)
    request = _load(session, request_id)
    if request.status not in CLOSED_REQUEST_STATUSES:
        raise ServiceError("request.not_closed")
    from_status = request.status
    request.status = "in_progress" if request.identity_verified_at else "received"
    request.answered_at = None
    request.updated_at = now
    session.add(request)
    _event(session, request, "reopened", actor, now, value, to=request.status,
           **{"from": from_status})  # fmt: skip
    session.flush()
    audit.record(session, actor, "request.reopened", ENTITY, request.id,
                 {"from": from_status, "to": request.status})  # fmt: skip
    return request


def pause_request(
    session: Session, actor: Actor, request_id: int, reason: str, *, now: datetime | None = None
) -> SubjectRequest:
    """Pause an open request (e.g. waiting for the requester's electronic identity proof);
    the reason is required. A closed request (``request.closed``) or one already paused
    (``request.already_paused``) is refused."""
    now = now or utcnow()
    value, error = clean_text(reason, REASON_MAX, required=True)
    if error:
        raise ServiceError(
            "request.pause_reason_required" if error == "field.required" else error,
            field="reason",
        )
    audit.lock_writers(session)
    request = _load(session, request_id)
    if request.status not in OPEN_REQUEST_STATUSES:
        raise ServiceError("request.closed")
    if request.paused_at is not None:
        raise ServiceError("request.already_paused")
    request.paused_at = now
    request.pause_reason = value
    request.updated_at = now
    session.add(request)
    _event(session, request, "paused", actor, now, value)
    session.flush()
    audit.record(session, actor, "request.paused", ENTITY, request.id, {})
    return request


def resume_request(
    session: Session, actor: Actor, request_id: int, *, now: datetime | None = None
) -> SubjectRequest:
    """End a pause. When the kind's ``pause_stops_clock`` is set, the due date moves on by
    the working days the request was paused (counted like a deadline: the days after the
    pause began, up to and including the resumption day)."""
    now = now or utcnow()
    audit.lock_writers(session)
    request = _load(session, request_id)
    if request.status not in OPEN_REQUEST_STATUSES:
        raise ServiceError("request.closed")
    if request.paused_at is None:
        raise ServiceError("request.not_paused")
    deadline = deadline_for(session, request.kind)
    paused_days = 0
    due_before = request.due_date
    if deadline.pause_stops_clock:
        paused_days = max(
            0,
            working_days_between(session, local_date(request.paused_at), local_date(now)),
        )
        request.due_date = extend_due_date(session, request.due_date, paused_days)
    request.paused_at = None
    request.pause_reason = ""
    request.updated_at = now
    session.add(request)
    _event(session, request, "resumed", actor, now, paused_days=paused_days,
           due_from=due_before.isoformat(), due=request.due_date.isoformat())  # fmt: skip
    session.flush()
    audit.record(session, actor, "request.resumed", ENTITY, request.id,
                 {"paused_days": paused_days})  # fmt: skip
    return request


def assign_request(
    session: Session,
    actor: Actor,
    request_id: int,
    assignee_id: int | None,
    *,
    now: datetime | None = None,
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
    now = now or utcnow()
    request.assignee_id = assignee_id
    request.updated_at = now
    session.add(request)
    _event(session, request, "assigned", actor, now, to=assignee_id, **{"from": previous})
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
    """A dated note: a history entry, also appended to the request's ``notes`` (the subject
    report's copy)."""
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
    _event(session, request, "noted", actor, now, value)
    session.flush()
    audit.record(session, actor, "request.note_added", ENTITY, request.id, {})
    return request
