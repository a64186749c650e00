"""The Kazakhstan working-day calendar that sets data-subject request deadlines (clause 6).

A working day is a Monday-Friday that is not a day off, or a Saturday/Sunday worked by decree.
The ``holiday`` table holds four kinds of entries (``vocab.CALENDAR_ENTRY_KINDS``):

- ``holiday``: a state or national holiday of the Law "On holidays in the Republic of
  Kazakhstan" (Art. 1-3) — New Year, 8 March, Nauryz, 1, 7 and 9 May, 6 July, 30 August,
  25 October, 16 December. When one falls on a Saturday or Sunday, the next working day after
  it is a day off (the transfer rule: Law "On holidays" Art. 5, Labour Code Art. 85). These
  transferred days are **computed here**, never typed in: 2025-03-10 follows from 8 March
  2025 being a Saturday.
- ``religious``: Orthodox Christmas (7 January) and Kurban Ait day 1 are days off under the
  Labour Code Art. 84 p. 5 but are not holidays of the Law "On holidays", so the transfer rule
  does not move them. Kurban Ait's date is movable: entered ``confirmed = False`` until the
  government publishes it.
- ``day_off`` / ``working_day``: a transfer decreed for one year (Labour Code Art. 85 p. 3),
  e.g. Friday 3 January 2025 off and Sunday 5 January 2025 worked. Each needs its source; a
  ``working_day`` can only be a Saturday or Sunday and a ``day_off`` only a weekday, and both
  only in a year the calendar holds.

Migrations 0004 and 0012 seed 2025-2027; administrators add later years on ``/calendar`` and
``dpa-panel doctor`` warns when next year's holidays are missing.

Deadlines count whole Asia/Almaty calendar days: "N working days from day D" starts counting
on the day after D (received on Friday + 1 working day = Monday, unless Monday is off).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlmodel import Session

from dpa_panel.models import Holiday
from dpa_panel.models.vocab import CALENDAR_ENTRY_KINDS
from dpa_panel.services import audit
from dpa_panel.services.audit import Actor
from dpa_panel.services.errors import ServiceError
from dpa_panel.services.validation import clean_text

ENTITY = "holiday"
#: The kinds the transfer rule moves off a weekend.
TRANSFERABLE = ("holiday",)
#: Kinds that make a weekday a day off.
OFF_KINDS = ("holiday", "religious", "day_off")
#: Decreed transfers: one year's exceptions, each with its source.
OVERRIDE_KINDS = ("day_off", "working_day")
TRANSFER_SOURCE = (
    'Law "On holidays in the RK" Art. 5; Labour Code of the RK Art. 85 (transfer rule)'
)
#: Years a public holiday may be entered for (a typo like 20226 is refused).
FIRST_YEAR, LAST_YEAR = 2000, 2100


@dataclass(frozen=True)
class WorkCalendar:
    """Days off besides Saturdays and Sundays, and weekend days worked by decree."""

    days_off: frozenset[date] = field(default_factory=frozenset)
    working_weekend_days: frozenset[date] = field(default_factory=frozenset)

    def is_working(self, day: date) -> bool:
        if day in self.working_weekend_days:
            return True
        return day.weekday() < 5 and day not in self.days_off


def _as_calendar(days: WorkCalendar | Iterable[date]) -> WorkCalendar:
    """A plain set of dates is read as weekday days off (the rule tests use it)."""
    return days if isinstance(days, WorkCalendar) else WorkCalendar(frozenset(days))


def is_working_day(day: date, days: WorkCalendar | Iterable[date]) -> bool:
    return _as_calendar(days).is_working(day)


def add_working_days(start: date, n: int, days: WorkCalendar | Iterable[date]) -> date:
    """The day ``n`` working days after ``start`` (counting starts the next day).

    ``n == 0``: ``start`` itself when it is a working day, otherwise the next working day.
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    cal = _as_calendar(days)
    day = start
    if n == 0:
        while not cal.is_working(day):
            day += timedelta(days=1)
        return day
    counted = 0
    while counted < n:
        day += timedelta(days=1)
        if cal.is_working(day):
            counted += 1
    return day


def working_days_between(start: date, end: date, days: WorkCalendar | Iterable[date]) -> int:
    """Working days in ``(start, end]``; negative (working days in ``(end, start]``) when
    ``end`` is before ``start``. ``working_days_between(today, due, cal)`` is "days left":
    0 on the due day, -1 one working day after it.

    Counted by whole weeks (five weekdays each) and then corrected by the calendar's entries
    in the span, so a request two years overdue costs no more than one due tomorrow."""
    if end == start:
        return 0
    cal = _as_calendar(days)
    sign, low, high = (1, start, end) if end > start else (-1, end, start)
    weeks, rest = divmod((high - low).days, 7)
    count = weeks * 5
    day = low + timedelta(days=weeks * 7)
    for _ in range(rest):
        day += timedelta(days=1)
        if day.weekday() < 5:
            count += 1
    count -= sum(1 for d in cal.days_off if low < d <= high and d.weekday() < 5)
    count += sum(1 for d in cal.working_weekend_days if low < d <= high and d.weekday() >= 5)
    return sign * count


# --- the transfer rule -----------------------------------------------------------------------


@dataclass(frozen=True)
class Transfer:
    """A day off that the transfer rule adds: ``day`` replaces ``holiday`` (a weekend one)."""

    day: date
    holiday: date
    name: str


def transfers(entries: Iterable[Holiday]) -> list[Transfer]:
    """The days off the transfer rule adds for ``entries``: for each ``holiday`` on a Saturday
    or Sunday, in date order, the first following weekday that is neither off nor already
    taken by an earlier transfer (Nauryz 2026: Sat 21 → Tue 24, Sun 22 → Wed 25, because Mon
    23 is itself a holiday). Religious days off and decreed entries are never moved."""
    entries = list(entries)
    off = {e.day for e in entries if e.kind in OFF_KINDS}
    taken: set[date] = set()
    found: list[Transfer] = []
    for entry in sorted(entries, key=lambda e: e.day):
        if entry.kind not in TRANSFERABLE or entry.day.weekday() < 5:
            continue
        day = entry.day + timedelta(days=1)
        while day.weekday() >= 5 or day in off or day in taken:
            day += timedelta(days=1)
        taken.add(day)
        found.append(Transfer(day=day, holiday=entry.day, name=entry.name))
    return found


def _entries(session: Session, first: date, last: date) -> list[Holiday]:
    stmt = select(Holiday).where(Holiday.day >= first, Holiday.day <= last).order_by(Holiday.day)
    return list(session.scalars(stmt))


def work_calendar(session: Session, years: Iterable[int]) -> WorkCalendar:
    """The working-day calendar of ``years`` (entries, computed transfers and overrides).

    A transfer can cross into the next year (16 December on a Saturday → 18 December; 30/31
    December are never holidays, so nothing crosses further); the calendar covers the span
    from 1 January of the first year to 31 December of the last.
    """
    years = sorted(set(years))
    if not years:
        return WorkCalendar()
    entries = _entries(session, date(years[0], 1, 1), date(years[-1], 12, 31))
    off = {e.day for e in entries if e.kind in OFF_KINDS}
    off |= {t.day for t in transfers(entries)}
    working = {e.day for e in entries if e.kind == "working_day"}
    return WorkCalendar(frozenset(off), frozenset(working))


# --- what the calendar page shows ------------------------------------------------------------


@dataclass(frozen=True)
class CalendarDay:
    """One line of a year's calendar: a stored entry or a computed transfer (``kind``
    ``transfer``, not removable)."""

    day: date
    name: str
    kind: str
    source: str
    confirmed: bool
    stored: bool
    #: For a transfer: the weekend holiday it replaces.
    replaces: date | None = None


def year_days(session: Session, year: int) -> list[CalendarDay]:
    """A year's entries and the transfers that follow from them, in date order."""
    entries = _entries(session, date(year, 1, 1), date(year, 12, 31))
    days = [
        CalendarDay(e.day, e.name, e.kind, e.source, e.confirmed, True) for e in entries
    ]
    days += [
        CalendarDay(t.day, t.name, "transfer", TRANSFER_SOURCE, True, False, t.holiday)
        for t in transfers(entries)
        if t.day.year == year
    ]
    return sorted(days, key=lambda d: d.day)


def list_holidays(session: Session, year: int) -> list[Holiday]:
    """One year's stored entries, in date order."""
    return _entries(session, date(year, 1, 1), date(year, 12, 31))


def calendar_years(session: Session) -> list[int]:
    """The years whose public holidays are entered (the years the calendar holds)."""
    days = session.scalars(
        select(Holiday.day).where(Holiday.kind == "holiday").order_by(Holiday.day)
    )
    return sorted({d.year for d in days})


def has_year(session: Session, year: int) -> bool:
    return bool(
        session.scalar(
            select(func.count())
            .select_from(Holiday)
            .where(
                Holiday.kind == "holiday",
                Holiday.day >= date(year, 1, 1),
                Holiday.day <= date(year, 12, 31),
            )
        )
    )


# --- changes ---------------------------------------------------------------------------------


def add_holiday(
    session: Session,
    actor: Actor,
    day: date,
    name: str,
    source: str = "",
    *,
    kind: str = "holiday",
    confirmed: bool = True,
) -> Holiday:
    """Add a calendar entry (see the module docstring for the kinds and their rules).

    Deadlines already computed are not moved (a request's due date is fixed when it is
    computed); new computations use the day.
    """
    if kind not in CALENDAR_ENTRY_KINDS:
        raise ServiceError("calendar.bad_kind", field="kind")
    name_value, error = clean_text(name, 200, required=True)
    if error:
        raise ServiceError(error, field="name")
    source_value, error = clean_text(source, 300, required=kind in OVERRIDE_KINDS)
    if error:
        raise ServiceError(
            "calendar.source_required" if error == "field.required" else error, field="source"
        )
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ServiceError("calendar.outside_years", field="day")
    weekend = day.weekday() >= 5
    if kind == "working_day" and not weekend:
        raise ServiceError("calendar.working_day_not_weekend", field="day")
    if kind == "day_off" and weekend:
        raise ServiceError("calendar.day_off_on_weekend", field="day")
    audit.lock_writers(session)
    if kind in OVERRIDE_KINDS and not has_year(session, day.year):
        raise ServiceError("calendar.outside_years", field="day")
    if session.get(Holiday, day, populate_existing=True) is not None:
        raise ServiceError("holiday.exists", field="day")
    if kind == "day_off" and day in work_calendar(session, [day.year]).days_off:
        raise ServiceError("calendar.already_off", field="day")
    holiday = Holiday(
        day=day, name=name_value, source=source_value, kind=kind,
        confirmed=bool(confirmed) or kind in OVERRIDE_KINDS,
    )  # fmt: skip
    session.add(holiday)
    session.flush()
    audit.record(
        session, actor, "holiday.added", ENTITY, day.isoformat(),
        {"kind": kind, "confirmed": holiday.confirmed},
    )  # fmt: skip
    return holiday


def confirm_holiday(session: Session, actor: Actor, day: date, source: str) -> Holiday:
    """Mark a movable date as confirmed, with the decree or announcement that confirms it."""
    source_value, error = clean_text(source, 300, required=True)
    if error:
        raise ServiceError(
            "calendar.source_required" if error == "field.required" else error, field="source"
        )
    audit.lock_writers(session)
    holiday = session.get(Holiday, day, populate_existing=True)
    if holiday is None:
        raise ServiceError("holiday.not_found", field="day")
    if holiday.confirmed:
        raise ServiceError("calendar.already_confirmed", field="day")
    holiday.confirmed = True
    holiday.source = source_value
    session.add(holiday)
    session.flush()
    audit.record(session, actor, "holiday.confirmed", ENTITY, day.isoformat(), {})
    return holiday


def remove_holiday(session: Session, actor: Actor, day: date) -> None:
    """Remove a calendar entry (e.g. one entered by mistake)."""
    audit.lock_writers(session)
    holiday = session.get(Holiday, day, populate_existing=True)
    if holiday is None:
        raise ServiceError("holiday.not_found", field="day")
    session.delete(holiday)
    session.flush()
    audit.record(session, actor, "holiday.removed", ENTITY, day.isoformat(), {})
