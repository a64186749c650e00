"""What a sweep would destroy, readable by a person (issue 18, point 5), and the subject
search of the legal-hold form.

``services.retention.preview_sweep`` answers the sweep itself (ids and due dates); the
compliance officer about to confirm needs to recognise the people: each subject due with its
reference (membership number, else its latest application's reference), its name, and what
will be destroyed — one SQL page at a time, in the sweep's own order and with the sweep's own
conditions (due by ``as_of``, active, no legal hold in force). The callers audit every read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import exists, func, or_, select
from sqlmodel import Session

from dpa_panel.models import (
    Consent,
    DataSubject,
    LegalHold,
    Member,
    MembershipApplication,
    SubjectRequest,
)
from dpa_panel.services.applications import search_term, text_contains
from dpa_panel.services.retention import _held_expr, local_date
from dpa_panel.services.retention_sweep import _as_moment

MAX_PAGE = 100

#: What a destruction blanks, in the order shown: (catalog key suffix, condition builder).
#: ``subject`` (name, contacts, profile) is always there.
DESTROYS = ("subject", "applications", "consents", "member", "requests", "holds")


@dataclass
class DueSubject:
    subject_id: int
    reference: str
    name: str
    due_at: datetime
    purpose: str
    event: str
    destroys: list[str] = field(default_factory=list)


@dataclass
class SubjectHit:
    subject_id: int
    reference: str
    name: str
    status: str
    held: bool


def _name(surname: str, first: str, patronymic: str) -> str:
    return " ".join(p for p in (surname, first, patronymic) if p)


def _reference_columns():
    """(membership number, latest application reference) of ``DataSubject`` as scalars."""
    number = (
        select(Member.membership_number)
        .where(Member.subject_id == DataSubject.id)
        .limit(1)
        .scalar_subquery()
    )
    latest = (
        select(MembershipApplication.reference)
        .where(MembershipApplication.subject_id == DataSubject.id)
        .order_by(MembershipApplication.submitted_at.desc(), MembershipApplication.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return number.label("number"), latest.label("latest")


def _due_conditions(as_of: datetime | date):
    moment = _as_moment(as_of)
    today = local_date(moment)
    s = DataSubject
    return [s.retention_due_at <= moment, s.status == "active", ~_held_expr(today)]


def count_due(session: Session, *, as_of: datetime | date) -> int:
    """How many subjects a sweep run now would destroy (the number the question names)."""
    conds = _due_conditions(as_of)
    return int(session.scalar(select(func.count()).select_from(DataSubject).where(*conds)) or 0)


def due_page(
    session: Session, *, as_of: datetime | date, page: int = 1, page_size: int = 20
) -> tuple[list[DueSubject], int]:
    """One page of the subjects a sweep would destroy, in the sweep's order, and the total."""
    page = max(1, int(page))
    page_size = max(1, min(MAX_PAGE, int(page_size)))
    s = DataSubject
    conds = _due_conditions(as_of)
    total = int(session.scalar(select(func.count()).select_from(s).where(*conds)) or 0)
    number, latest = _reference_columns()
    has = {
        "applications": exists().where(MembershipApplication.subject_id == s.id),
        "consents": exists().where(Consent.subject_id == s.id),
        "member": exists().where(Member.subject_id == s.id),
        "requests": exists().where(SubjectRequest.subject_id == s.id),
        "holds": exists().where(LegalHold.subject_id == s.id),
    }
    rows = session.execute(
        select(
            s.id, s.surname, s.first_name, s.patronymic, s.retention_due_at,
            s.retention_purpose, s.retention_event, number, latest,
            *[cond.label(f"has_{key}") for key, cond in has.items()],
        )
        .where(*conds)
        .order_by(s.retention_due_at, s.id)
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()  # fmt: skip
    out = []
    for r in rows:
        destroys = ["subject"] + [k for k in has if getattr(r, f"has_{k}")]
        out.append(
            DueSubject(
                subject_id=r.id,
                reference=r.number or r.latest or "",
                name=_name(r.surname, r.first_name, r.patronymic),
                due_at=r.retention_due_at,
                purpose=r.retention_purpose or "",
                event=r.retention_event or "",
                destroys=destroys,
            )
        )
    return out, total


def due_subject(session: Session, subject_id: int, *, as_of: datetime | date) -> DueSubject | None:
    """The one subject, if a sweep now would destroy it (the single destruction's question)."""
    s = DataSubject
    number, latest = _reference_columns()
    r = session.execute(
        select(s.id, s.surname, s.first_name, s.patronymic, s.retention_due_at,
               s.retention_purpose, s.retention_event, number, latest)
        .where(s.id == subject_id, *_due_conditions(as_of))
    ).first()  # fmt: skip
    if r is None:
        return None
    return DueSubject(r.id, r.number or r.latest or "", _name(r.surname, r.first_name,
                      r.patronymic), r.retention_due_at, r.retention_purpose or "",
                      r.retention_event or "")  # fmt: skip


def find_subjects(
    session: Session, query: str, *, today: date, page: int = 1, page_size: int = 10
) -> tuple[list[SubjectHit], int]:
    """Subjects (not destroyed) whose name, e-mail or workplace contains ``query``, or whose
    membership number or an application's reference does (case-insensitive), or whose id it
    is: one page, surname order, and the total. An empty query finds nothing."""
    page = max(1, int(page))
    page_size = max(1, min(MAX_PAGE, int(page_size)))
    raw = " ".join((query or "").split())[:100]
    term = search_term(raw)
    if not term:
        return [], 0
    s = DataSubject
    pattern = "%" + raw.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    matches = [
        text_contains(session, s.search_text, term),
        exists().where(Member.subject_id == s.id,
                       Member.membership_number.ilike(pattern, escape="\\")),
        exists().where(MembershipApplication.subject_id == s.id,
                       MembershipApplication.reference.ilike(pattern, escape="\\")),
    ]  # fmt: skip
    if raw.isdigit():
        matches.append(s.id == int(raw))
    conds = [s.status != "destroyed", or_(*matches)]
    total = int(session.scalar(select(func.count()).select_from(s).where(*conds)) or 0)
    number, latest = _reference_columns()
    held = _held_expr(today).label("held")
    rows = session.execute(
        select(s.id, s.surname, s.first_name, s.patronymic, s.status, number, latest, held)
        .where(*conds)
        .order_by(s.surname, s.first_name, s.id)
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    return [
        SubjectHit(r.id, r.number or r.latest or "", _name(r.surname, r.first_name, r.patronymic),
                   r.status, bool(r.held))
        for r in rows
    ], total  # fmt: skip
