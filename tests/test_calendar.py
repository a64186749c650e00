"""Working days, Kazakh holidays and request due dates (migration 0004 seeds)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlmodel import Session

from dpa_panel.db import session_scope
from dpa_panel.models import AuditEvent, Holiday, MembershipApplication, RequestDeadline
from dpa_panel.services import calendar, requests
from dpa_panel.services.audit import Actor
from dpa_panel.services.calendar import add_working_days, working_days_between
from dpa_panel.services.errors import ServiceError
from tests.pipeline_helpers import make_staff, submit

NAURYZ_2026 = {date(2026, 3, 21), date(2026, 3, 22), date(2026, 3, 23)}


def test_add_working_days_over_a_weekend():
    friday = date(2026, 11, 27)
    assert add_working_days(friday, 1, set()) == date(2026, 11, 30)
    assert add_working_days(friday, 3, set()) == date(2026, 12, 2)
    # Received on a Saturday: counting starts Sunday, the first working day is Monday.
    assert add_working_days(date(2026, 11, 28), 1, set()) == date(2026, 11, 30)


def test_add_working_days_zero_is_the_day_or_the_next_working_day():
    assert add_working_days(date(2026, 11, 27), 0, set()) == date(2026, 11, 27)
    assert add_working_days(date(2026, 11, 28), 0, set()) == date(2026, 11, 30)
    assert add_working_days(date(2026, 3, 21), 0, NAURYZ_2026) == date(2026, 3, 24)
    with pytest.raises(ValueError):
        add_working_days(date(2026, 1, 5), -1, set())


def test_add_working_days_skips_a_holiday():
    # Friday 20 March 2026 + 1 working day: Sat 21, Sun 22 and Mon 23 (Nauryz) are skipped.
    assert add_working_days(date(2026, 3, 20), 1, NAURYZ_2026) == date(2026, 3, 24)
    assert add_working_days(date(2026, 3, 20), 1, set()) == date(2026, 3, 23)


def test_working_days_between_signs():
    friday, monday = date(2026, 11, 27), date(2026, 11, 30)
    assert working_days_between(friday, monday, set()) == 1
    assert working_days_between(monday, friday, set()) == -1
    assert working_days_between(monday, monday, set()) == 0
    assert working_days_between(date(2026, 3, 20), date(2026, 3, 24), NAURYZ_2026) == 1
    assert working_days_between(date(2026, 3, 24), date(2026, 3, 20), NAURYZ_2026) == -1


def _off_weekdays(session, year: int) -> set[date]:
    """Every Monday-Friday of ``year`` that is not a working day."""
    cal = calendar.work_calendar(session, [year])
    day, found = date(year, 1, 1), set()
    while day.year == year:
        if day.weekday() < 5 and not cal.is_working(day):
            found.add(day)
        day += timedelta(days=1)
    return found


def _worked_weekends(session, year: int) -> set[date]:
    cal = calendar.work_calendar(session, [year])
    return {d for d in cal.working_weekend_days if d.year == year}


#: The official production calendars (Ministry of Labour; inform.kz, zakon.kz): every weekday
#: off, including the days the transfer rule adds and the decree of 3 January 2025.
OFFICIAL_2025 = {
    date(2025, 1, 1), date(2025, 1, 2), date(2025, 1, 3), date(2025, 1, 7), date(2025, 3, 10),
    date(2025, 3, 21), date(2025, 3, 24), date(2025, 3, 25), date(2025, 5, 1), date(2025, 5, 7),
    date(2025, 5, 9), date(2025, 6, 6), date(2025, 7, 7), date(2025, 9, 1), date(2025, 10, 27),
    date(2025, 12, 16),
}  # fmt: skip
OFFICIAL_2026 = {
    date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 7), date(2026, 3, 9), date(2026, 3, 23),
    date(2026, 3, 24), date(2026, 3, 25), date(2026, 5, 1), date(2026, 5, 7), date(2026, 5, 11),
    date(2026, 5, 27), date(2026, 7, 6), date(2026, 8, 31), date(2026, 10, 26),
    date(2026, 12, 16),
}  # fmt: skip
#: 2027 by the same rule (no decree known yet; Kurban Ait on Sunday 16 May is not moved).
RULE_2027 = {
    date(2027, 1, 1), date(2027, 1, 4), date(2027, 1, 7), date(2027, 3, 8), date(2027, 3, 22),
    date(2027, 3, 23), date(2027, 3, 24), date(2027, 5, 3), date(2027, 5, 7), date(2027, 5, 10),
    date(2027, 7, 6), date(2027, 8, 30), date(2027, 10, 25), date(2027, 12, 16),
}  # fmt: skip


def test_seeded_calendar_matches_the_official_lists(engine):
    with Session(engine) as s:
        assert _off_weekdays(s, 2025) == OFFICIAL_2025
        assert _worked_weekends(s, 2025) == {date(2025, 1, 5)}  # Sunday worked for 3 January
        assert _off_weekdays(s, 2026) == OFFICIAL_2026
        assert _worked_weekends(s, 2026) == set()
        assert _off_weekdays(s, 2027) == RULE_2027
        kurban = {h.day: h for h in calendar.list_holidays(s, 2027)}[date(2027, 5, 16)]
        assert kurban.kind == "religious" and not kurban.confirmed
        assert all(h.confirmed for h in calendar.list_holidays(s, 2026))
        # The page lists each computed transfer with the holiday it replaces.
        transfers = {d.day: d for d in calendar.year_days(s, 2026) if d.kind == "transfer"}
        assert set(transfers) == {
            date(2026, 3, 9), date(2026, 3, 24), date(2026, 3, 25), date(2026, 5, 11),
            date(2026, 8, 31), date(2026, 10, 26),
        }  # fmt: skip
        assert transfers[date(2026, 3, 25)].replaces == date(2026, 3, 22)
        assert "Art. 5" in transfers[date(2026, 3, 9)].source


def test_received_friday_before_nauryz_with_three_working_days(engine):
    """The issue's example: Friday 20 March 2026 + 3 working days is Monday 30 March."""
    received = datetime(2026, 3, 20, 5, 0, tzinfo=UTC)  # 10:00 Almaty
    with Session(engine) as s:
        assert requests.compute_due_date(s, "access", received) == date(2026, 3, 30)


def test_transfer_rule_units():
    def entry(day, kind="holiday"):
        return Holiday(day=day, name="x", kind=kind)

    # Two weekend holidays in a row followed by a weekday holiday (Nauryz 2026).
    nauryz = [entry(date(2026, 3, d)) for d in (21, 22, 23)]
    assert [(t.holiday, t.day) for t in calendar.transfers(nauryz)] == [
        (date(2026, 3, 21), date(2026, 3, 24)),
        (date(2026, 3, 22), date(2026, 3, 25)),
    ]
    # Religious days off are never moved; a decreed day off is skipped like a holiday.
    assert calendar.transfers([entry(date(2027, 5, 16), "religious")]) == []
    moved = calendar.transfers([entry(date(2026, 5, 9)), entry(date(2026, 5, 11), "day_off")])
    assert [t.day for t in moved] == [date(2026, 5, 12)]
    # A decreed working Sunday counts as a working day.
    cal = calendar.WorkCalendar(frozenset(), frozenset({date(2025, 1, 5)}))
    assert add_working_days(date(2025, 1, 3), 1, cal) == date(2025, 1, 5)


def test_deadlines_seeded_from_receipt_with_sources(engine):
    with engine.connect() as conn:
        sql = (
            "SELECT kind, working_days, counted_from, source, pause_stops_clock "
            "FROM request_deadline"
        )
        rows = {r.kind: r for r in conn.execute(text(sql))}
    assert {k: (r.working_days, r.counted_from) for k, r in rows.items()} == {
        "access": (3, "received"),
        "rectification": (1, "received"),
        "blocking": (1, "received"),
        "destruction": (1, "received"),
        "withdrawal": (1, "received"),
        "complaint": (15, "received"),
    }
    assert not any(bool(r.pause_stops_clock) for r in rows.values())
    for kind in ("access", "rectification", "blocking", "destruction", "withdrawal"):
        assert "94-V" in rows[kind].source and "secondary source" in rows[kind].source
    assert "decision" in rows["complaint"].source


def _holiday_count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT COUNT(*) FROM holiday")).scalar()


def test_add_and_remove_calendar_entries_audited(engine):
    actor = Actor.user(make_staff(engine, "admin1", "admin"))
    transfer = date(2026, 11, 30)  # an imagined decreed weekday off (Monday)
    with session_scope(engine) as s:
        calendar.add_holiday(s, actor, transfer, "Перенос выходного дня", "Government decree",
                             kind="day_off")  # fmt: skip
    before = _holiday_count(engine)
    refusals = [
        ((transfer, "again", "x"), {"kind": "day_off"}, "holiday.exists"),
        ((date(2026, 12, 1), "  ", "x"), {}, "field.required"),
        ((date(2026, 12, 1), "Decree", ""), {"kind": "day_off"}, "calendar.source_required"),
        # A Saturday or Sunday is worked only as a decreed transfer; a weekday cannot be one.
        ((date(2026, 12, 2), "Worked", "Decree"), {"kind": "working_day"},
         "calendar.working_day_not_weekend"),
        ((date(2026, 12, 5), "Off", "Decree"), {"kind": "day_off"},
         "calendar.day_off_on_weekend"),
        # Overrides only in a year the calendar holds.
        ((date(2031, 1, 4), "Worked", "Decree"), {"kind": "working_day"},
         "calendar.outside_years"),
        ((date(1999, 1, 1), "Old", "x"), {}, "calendar.outside_years"),
        ((date(2026, 3, 24), "Twice", "Decree"), {"kind": "day_off"}, "calendar.already_off"),
        ((date(2026, 12, 1), "Odd", "x"), {"kind": "carnival"}, "calendar.bad_kind"),
    ]  # fmt: skip
    for args, kwargs, key in refusals:
        with session_scope(engine) as s, pytest.raises(ServiceError) as err:
            calendar.add_holiday(s, actor, *args, **kwargs)
        assert err.value.key == key, args
    assert _holiday_count(engine) == before, "a refused entry changes nothing"
    with Session(engine) as s:
        assert transfer in calendar.work_calendar(s, [2026]).days_off
        # Received Friday 27 Nov + 1 working day: Monday is now off -> Tuesday.
        friday = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
        assert requests.compute_due_date(s, "withdrawal", friday) == date(2026, 12, 1)
    with session_scope(engine) as s:
        calendar.add_holiday(s, actor, date(2026, 12, 5), "Рабочая суббота", "Decree",
                             kind="working_day")  # fmt: skip
    with Session(engine) as s:
        # Friday 4 Dec + 1 working day is now Saturday 5 Dec.
        friday = datetime(2026, 12, 4, 6, 0, tzinfo=UTC)
        assert requests.compute_due_date(s, "withdrawal", friday) == date(2026, 12, 5)
    with session_scope(engine) as s:
        calendar.remove_holiday(s, actor, transfer)
    with session_scope(engine) as s, pytest.raises(ServiceError) as err:
        calendar.remove_holiday(s, actor, transfer)
    assert err.value.key == "holiday.not_found"
    with Session(engine) as s:
        actions = list(
            s.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.entity_type == "holiday")
                .order_by(AuditEvent.id)
            )
        )
    assert actions == ["holiday.added", "holiday.added", "holiday.removed"]


def test_movable_date_is_confirmed_with_its_source(engine):
    actor = Actor.user(make_staff(engine, "admin1", "admin"))
    kurban = date(2027, 5, 16)
    with session_scope(engine) as s, pytest.raises(ServiceError) as err:
        calendar.confirm_holiday(s, actor, kurban, " ")
    assert err.value.key == "calendar.source_required"
    with session_scope(engine) as s:
        calendar.confirm_holiday(s, actor, kurban, "Government decree of 2026 (example)")
    with session_scope(engine) as s, pytest.raises(ServiceError) as err:
        calendar.confirm_holiday(s, actor, kurban, "again")
    assert err.value.key == "calendar.already_confirmed"
    with Session(engine) as s:
        assert {h.day: h for h in calendar.list_holidays(s, 2027)}[kurban].confirmed


def test_doctor_warns_when_next_years_calendar_is_missing(engine):
    from dpa_panel.services import doctor

    with Session(engine) as s:
        assert doctor.check_calendar(s, datetime(2026, 6, 1, tzinfo=UTC)).status == doctor.PASS
        check = doctor.check_calendar(s, datetime(2027, 6, 1, tzinfo=UTC))
    assert check.status == doctor.WARN and "2028" in check.detail


def test_due_dates_across_weekend_holiday_and_almaty_midnight(engine):
    with Session(engine) as s:
        # Friday 20 March 2026, 10:00 Almaty: withdrawal (1 day) skips Nauryz and its two
        # transferred days off -> Thursday 26 March.
        received = datetime(2026, 3, 20, 5, 0, tzinfo=UTC)
        assert requests.compute_due_date(s, "withdrawal", received) == date(2026, 3, 26)
        # Access, 3 working days from Friday 20 March: 26, 27 and 30 March (24 and 25 March
        # are the transferred days off of Nauryz on Saturday 21 and Sunday 22).
        assert requests.compute_due_date(s, "access", received) == date(2026, 3, 30)
        # 20:00 UTC on Thursday is already Friday in Almaty (UTC+5).
        late = datetime(2026, 11, 26, 20, 0, tzinfo=UTC)
        assert requests.compute_due_date(s, "withdrawal", late) == date(2026, 11, 30)
        # Complaint: 15 working days from Friday 27 Nov 2026 (16 Dec is a holiday).
        assert requests.compute_due_date(
            s, "complaint", datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
        ) == date(2026, 12, 21)


def test_due_date_counted_from_identity_verification_when_so_configured(engine):
    """Receipt is the default start event; a kind set to count from identity verification
    gets a provisional due date from receipt, recomputed when the identity is verified."""
    staff = Actor.user(make_staff(engine, "aizhan"))
    app_id = submit(engine)
    with Session(engine) as s:
        subject_id = s.get(MembershipApplication, app_id).subject_id
    with session_scope(engine) as s:
        row = s.get(RequestDeadline, "rectification")
        requests.set_deadline(s, staff, "rectification", working_days=1,
                              counted_from="identity_verified", source=row.source)  # fmt: skip
    received = datetime(2026, 3, 16, 5, 0, tzinfo=UTC)  # Monday
    ids = []
    for _ in range(2):
        with session_scope(engine) as s:
            r = requests.create_request(
                s, staff, kind="rectification", received_at=received, channel="email",
                requester="Ахметова Айгүл", contact="aigul@mail.kz", subject_id=subject_id,
                now=datetime(2026, 3, 16, 6, 0, tzinfo=UTC),
            )  # fmt: skip
            ids.append(r.id)
            assert r.due_date == date(2026, 3, 17)  # provisional, from receipt
    verified = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)  # Friday, before Nauryz
    with session_scope(engine) as s:
        # The identity step uses the subject the request is already linked to.
        r = requests.verify_identity(s, staff, ids[0], method="eGov EDS", now=verified)
        assert r.due_date == date(2026, 3, 26) and r.subject_id == subject_id
        assert r.status == "in_progress"
    with session_scope(engine) as s:
        requests.set_deadline(s, staff, "rectification", working_days=1,
                              counted_from="received", source="x")  # fmt: skip
    with session_scope(engine) as s:
        r = requests.verify_identity(s, staff, ids[1], method="eGov EDS", now=verified)
        assert r.due_date == date(2026, 3, 17), "counted from receipt: verification moves nothing"


def test_fast_working_day_count_equals_counting_day_by_day():
    """The week-based count agrees with walking the calendar, over random spans and a
    calendar with holidays on weekdays and weekends and a worked Sunday."""
    import random

    rng = random.Random(16)
    off = frozenset({date(2026, 3, 8), date(2026, 3, 9), date(2026, 3, 23), date(2026, 5, 9),
                     date(2026, 5, 11), date(2027, 1, 1), date(2027, 1, 4)})  # fmt: skip
    cal = calendar.WorkCalendar(off, frozenset({date(2026, 3, 14), date(2027, 1, 3)}))

    def walk(start, end):
        low, high = sorted((start, end))
        n = sum(cal.is_working(low + timedelta(days=i)) for i in range(1, (high - low).days + 1))
        return n if end >= start else -n

    for _ in range(400):
        start = date(2026, 1, 1) + timedelta(days=rng.randint(0, 500))
        end = start + timedelta(days=rng.randint(-120, 120))
        assert working_days_between(start, end, cal) == walk(start, end), (start, end)
