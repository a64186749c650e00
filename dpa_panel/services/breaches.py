"""The personal-data breach register (issue 17).

A breach is recorded by a compliance officer with when it was detected (typed in Almaty
time), who detected it, what happened, the data categories, the people affected (picked from
the register, or an estimate when they are not known), the systems, cause, containment and
risk assessment. The authorised body must be notified within
``settings.breach_notify_working_days()`` working days of detection (default 1, cited in
``settings.BREACH_NOTIFY_SOURCE``), counted on the Kazakhstan calendar of
``services.calendar`` like the request deadlines: detected on Friday before a Monday holiday,
due on Tuesday. The due moment is the end of the due day in Almaty.

Every step writes an audit event; reading a breach with its affected people is audited too.
Reminders go through the one outbox (``services.outbox``): one when the breach is recorded (in
the same transaction), and from ``dpa-panel notify`` (``queue_breach_reminders``) on the due
day and once it is overdue, until the notification is recorded.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlmodel import Session

from dpa_panel import settings
from dpa_panel.i18n import normalise_locale, tr
from dpa_panel.i18n.dates import format_entry_date, format_entry_datetime
from dpa_panel.i18n.formatting import to_local
from dpa_panel.models import Breach, BreachSubject, DataSubject, StaffUser
from dpa_panel.models.types import utcnow
from dpa_panel.models.vocab import BREACH_AUTHORITY_CHANNELS, BREACH_SUBJECT_CHANNELS
from dpa_panel.services import audit, calendar, outbox
from dpa_panel.services.audit import Actor
from dpa_panel.services.errors import ServiceError, ValidationFailed
from dpa_panel.services.validation import clean_text

ENTITY = "breach"
REMINDER_PURPOSE = "breach_reminder"
LETTER_PURPOSE = "breach_letter"
REMINDER_KINDS = ("detected", "due_today", "overdue")
_LOCAL_DT = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})\s+(\d{1,2}):(\d{2})$")


def parse_local_datetime(text: str) -> datetime:
    """``DD.MM.YYYY HH:MM`` typed in Almaty time, as an aware UTC moment (``date.bad_time``)."""
    match = _LOCAL_DT.match(str(text or "").strip())
    if not match:
        raise ServiceError("breach.bad_time")
    day, month, year, hour, minute = (int(g) for g in match.groups())
    try:
        local = datetime(year, month, day, hour, minute, tzinfo=to_local(utcnow()).tzinfo)
    except ValueError as err:
        raise ServiceError("breach.bad_time") from err
    return local.astimezone(utcnow().tzinfo)


def due_date_for(session: Session, detected_at: datetime) -> date:
    """The last Almaty day to notify the authorised body of a breach detected then."""
    start = to_local(detected_at).date()
    days = settings.breach_notify_working_days()
    cal = calendar.work_calendar(session, range(start.year, start.year + 2))
    return calendar.add_working_days(start, days, cal)


def due_moment(due: date) -> datetime:
    """The end of the due day in Almaty (the countdown runs to it)."""
    tz = to_local(utcnow()).tzinfo
    return datetime.combine(due + timedelta(days=1), time(0, 0), tzinfo=tz)


def _next_reference(session: Session, year: int) -> str:
    prefix = f"BR-{year}-"
    count = session.scalar(
        select(func.count()).select_from(Breach).where(Breach.reference.like(prefix + "%"))
    )
    return f"{prefix}{count + 1:04d}"


_FIELDS = {
    "detected_by": (200, True, False), "description": (5000, True, True),
    "data_categories": (500, True, False), "systems": (500, False, False),
    "cause": (5000, False, True), "containment": (5000, False, True),
    "risk_assessment": (5000, False, True),
}  # fmt: skip


def _clean_fields(values: dict[str, object], errors: dict[str, str]) -> dict[str, str]:
    clean: dict[str, str] = {}
    for name, (limit, required, multiline) in _FIELDS.items():
        value, error = clean_text(values.get(name, ""), limit, required=required,
                                  multiline=multiline)  # fmt: skip
        if error:
            errors[name] = error
        clean[name] = value
    return clean


def _estimate(raw: object, errors: dict[str, str]) -> int | None:
    text = str(raw or "").strip()
    if not text:
        return None
    if not text.isdigit() or int(text) > 10_000_000:
        errors["subjects_estimate"] = "breach.bad_estimate"
        return None
    return int(text)


def record_breach(
    session: Session, actor: Actor, values: dict[str, object], *, now: datetime | None = None
) -> Breach:
    """Record a breach; its notification deadline follows from the detection moment.

    Refuses (nothing changes): a detection moment that does not parse or lies in the future,
    a missing description/categories/detector, a bad estimate."""
    now = now or utcnow()
    errors: dict[str, str] = {}
    clean = _clean_fields(values, errors)
    estimate = _estimate(values.get("subjects_estimate"), errors)
    detected_at = None
    try:
        detected_at = parse_local_datetime(str(values.get("detected_at", "")))
        if detected_at > now:
            errors["detected_at"] = "breach.detected_in_future"
    except ServiceError as err:
        errors["detected_at"] = err.key
    if errors:
        raise ValidationFailed(errors)
    audit.lock_writers(session)
    breach = Breach(
        reference=_next_reference(session, to_local(detected_at).year),
        detected_at=detected_at, subjects_estimate=estimate,
        due_date=due_date_for(session, detected_at), status="open",
        created_by_id=actor.user_id, created_at=now, **clean,
    )  # fmt: skip
    session.add(breach)
    session.flush()
    details = {"reference": breach.reference, "due_date": breach.due_date.isoformat()}
    audit.record(session, actor, "breach.recorded", ENTITY, breach.id, details)
    _queue_reminder(session, breach, "detected", now)
    return breach


def get_breach(session: Session, breach_id: int) -> Breach:
    breach = session.get(Breach, breach_id, populate_existing=True)
    if breach is None:
        raise ServiceError("breach.not_found")
    return breach


def _open(session: Session, breach_id: int) -> Breach:
    breach = get_breach(session, breach_id)
    if breach.status != "open":
        raise ServiceError("breach.closed")
    return breach


def update_assessment(
    session: Session, actor: Actor, breach_id: int, values: dict[str, object]
) -> Breach:
    """Change the description, cause, containment, risk assessment, systems, estimate."""
    audit.lock_writers(session)
    breach = _open(session, breach_id)
    errors: dict[str, str] = {}
    clean = _clean_fields({**{k: getattr(breach, k) for k in _FIELDS}, **values}, errors)
    estimate = _estimate(values.get("subjects_estimate", breach.subjects_estimate), errors)
    if errors:
        raise ValidationFailed(errors)
    changed = sorted(k for k, v in clean.items() if getattr(breach, k) != v)
    if estimate != breach.subjects_estimate:
        changed.append("subjects_estimate")
    for key, value in clean.items():
        setattr(breach, key, value)
    breach.subjects_estimate = estimate
    session.add(breach)
    session.flush()
    audit.record(session, actor, "breach.updated", ENTITY, breach.id, {"changed": changed})
    return breach


def add_subject(session: Session, actor: Actor, breach_id: int, subject_id: int) -> BreachSubject:
    """Link an affected person from the register (unknown or destroyed: refused)."""
    audit.lock_writers(session)
    breach = _open(session, breach_id)
    subject = session.get(DataSubject, subject_id)
    if subject is None or subject.status == "destroyed":
        raise ServiceError("breach.unknown_subject")
    existing = session.scalar(
        select(BreachSubject).where(
            BreachSubject.breach_id == breach.id, BreachSubject.subject_id == subject_id
        )
    )
    if existing is not None:
        raise ServiceError("breach.subject_already_linked")
    link = BreachSubject(breach_id=breach.id, subject_id=subject_id)
    session.add(link)
    session.flush()
    audit.record(session, actor, "breach.subject_added", "data_subject", subject_id,
                 {"breach": breach.reference})  # fmt: skip
    return link


def record_authority_notification(
    session: Session, actor: Actor, breach_id: int, *, sent_at: str, channel: str,
    reference: str, now: datetime | None = None,
) -> Breach:  # fmt: skip
    """When and how the authorised body was notified, and its reference (incoming number)."""
    now = now or utcnow()
    errors: dict[str, str] = {}
    moment = None
    try:
        moment = parse_local_datetime(sent_at)
    except ServiceError as err:
        errors["sent_at"] = err.key
    if channel not in BREACH_AUTHORITY_CHANNELS:
        errors["channel"] = "breach.bad_channel"
    ref, error = clean_text(reference, 200, required=False)
    if error:
        errors["reference"] = error
    audit.lock_writers(session)
    breach = _open(session, breach_id)
    if moment is not None:
        if moment < breach.detected_at:
            errors["sent_at"] = "breach.notified_before_detection"
        elif moment > now:
            errors["sent_at"] = "breach.notified_in_future"
    if errors:
        raise ValidationFailed(errors)
    breach.authority_notified_at, breach.authority_channel = moment, channel
    breach.authority_reference = ref
    session.add(breach)
    session.flush()
    late = to_local(moment).date() > breach.due_date
    audit.record(session, actor, "breach.authority_notified", ENTITY, breach.id,
                 {"channel": channel, "late": late})  # fmt: skip
    return breach


def notify_subject(
    session: Session, actor: Actor, breach_id: int, subject_id: int, channel: str,
    *, now: datetime | None = None,
) -> BreachSubject:  # fmt: skip
    """Tell one affected person: an e-mail queued in the outbox (in their language, where the
    register has an address) or a printed letter (its PDF is ``breach_documents.letter_pdf``).
    Each is recorded once."""
    now = now or utcnow()
    if channel not in BREACH_SUBJECT_CHANNELS:
        raise ServiceError("breach.bad_channel")
    audit.lock_writers(session)
    breach = get_breach(session, breach_id)
    link = session.scalar(
        select(BreachSubject).where(
            BreachSubject.breach_id == breach.id, BreachSubject.subject_id == subject_id
        )
    )
    if link is None:
        raise ServiceError("breach.unknown_subject")
    if link.notified_at is not None:
        raise ServiceError("breach.subject_already_notified")
    subject = session.get(DataSubject, subject_id)
    if channel == "email":
        if subject is None or not subject.email or subject.status == "destroyed":
            raise ServiceError("breach.no_subject_email")
        from dpa_panel.services import breach_documents

        subject_line, body = breach_documents.letter_text(session, breach, subject)
        outbox.enqueue(
            session, purpose=LETTER_PURPOSE, recipient=subject.email, subject=subject_line,
            body=body, dedupe_key=f"breach-letter:{breach.id}:{subject_id}", now=now,
        )  # fmt: skip
    link.notified_at, link.notified_channel, link.notified_by_id = now, channel, actor.user_id
    session.add(link)
    session.flush()
    audit.record(session, actor, "breach.subject_notified", "data_subject", subject_id,
                 {"breach": breach.reference, "channel": channel})  # fmt: skip
    return link


def close_breach(
    session: Session, actor: Actor, breach_id: int, lessons: str, *, now: datetime | None = None
) -> Breach:
    """Close with the lessons learned; the authorised body must have been notified first."""
    value, error = clean_text(lessons, 5000, required=True, multiline=True)
    if error:
        raise ValidationFailed({"lessons_learned": error})
    audit.lock_writers(session)
    breach = _open(session, breach_id)
    if breach.authority_notified_at is None:
        raise ServiceError("breach.close_needs_notification")
    breach.status, breach.closed_at, breach.lessons_learned = "closed", now or utcnow(), value
    session.add(breach)
    session.flush()
    audit.record(session, actor, "breach.closed", ENTITY, breach.id, {})
    return breach


# --- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Countdown:
    """How long is left to notify the authorised body (negative: overdue)."""

    breach_id: int
    reference: str
    due_date: date
    hours_left: int
    working_days_left: int

    @property
    def overdue(self) -> bool:
        return self.hours_left < 0


def countdown(session: Session, breach: Breach, now: datetime) -> Countdown:
    today = to_local(now).date()
    cal = calendar.work_calendar(session, range(min(today, breach.due_date).year,
                                                max(today, breach.due_date).year + 1))  # fmt: skip
    seconds = (due_moment(breach.due_date) - now).total_seconds()
    hours = math.floor(seconds / 3600)
    return Countdown(breach.id, breach.reference, breach.due_date, hours,
                     calendar.working_days_between(today, breach.due_date, cal))  # fmt: skip


def awaiting_notification(session: Session, now: datetime) -> list[Countdown]:
    """Open breaches the authorised body has not been told about, soonest due first (the
    countdown on the compliance home page)."""
    rows = session.scalars(
        select(Breach)
        .where(Breach.status == "open", Breach.authority_notified_at.is_(None))
        .order_by(Breach.due_date, Breach.id)
    ).all()
    return [countdown(session, b, now) for b in rows]


def list_breaches(
    session: Session, *, limit: int = 50, offset: int = 0
) -> tuple[list[Breach], int]:
    total = session.scalar(select(func.count()).select_from(Breach))
    rows = session.scalars(
        select(Breach).order_by(Breach.detected_at.desc(), Breach.id.desc())
        .limit(limit).offset(offset)
    ).all()  # fmt: skip
    return list(rows), int(total or 0)


@dataclass(frozen=True)
class AffectedPerson:
    subject_id: int
    name: str
    email: str
    language: str
    notified_at: datetime | None
    notified_channel: str


def affected(session: Session, actor: Actor, breach_id: int) -> list[AffectedPerson]:
    """The people linked to a breach (personal data: reading them is audited)."""
    breach = get_breach(session, breach_id)
    rows = session.execute(
        select(BreachSubject, DataSubject)
        .join(DataSubject, DataSubject.id == BreachSubject.subject_id)
        .where(BreachSubject.breach_id == breach.id)
        .order_by(DataSubject.surname, DataSubject.id)
    ).all()
    audit.record(session, actor, "breach.viewed", ENTITY, breach.id, {"subjects": len(rows)})
    return [
        AffectedPerson(
            s.id, " ".join(p for p in (s.surname, s.first_name, s.patronymic or "") if p),
            s.email, s.language, link.notified_at, link.notified_channel,
        )  # fmt: skip
        for link, s in rows
    ]


def breaches_of_subject(session: Session, subject_id: int) -> list[dict[str, str]]:
    """The incidents that touched a person (their data report lists them)."""
    rows = session.execute(
        select(Breach, BreachSubject)
        .join(BreachSubject, BreachSubject.breach_id == Breach.id)
        .where(BreachSubject.subject_id == subject_id)
        .order_by(Breach.detected_at)
    ).all()
    return [
        {
            "reference": b.reference,
            "detected_at": format_entry_datetime(b.detected_at),
            "data_categories": b.data_categories,
            "notified_at": format_entry_datetime(link.notified_at),
        }
        for b, link in rows
    ]


# --- reminders through the outbox ------------------------------------------------------------


def _recipients(session: Session) -> list[StaffUser]:
    """Active compliance officers with an address, and the responsible person."""
    from dpa_panel.services.org_profile import get_profile

    people = list(
        session.scalars(
            select(StaffUser).where(
                StaffUser.is_active.is_(True), StaffUser.role == "compliance",
                StaffUser.email != "",
            ).order_by(StaffUser.id)
        )
    )  # fmt: skip
    responsible_id = get_profile(session).responsible_user_id
    if responsible_id and all(p.id != responsible_id for p in people):
        person = session.get(StaffUser, responsible_id)
        if person is not None and person.is_active and person.email:
            people.append(person)
    return people


def _reminder_text(language: str, kind: str, breach: Breach) -> tuple[str, str]:
    lang = normalise_locale(language)
    values = {
        "reference": breach.reference,
        "detected": format_entry_datetime(breach.detected_at),
        "due": format_entry_date(breach.due_date),
        "link": f"{settings.public_url() or 'http://localhost:3000'}/breaches/{breach.id}",
    }
    return (tr(lang, f"mail.breach.{kind}.subject", **values),
            tr(lang, f"mail.breach.{kind}.body", **values))  # fmt: skip


def _queue_reminder(session: Session, breach: Breach, kind: str, now: datetime) -> int:
    queued = 0
    for person in _recipients(session):
        subject, body = _reminder_text(person.language, kind, breach)
        message = outbox.enqueue(
            session, purpose=REMINDER_PURPOSE, recipient=person.email, subject=subject,
            body=body, dedupe_key=f"breach-reminder:{breach.id}:{kind}:{person.id}",
            recipient_user_id=person.id, now=now,
        )  # fmt: skip
        queued += message is not None
    return queued


def queue_breach_reminders(session: Session, *, now: datetime | None = None) -> int:
    """Queue the due-today and overdue reminders of breaches not yet notified (idempotent:
    the outbox's ``dedupe_key`` sends each once). Returns how many were queued."""
    now = now or utcnow()
    today = to_local(now).date()
    queued = 0
    for breach in session.scalars(
        select(Breach).where(
            Breach.status == "open", Breach.authority_notified_at.is_(None),
            Breach.due_date <= today,
        ).order_by(Breach.id)
    ).all():  # fmt: skip
        queued += _queue_reminder(session, breach, "overdue" if breach.due_date < today
                                  else "due_today", now)  # fmt: skip
    session.flush()
    return queued
