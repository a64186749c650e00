"""The Kazakhstan working-day calendar that sets data-subject request deadlines (clause 6).

A working day is a Monday-Friday that is not in the ``holiday`` table. Migration 0004 seeds
the public holidays of 2025-2027 (Labour Code Art. 84); weekend transfers ("перенос", set
by government decree each year) and later years are added by administrators here.

Deadlines count whole Asia/Almaty calendar days: "N working days from day D" starts counting
on the day after D (received on Friday + 1 working day = Monday, unless Monday is a holiday).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from sqlalchemy import select
from sqlmodel import Session

from dpa_panel.models import Holiday
from dpa_panel.services import audit
from dpa_panel.services.audit import Actor
from dpa_panel.services.errors import ServiceError
from dpa_panel.services.validation import clean_text

ENTITY = "holiday"


def is_working_day(day: date, holidays: set[date]) -> bool:
    return day.weekday() < 5 and day not in holidays


def add_working_days(start: date, n: int, holidays: set[date]) -> date:
    """The day ``n`` working days after ``start`` (counting starts the next day).

    ``n == 0``: ``start`` itself when it is a working day, otherwise the next working day.
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    day = start
    if n == 0:
        while not is_working_day(day, holidays):
            day += timedelta(days=1)
        return day
    counted = 0
    while counted < n:
        day += timedelta(days=1)
        if is_working_day(day, holidays):
            counted += 1
    return day


def working_days_between(start: date, end: date, holidays: set[date]) -> int:
    """Working days in ``(start, end]``; negative (working days in ``(end, start]``) when
    ``end`` is before ``start``. ``working_days_between(today, due, h)`` is "days left":
    0 on the due day, -1 one working day after it."""
    if end == start:
        return 0
    sign, low, high = (1, start, end) if end > start else (-1, end, start)
    count = 0
    day = low
    while day < high:
        day += timedelta(days=1)
        if is_working_day(day, holidays):
            count += 1
    return sign * count


def holidays(session: Session, years: Iterable[int]) -> set[date]:
    """The holidays of ``years`` (an empty iterable gives an empty set)."""
    years = sorted(set(years))
    if not years:
        return set()
    stmt = select(Holiday.day).where(
        Holiday.day >= date(years[0], 1, 1), Holiday.day <= date(years[-1], 12, 31)
    )
    wanted = set(years)
    return {d for d in session.scalars(stmt) if d.year in wanted}


def list_holidays(session: Session, year: int) -> list[Holiday]:
    """One year's holidays, in date order."""
    stmt = (
        select(Holiday)
        .where(Holiday.day >= date(year, 1, 1), Holiday.day <= date(year, 12, 31))
        .order_by(Holiday.day)
    )
    return list(session.scalars(stmt))


def add_holiday(session: Session, actor: Actor, day: date, name: str, source: str = "") -> Holiday:
    """Add a non-working day (a holiday or a decreed weekend transfer).

    Deadlines already computed are not moved (a request's due date is fixed when it is
    computed); new computations use the day.
    """
    name_value, error = clean_text(name, 200, required=True)
    if error:
        raise ServiceError(error, field="name")
    source_value, error = clean_text(source, 300, required=False)
    if error:
        raise ServiceError(error, field="source")
    audit.lock_writers(session)
    if session.get(Holiday, day, populate_existing=True) is not None:
        raise ServiceError("holiday.exists", field="day")
    holiday = Holiday(day=day, name=name_value, source=source_value)
    session.add(holiday)
    session.flush()
    audit.record(session, actor, "holiday.added", ENTITY, day.isoformat(), {})
    return holiday


def remove_holiday(session: Session, actor: Actor, day: date) -> None:
    """Remove a non-working day (e.g. one entered by mistake)."""
    audit.lock_writers(session)
    holiday = session.get(Holiday, day, populate_existing=True)
    if holiday is None:
        raise ServiceError("holiday.not_found", field="day")
    session.delete(holiday)
    session.flush()
    audit.record(session, actor, "holiday.removed", ENTITY, day.isoformat(), {})
