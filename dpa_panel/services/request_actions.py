"""The actions that fulfil a data-subject request on the subject's data (policy clause 6):
blocking, lifting a block, and handing the subject to the retention sweep for destruction.

Each needs a reason, which is also noted on the request it fulfils (``request_id``).
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from dpa_panel.models import DataSubject
from dpa_panel.models.types import utcnow
from dpa_panel.services import audit
from dpa_panel.services.audit import Actor
from dpa_panel.services.errors import ServiceError
from dpa_panel.services.validation import clean_text

TEXT_MAX = 2000


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
        from dpa_panel.services.requests import add_request_note

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
