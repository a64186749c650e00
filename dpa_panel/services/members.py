"""The member register (policy clause 3, purpose "member register").

A register entry is created only by approving an application
(``services.applications.change_status``). Here: listing, reading (audited) and the entry's
own small state machine — suspend, reinstate, end. Ending a membership records ``ended_at``:
the member-register purpose is achieved then and the retention clock starts.

Like every service: the caller's session and transaction, an audit event per change (codes
and field names only; the reason, which is free text about a person, stays on the row).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlmodel import Session

from dpa_panel.models import Consent, DataSubject, Member, MembershipApplication
from dpa_panel.models.types import utcnow
from dpa_panel.models.vocab import MEMBER_STATUSES
from dpa_panel.services import audit
from dpa_panel.services.applications import (
    TEXT_MAX,
    active_subject,
    page_with_total,
    search_condition,
    search_term,
    subject_consents,
)
from dpa_panel.services.audit import Actor
from dpa_panel.services.errors import ServiceError
from dpa_panel.services.validation import clean_text

ENTITY = "member"

MEMBER_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "active": ("suspended", "ended"),
    "suspended": ("active", "ended"),
    "ended": (),
}
SORTS = ("number", "since_desc", "surname")

#: Characters a membership number (``PRMA-2026-000123``) consists of, after folding.
_NUMBER_CHARS = frozenset("prma0123456789-")


@dataclass
class MemberQuery:
    search: str = ""
    status: str = ""
    page: int = 1
    page_size: int = 50
    sort: str = "number"


@dataclass
class MemberRow:
    id: int
    membership_number: str
    since: date
    status: str
    ended_at: datetime | None
    surname: str
    first_name: str
    patronymic: str | None
    email: str
    workplace: str
    subject_id: int


@dataclass
class MemberDetail:
    member: Member
    subject: DataSubject
    #: Every consent of the subject, newest first.
    consents: list[Consent]
    #: The application that was approved (``None`` for entries made without one).
    application: MembershipApplication | None


def _conditions(session: Session, q: MemberQuery) -> list:
    conds = [active_subject(session, Member.subject_id)]
    term = search_term(q.search)
    if term:
        conds.append(
            search_condition(
                session, term, Member.id, Member.subject_id, Member.membership_number, _NUMBER_CHARS
            )
        )
    if q.status:
        conds.append(Member.status == q.status)
    return conds


def _order_by(sort: str) -> tuple[list, bool]:
    """ORDER BY terms and whether they need the subject joined."""
    if sort == "since_desc":
        return [Member.since.desc(), Member.id.desc()], False
    if sort == "surname":
        return [DataSubject.surname, DataSubject.first_name, Member.id], True
    return [Member.membership_number], False


def list_members(session: Session, q: MemberQuery) -> tuple[list[MemberRow], int]:
    """One page of the register (active subjects only) and how many entries match.

    Same strategy as the pipeline (``services.applications``): ids and total in one
    statement, then the page's rows.
    """
    order, needs_subject = _order_by(q.sort)
    ids, total = page_with_total(
        session,
        Member.id,
        _conditions(session, q),
        order,
        page=q.page,
        page_size=q.page_size,
        join=(DataSubject, DataSubject.id == Member.subject_id) if needs_subject else None,
    )
    if not ids:
        return [], total
    stmt = (
        select(
            Member.id,
            Member.membership_number,
            Member.since,
            Member.status,
            Member.ended_at,
            DataSubject.surname,
            DataSubject.first_name,
            DataSubject.patronymic,
            DataSubject.email,
            DataSubject.workplace,
            Member.subject_id,
        )
        .join(DataSubject, DataSubject.id == Member.subject_id)
        .where(Member.id.in_(ids))
    )
    by_id = {row.id: MemberRow(*row) for row in session.execute(stmt)}
    return [by_id[i] for i in ids if i in by_id], total


def member_status_counts(session: Session) -> dict[str, int]:
    """Register entries per status (active subjects only); every status is a key."""
    counts = dict.fromkeys(MEMBER_STATUSES, 0)
    stmt = (
        select(Member.status, func.count())
        .where(active_subject(session, Member.subject_id))
        .group_by(Member.status)
    )
    counts.update({status: count for status, count in session.execute(stmt)})
    return counts


def read_member(session: Session, actor: Actor, member_id: int) -> MemberDetail:
    """One register entry with its subject, consents and application; audited (``member.read``)."""
    member = session.get(Member, member_id)
    if member is None:
        raise ServiceError("member.not_found")
    subject = session.get(DataSubject, member.subject_id)
    if subject is None or subject.status != "active":
        raise ServiceError("subject.not_active")
    application = (
        session.get(MembershipApplication, member.application_id)
        if member.application_id is not None
        else None
    )
    audit.record(session, actor, "member.read", ENTITY, member.id)
    return MemberDetail(
        member=member,
        subject=subject,
        consents=subject_consents(session, subject.id),
        application=application,
    )


def _change(
    session: Session,
    actor: Actor,
    member_id: int,
    to_status: str,
    reason: str,
    *,
    reason_required: bool,
    action: str,
    now: datetime | None = None,
) -> Member:
    value, error = clean_text(reason, TEXT_MAX, required=False, multiline=True)
    if error:
        raise ServiceError(error, field="reason")
    if reason_required and not value:
        raise ServiceError("member.reason_required", field="reason")
    now = now or utcnow()
    audit.lock_writers(session)  # read the current status under the writers' lock
    member = session.get(Member, member_id, populate_existing=True)
    if member is None:
        raise ServiceError("member.not_found")
    subject = session.get(DataSubject, member.subject_id, populate_existing=True)
    if subject is None or subject.status != "active":
        raise ServiceError("subject.not_active")
    from_status = member.status
    if to_status not in MEMBER_TRANSITIONS.get(from_status, ()):
        raise ServiceError("member.illegal_transition")
    member.status = to_status
    member.status_reason = value
    member.status_changed_at = now
    if to_status == "ended":
        member.ended_at = now
    session.add(member)
    session.flush()
    from dpa_panel.services import retention

    retention.recompute_retention(session, [member.subject_id])
    audit.record(session, actor, action, ENTITY, member.id, {"from": from_status, "to": to_status})
    return member


def suspend(session: Session, actor: Actor, member_id: int, reason: str) -> Member:
    """active -> suspended; the reason is required."""
    return _change(
        session,
        actor,
        member_id,
        "suspended",
        reason,
        reason_required=True,
        action="member.suspended",
    )


def reinstate(session: Session, actor: Actor, member_id: int, reason: str = "") -> Member:
    """suspended -> active; the reason is optional."""
    return _change(
        session,
        actor,
        member_id,
        "active",
        reason,
        reason_required=False,
        action="member.reinstated",
    )


def end_membership(
    session: Session, actor: Actor, member_id: int, reason: str, now: datetime | None = None
) -> Member:
    """active/suspended -> ended; records ``ended_at`` (the register purpose is achieved)."""
    return _change(
        session,
        actor,
        member_id,
        "ended",
        reason,
        reason_required=True,
        action="member.ended",
        now=now,
    )
