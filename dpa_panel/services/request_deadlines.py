"""Deadlines of data-subject requests (policy clause 6): the per-kind settings and the due-date
arithmetic on the Kazakhstan working-day calendar (``services.calendar``).

Each kind has (``request_deadline``): the number of working days, the event that starts the
clock (``received`` by default — every term of Law 94-V as read in the secondary sources
counts from receipt of the request; ``identity_verified`` stays selectable), the legal
citation shown beside every due date, and whether a pause stops the clock (default no; see
docs/decisions.md). A request's due date is fixed when computed; a later change of the
settings or of the calendar does not move it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlmodel import Session

from dpa_panel.models import RequestDeadline
from dpa_panel.models.vocab import DEADLINE_START_EVENTS, REQUEST_KINDS
from dpa_panel.services import audit, calendar
from dpa_panel.services.applications import local_date
from dpa_panel.services.audit import Actor
from dpa_panel.services.errors import ServiceError
from dpa_panel.services.validation import clean_text

#: The longest period the panel accepts (three months of working days; the law's are 1-15).
MAX_WORKING_DAYS = 60
COUNTED_FROM = DEADLINE_START_EVENTS


def list_deadlines(session: Session) -> list[RequestDeadline]:
    return list(session.scalars(select(RequestDeadline).order_by(RequestDeadline.kind)))


def deadline_for(session: Session, kind: str) -> RequestDeadline:
    deadline = session.get(RequestDeadline, kind)
    if deadline is None:
        raise ServiceError("request.no_deadline", field="kind")
    return deadline


def set_deadline(
    session: Session,
    actor: Actor,
    kind: str,
    *,
    working_days: int,
    counted_from: str,
    source: str,
    pause_stops_clock: bool | None = None,
) -> RequestDeadline:
    """Change a request kind's period (requests already received keep their due date).

    ``working_days`` must be 0..60 (``request.bad_deadline``: a negative or absurd length),
    the citation is required. ``pause_stops_clock=None`` keeps the current setting.
    """
    if kind not in REQUEST_KINDS:
        raise ServiceError("request.bad_kind", field="kind")
    if (
        isinstance(working_days, bool)
        or not isinstance(working_days, int)
        or not 0 <= working_days <= MAX_WORKING_DAYS
    ):
        raise ServiceError("request.bad_deadline", field="working_days")
    if counted_from not in COUNTED_FROM:
        raise ServiceError("request.bad_start_event", field="counted_from")
    source_value, error = clean_text(source, 300, required=True)
    if error:
        raise ServiceError(
            "request.citation_required" if error == "field.required" else error, field="source"
        )
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
    if pause_stops_clock is not None:
        row.pause_stops_clock = bool(pause_stops_clock)
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "request.deadline_changed",
        "request_deadline",
        kind,
        {
            "from": before,
            "to": working_days,
            "counted_from": counted_from,
            "pause_stops_clock": row.pause_stops_clock,
        },
    )
    return row


def _span(start: date, working_days: int) -> range:
    """The calendar years a count of ``working_days`` from ``start`` can reach."""
    return range(start.year, start.year + 2 + working_days // 200)


def compute_due_date(session: Session, kind: str, moment: datetime) -> date:
    """The due date of a ``kind`` request counted from ``moment`` (receipt or verification):
    the Almaty calendar day of ``moment`` plus the kind's working days."""
    deadline = deadline_for(session, kind)
    start = local_date(moment)
    cal = calendar.work_calendar(session, _span(start, deadline.working_days))
    return calendar.add_working_days(start, deadline.working_days, cal)


def extend_due_date(session: Session, due: date, working_days: int) -> date:
    """``due`` moved on by ``working_days`` (a pause that stops the clock)."""
    if working_days <= 0:
        return due
    cal = calendar.work_calendar(session, _span(due, working_days))
    return calendar.add_working_days(due, working_days, cal)


def working_days_between(session: Session, start: date, end: date) -> int:
    years = range(min(start, end).year, max(start, end).year + 1)
    return calendar.working_days_between(start, end, calendar.work_calendar(session, years))


def working_days_left(session: Session, due: date, today: date) -> int:
    """Working days from ``today`` to ``due``: 0 on the due day, negative when overdue."""
    return working_days_between(session, today, due)


@dataclass(frozen=True)
class Outcome:
    """How a closed request met its deadline: ``late_days`` working days after the due date
    (0 = on time)."""

    closed_on: date
    late_days: int

    @property
    def on_time(self) -> bool:
        return self.late_days <= 0


def closing_outcome(
    session: Session, due: date, closed_at: datetime, cal: calendar.WorkCalendar | None = None
) -> Outcome:
    """The outcome of a request closed at ``closed_at`` (its Almaty day against ``due``)."""
    closed_on = local_date(closed_at)
    if closed_on <= due:
        return Outcome(closed_on, 0)
    cal = cal or calendar.work_calendar(session, range(due.year, closed_on.year + 1))
    return Outcome(closed_on, max(1, calendar.working_days_between(due, closed_on, cal)))
