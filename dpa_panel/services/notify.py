"""Deadline reminders for data-subject requests (policy clause 6), queued in the outbox.

``dpa-panel notify`` runs ``queue_reminders`` then ``outbox.deliver``. An open request gets
a ``due_soon`` reminder once it is due within one working day (the working day before its due
date, or the due day itself when it was received later than that) and an ``overdue``
reminder once its due date has passed. The reminder goes to the request's assignee, or — when
nobody is assigned, or the assignee has no address or is inactive — to every active
compliance officer with an address; each in the language of their account. The outbox's
``dedupe_key`` (``request-reminder:<request>:<kind>:<account>``) makes running notify any
number of times send each reminder once.

The e-mail names the request by reference, kind and due date and links to it; it carries no
requester name or other personal data (e-mail leaves the panel's protection).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlmodel import Session

from dpa_panel import settings
from dpa_panel.i18n import normalise_locale, tr
from dpa_panel.i18n.dates import format_entry_date
from dpa_panel.models import StaffUser, SubjectRequest
from dpa_panel.models.types import utcnow
from dpa_panel.models.vocab import OPEN_REQUEST_STATUSES, UI_LANGUAGES
from dpa_panel.services import audit, calendar, outbox
from dpa_panel.services.audit import Actor
from dpa_panel.services.errors import ServiceError

PURPOSE = "request_reminder"
REMINDER_KINDS = ("due_soon", "overdue")
_EMAIL = re.compile(r"^[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+$")


@dataclass
class ReminderReport:
    queued: int = 0
    already_queued: int = 0
    no_recipient: int = 0


def _staff(session: Session) -> tuple[dict[int, StaffUser], list[StaffUser]]:
    accounts = list(session.scalars(select(StaffUser).where(StaffUser.is_active.is_(True))))
    by_id = {a.id: a for a in accounts}
    officers = [a for a in accounts if a.role == "compliance" and a.email]
    return by_id, officers


def _message(language: str, kind: str, request: SubjectRequest, days: int) -> tuple[str, str]:
    lang = normalise_locale(language)
    values = {
        "reference": request.reference,
        "kind": tr(lang, f"request_kind.{request.kind}"),
        "due": format_entry_date(request.due_date),
        "days": days,
        "link": f"{settings.public_url() or 'http://localhost:3000'}/requests/{request.id}",
    }
    return tr(lang, f"mail.reminder.{kind}.subject", **values), tr(
        lang, f"mail.reminder.{kind}.body", **values
    )


def queue_reminders(
    session: Session, *, today: date, now: datetime | None = None
) -> ReminderReport:
    """Queue the reminders due ``today`` (Almaty day) into the outbox (idempotent)."""
    now = now or utcnow()
    report = ReminderReport()
    cal = calendar.work_calendar(session, range(today.year - 1, today.year + 2))
    horizon = calendar.add_working_days(today, 1, cal)
    due = session.scalars(
        select(SubjectRequest)
        .where(
            SubjectRequest.status.in_(OPEN_REQUEST_STATUSES),
            SubjectRequest.due_date <= horizon,
        )
        .order_by(SubjectRequest.due_date, SubjectRequest.id)
    ).all()
    if not due:
        return report
    by_id, officers = _staff(session)
    existing = set(
        session.scalars(
            select(outbox.OutboxMessage.dedupe_key).where(outbox.OutboxMessage.purpose == PURPOSE)
        )
    )
    for request in due:
        kind = "overdue" if request.due_date < today else "due_soon"
        assignee = by_id.get(request.assignee_id) if request.assignee_id else None
        recipients = [assignee] if assignee is not None and assignee.email else officers
        if not recipients:
            report.no_recipient += 1
            continue
        days = abs(calendar.working_days_between(today, request.due_date, cal))
        for person in recipients:
            key = f"request-reminder:{request.id}:{kind}:{person.id}"
            if key in existing:
                report.already_queued += 1
                continue
            subject, body = _message(person.language, kind, request, days)
            queued = outbox.enqueue(
                session, purpose=PURPOSE, recipient=person.email, subject=subject, body=body,
                dedupe_key=key, recipient_user_id=person.id, now=now,
            )  # fmt: skip
            existing.add(key)
            if queued is None:
                report.already_queued += 1
            else:
                report.queued += 1
    session.flush()
    return report


def set_notification_settings(
    session: Session, actor: Actor, user_id: int, *, email: str, language: str
) -> StaffUser:
    """An account's own address for reminders (empty = none) and its language."""
    email = (email or "").strip()
    if email and (len(email) > 254 or not _EMAIL.match(email)):
        raise ServiceError("notify.bad_email", field="email")
    if language not in UI_LANGUAGES:
        raise ServiceError("notify.bad_language", field="language")
    audit.lock_writers(session)
    user = session.get(StaffUser, user_id, populate_existing=True)
    if user is None:
        raise ServiceError("accounts.not_found")
    user.email = email
    user.language = language
    session.add(user)
    session.flush()
    audit.record(session, actor, "account.notifications_changed", "staff_user", user.id,
                 {"language": language, "email_set": bool(email)})  # fmt: skip
    return user
