"""Timestamps are timezone-aware UTC on both engines, and naive values are refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.exc import StatementError
from sqlmodel import Session, select

from dpa_panel.models import AuditEvent


def _event(at: datetime, n: int) -> AuditEvent:
    return AuditEvent(
        occurred_at=at, actor_type="system", action="test", prev_hash="0" * 64, hash=f"{n:064d}"
    )


def test_aware_times_round_trip_as_utc(engine):
    almaty = timezone(timedelta(hours=5))
    local = datetime(2026, 3, 1, 10, 30, tzinfo=almaty)
    with Session(engine) as s:
        s.add(_event(local, 1))
        s.commit()
    with Session(engine) as s:
        got = s.exec(select(AuditEvent)).one().occurred_at
    assert got.tzinfo is not None and got.utcoffset() == timedelta(0)
    assert got == datetime(2026, 3, 1, 5, 30, tzinfo=UTC)


def test_naive_times_are_refused(engine):
    with Session(engine) as s:
        s.add(_event(datetime(2026, 3, 1, 10, 30), 2))
        with pytest.raises(StatementError, match="naive datetime refused"):
            s.commit()
