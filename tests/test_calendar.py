"""Working days, Kazakh holidays and request due dates (migration 0004 seeds)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, text
from sqlmodel import Session

from dpa_panel.db import session_scope
from dpa_panel.models import AuditEvent, MembershipApplication
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


def test_holidays_seeded_for_three_years(engine):
    with Session(engine) as s:
        for year in (2025, 2026, 2027):
            days = calendar.holidays(s, [year])
            assert len(days) == 15, year
            assert {date(year, 3, 21), date(year, 12, 16), date(year, 7, 6)} <= days
        assert date(2026, 5, 27) in calendar.holidays(s, [2026])  # Kurban Ait day 1
        rows = calendar.list_holidays(s, 2026)
        kurban = next(h for h in rows if h.day == date(2026, 5, 27))
        assert "verify" in kurban.source
        assert [h.day for h in rows] == sorted(h.day for h in rows)


def test_deadlines_seeded_with_sources(engine):
    with engine.connect() as conn:
        sql = "SELECT kind, working_days, counted_from, source FROM request_deadline"
        rows = {r.kind: r for r in conn.execute(text(sql))}
    assert {k: (r.working_days, r.counted_from) for k, r in rows.items()} == {
        "access": (3, "received"),
        "rectification": (1, "identity_verified"),
        "blocking": (1, "identity_verified"),
        "destruction": (1, "identity_verified"),
        "withdrawal": (1, "received"),
        "complaint": (15, "received"),
    }
    for kind in ("access", "rectification", "blocking", "destruction", "withdrawal"):
        assert "94-V" in rows[kind].source and "secondary source" in rows[kind].source
    assert "decision" in rows["complaint"].source


def test_add_and_remove_holiday_audited(engine):
    actor = Actor.user(make_staff(engine, "admin1", "admin"))
    transfer = date(2026, 11, 30)  # an imagined decreed weekend transfer
    with session_scope(engine) as s:
        calendar.add_holiday(s, actor, transfer, "Перенос выходного дня", "Government decree")
    with session_scope(engine) as s, pytest.raises(ServiceError) as err:
        calendar.add_holiday(s, actor, transfer, "again", "")
    assert err.value.key == "holiday.exists"
    with session_scope(engine) as s, pytest.raises(ServiceError) as err:
        calendar.add_holiday(s, actor, date(2026, 12, 1), "  ", "")
    assert err.value.key == "field.required"
    with Session(engine) as s:
        assert transfer in calendar.holidays(s, [2026])
        # Received Friday 27 Nov + 1 working day: Monday is now a holiday -> Tuesday.
        friday = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
        assert requests.compute_due_date(s, "withdrawal", friday) == date(2026, 12, 1)
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
    assert actions == ["holiday.added", "holiday.removed"]


def test_due_dates_across_weekend_holiday_and_almaty_midnight(engine):
    with Session(engine) as s:
        # Friday 20 March 2026, 10:00 Almaty: withdrawal (1 day) skips Nauryz -> 24 March.
        received = datetime(2026, 3, 20, 5, 0, tzinfo=UTC)
        assert requests.compute_due_date(s, "withdrawal", received) == date(2026, 3, 24)
        # Access, 3 working days from Friday 20 March: 24, 25, 26 March.
        assert requests.compute_due_date(s, "access", received) == date(2026, 3, 26)
        # 20:00 UTC on Thursday is already Friday in Almaty (UTC+5).
        late = datetime(2026, 11, 26, 20, 0, tzinfo=UTC)
        assert requests.compute_due_date(s, "withdrawal", late) == date(2026, 11, 30)
        # Complaint: 15 working days from Friday 27 Nov 2026 (16 Dec is a holiday).
        assert requests.compute_due_date(
            s, "complaint", datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
        ) == date(2026, 12, 21)


def test_due_date_counted_from_identity_verification(engine):
    staff = Actor.user(make_staff(engine, "aizhan"))
    app_id = submit(engine)
    with Session(engine) as s:
        subject_id = s.get(MembershipApplication, app_id).subject_id
    received = datetime(2026, 3, 16, 5, 0, tzinfo=UTC)  # Monday
    with session_scope(engine) as s:
        r = requests.create_request(
            s, staff, kind="rectification", received_at=received, channel="email",
            requester="Ахметова Айгүл", contact="aigul@mail.kz",
            now=datetime(2026, 3, 16, 6, 0, tzinfo=UTC),
        )  # fmt: skip
        request_id = r.id
        assert r.due_date == date(2026, 3, 17)  # provisional, from receipt
    verified = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)  # Friday, before Nauryz
    with session_scope(engine) as s:
        r = requests.verify_identity(
            s, staff, request_id, subject_id=subject_id, method="ID card shown", now=verified
        )
        assert r.due_date == date(2026, 3, 24)
        assert r.status == "in_progress"
