"""Periods and the aggregate statements of the board statistics (split from
``statistics.py``): every figure starts here as a ``GROUP BY`` over coded columns and stored
month keys; Python receives aggregate rows only. ``statistics.py`` builds and suppresses the
tables from them; the release snapshot (``stats_release_data.py``) reuses the category and
consent statements.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from dpa_panel import settings
from dpa_panel.models import (
    Consent,
    DataSubject,
    DestructionAct,
    Disclosure,
    Member,
    MembershipApplication,
    SubjectRequest,
)
from dpa_panel.models.types import almaty_month, utcnow
from dpa_panel.services.stats_sql import _Sql

_TZ = ZoneInfo(settings.DISPLAY_TZ)
DECISIONS = ("approved", "rejected")
ANSWERED_REQUEST_STATUSES = ("answered", "refused")

# --- periods ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatsFilter:
    """One year, one quarter of a year, or (both ``None``) all time."""

    year: int | None = None
    quarter: int | None = None

    def __post_init__(self) -> None:
        if self.quarter is not None and (self.year is None or self.quarter not in (1, 2, 3, 4)):
            raise ValueError("quarter must be 1..4 and needs a year")


#: No filter: all time (the default of every table function).
ALL_TIME = StatsFilter()


def month_key(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def quarter_of(month: str) -> str:
    """``"2025-08"`` -> ``"2025-Q3"``."""
    return f"{month[:4]}-Q{(int(month[5:7]) - 1) // 3 + 1}"


def year_of(period: str) -> str:
    return period[:4]


def _local_start(year: int, month: int) -> datetime:
    if month > 12:
        year, month = year + 1, month - 12
    return datetime(year, month, 1, tzinfo=_TZ).astimezone(UTC)


def _months_between(first: str, last: str) -> list[str]:
    y, m = int(first[:4]), int(first[5:7])
    out = []
    while month_key(y, m) <= last:
        out.append(month_key(y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _bounds(flt: StatsFilter, *, whole_year: bool = False) -> tuple[datetime, datetime] | None:
    """UTC instants ``[start, end)`` of the filter (or of its whole year); None for all time."""
    if flt.year is None:
        return None
    if flt.quarter is None or whole_year:
        return _local_start(flt.year, 1), _local_start(flt.year, 13)
    first = 3 * (flt.quarter - 1) + 1
    return _local_start(flt.year, first), _local_start(flt.year, first + 3)


def _filter_months(flt: StatsFilter) -> list[str] | None:
    if flt.year is None:
        return None
    if flt.quarter is None:
        return [month_key(flt.year, m) for m in range(1, 13)]
    first = 3 * (flt.quarter - 1) + 1
    return [month_key(flt.year, m) for m in range(first, first + 3)]


def _filter_quarters(flt: StatsFilter) -> list[str] | None:
    if flt.year is None:
        return None
    if flt.quarter is None:
        return [f"{flt.year}-Q{q}" for q in range(1, 5)]
    return [f"{flt.year}-Q{flt.quarter}"]


def stock_end(flt: StatsFilter, now: datetime | None = None) -> datetime:
    """When "current" figures (members, consents) are taken: the end of the filter's period,
    but never later than the start of the current Almaty month (a complete month)."""
    local_now = (now or utcnow()).astimezone(_TZ)
    current = _local_start(local_now.year, local_now.month)
    bounds = _bounds(flt)
    return current if bounds is None else min(bounds[1], current)


# --- raw aggregates --------------------------------------------------------------------------


@dataclass
class RawAggregates:
    """What the database returns for one filter: aggregate rows only."""

    #: (month of submission, status, applications)
    applications: list[tuple[str, str, int]] = field(default_factory=list)
    #: (month of decision, whole days from submission, decisions)
    decisions: list[tuple[str, int, int]] = field(default_factory=list)
    #: (workplace_category, position_level, education_level, subjects, members at stock_end,
    #:  subjects at stock_end)
    categories: list[tuple[str, str, str, int, int, int]] = field(default_factory=list)
    #: (month, memberships that started / ended)
    members_new: list[tuple[str, int]] = field(default_factory=list)
    members_ended: list[tuple[str, int]] = field(default_factory=list)
    #: (purpose, subjects with a consent in force at stock_end)
    consent_stock: list[tuple[str, int]] = field(default_factory=list)
    #: (month of withdrawal, purpose, withdrawals)
    withdrawals: list[tuple[str, str, int]] = field(default_factory=list)
    #: (month received, on_time | late | open, requests)
    requests: list[tuple[str, str, int]] = field(default_factory=list)
    #: (month, subjects due for destruction / destroyed)
    destructions_due: list[tuple[str, int]] = field(default_factory=list)
    destructions_done: list[tuple[str, int]] = field(default_factory=list)
    #: (month disclosed, body_type, authority disclosures) over the filter's whole year(s)
    disclosures: list[tuple[str, str, int]] = field(default_factory=list)
    #: (body_type, authority disclosures of all time): decides which types fold
    disclosure_population: list[tuple[str, int]] = field(default_factory=list)


def _rows(session: Session, stmt) -> list[tuple]:
    return [tuple(row) for row in session.execute(stmt)]


def _month_label(key: int) -> str:
    """A stored month key ``YYYYMM`` as the period label ``"YYYY-MM"``."""
    return month_key(key // 100, key % 100)


def _keyed(rows: list[tuple]) -> list[tuple]:
    """Aggregate rows whose first value is a stored month key, labelled ``"YYYY-MM"``."""
    return [(_month_label(int(key)), *rest) for key, *rest in rows]


def _key_bounds(flt: StatsFilter, *, whole_year: bool = False) -> tuple[int, int] | None:
    """The filter (or its whole year) as stored month keys ``[start, end)``; None: all time.

    ``key >= start AND key < end`` selects exactly the rows whose timestamp lies in
    ``_bounds(flt)`` (both are Almaty month boundaries)."""
    if flt.year is None:
        return None
    if flt.quarter is None or whole_year:
        return flt.year * 100 + 1, flt.year * 100 + 13
    first = flt.year * 100 + 3 * (flt.quarter - 1) + 1
    return first, first + 3


def _in_keys(col, bounds: tuple[int, int] | None) -> list[ColumnElement]:
    if bounds is None:
        return [col.is_not(None)]
    return [col >= bounds[0], col < bounds[1]]


def _fetch_applications(session: Session, sql: _Sql, flt: StatsFilter) -> list:
    a = MembershipApplication.__table__.c
    stmt = (
        select(a.submitted_month, a.status, func.count())
        .where(*_in_keys(a.submitted_month, _key_bounds(flt)))
        .group_by(a.submitted_month, a.status)
    )
    return _keyed(_rows(session, stmt))


def _fetch_decisions(session: Session, sql: _Sql, flt: StatsFilter) -> list:
    a = MembershipApplication.__table__.c
    stmt = (
        select(a.decided_month, a.decision_days, func.count())
        .where(a.decision.in_(DECISIONS), *_in_keys(a.decided_month, _key_bounds(flt)))
        .group_by(a.decided_month, a.decision_days)
    )
    return _keyed(_rows(session, stmt))


def _fetch_categories(session: Session, end: datetime) -> list:
    """Per category triple: subjects, members in force at ``end`` and subjects created
    before ``end``. ``end`` is an Almaty month start, so each comparison with it is one on
    the stored month keys (``since`` is a local date: its month is its key)."""
    s, m = DataSubject.__table__.c, Member.__table__.c
    end_key = almaty_month(end)
    # The membership must have started before ``end`` to join at all (a subject has at most
    # one member row, so the subject counts are unchanged); with that range in the join,
    # SQLite looks members up in the covering ix_stats_member_subject.
    joined = and_(m.subject_id == s.id, m.since_month < end_key)
    in_force = and_(m.id.is_not(None), or_(m.ended_month.is_(None), m.ended_month >= end_key))
    stmt = (
        select(
            s.workplace_category,
            s.position_level,
            s.education_level,
            func.count(),
            func.coalesce(func.sum(case((in_force, 1), else_=0)), 0),
            func.coalesce(func.sum(case((s.created_month < end_key, 1), else_=0)), 0),
        )
        .select_from(DataSubject.__table__.outerjoin(Member.__table__, joined))
        .group_by(s.workplace_category, s.position_level, s.education_level)
    )
    return _rows(session, stmt)


def _fetch_members(session: Session, sql: _Sql, flt: StatsFilter) -> tuple[list, list]:
    m = Member.__table__.c
    bounds = _key_bounds(flt, whole_year=True)
    new = _rows(
        session,
        select(m.since_month, func.count())
        .where(*_in_keys(m.since_month, bounds))
        .group_by(m.since_month),
    )
    ended = _rows(
        session,
        select(m.ended_month, func.count())
        .where(*_in_keys(m.ended_month, bounds))
        .group_by(m.ended_month),
    )
    return _keyed(new), _keyed(ended)


def _fetch_consents(
    session: Session, sql: _Sql, flt: StatsFilter, end: datetime
) -> tuple[list, list]:
    c = Consent.__table__.c
    end_key = almaty_month(end)
    stock = _rows(
        session,
        select(c.purpose_code, func.count(func.distinct(c.subject_id)))
        .where(
            c.granted_month < end_key,
            or_(c.withdrawn_month.is_(None), c.withdrawn_month >= end_key),
        )
        .group_by(c.purpose_code),
    )
    withdrawals = _rows(
        session,
        select(c.withdrawn_month, c.purpose_code, func.count())
        .where(*_in_keys(c.withdrawn_month, _key_bounds(flt)))
        .group_by(c.withdrawn_month, c.purpose_code),
    )
    return stock, _keyed(withdrawals)


def _fetch_requests(session: Session, sql: _Sql, flt: StatsFilter) -> list:
    r = SubjectRequest.__table__.c
    answered = and_(r.answered_at.is_not(None), r.status.in_(ANSWERED_REQUEST_STATUSES))
    state = case(
        (and_(answered, sql.local_date(r.answered_at) <= r.due_date), "on_time"),
        (answered, "late"),
        else_="open",
    ).label("s")
    stmt = (
        select(r.received_month, state, func.count())
        .where(*_in_keys(r.received_month, _key_bounds(flt)))
        .group_by(r.received_month, "s")
    )
    return _keyed(_rows(session, stmt))


def _fetch_destructions(session: Session, sql: _Sql, flt: StatsFilter) -> tuple[list, list]:
    s = DataSubject.__table__.c
    bounds = _key_bounds(flt, whole_year=True)
    due = _rows(
        session,
        select(s.destruction_due_month, func.count())
        .where(*_in_keys(s.destruction_due_month, bounds))
        .group_by(s.destruction_due_month),
    )
    # Done: one destruction act per destroyed subject, counted when it was destroyed.
    act = DestructionAct.__table__.c
    done = _rows(
        session,
        select(act.destroyed_month, func.count())
        .where(*_in_keys(act.destroyed_month, bounds))
        .group_by(act.destroyed_month),
    )
    return _keyed(due), _keyed(done)


def _fetch_disclosures(session: Session, flt: StatsFilter) -> tuple[list, list]:
    """Authority disclosures made (status ``disclosed``) per stored month of ``disclosed_at``
    and body type, for the filter's whole year(s); and per body type over all time (the
    population the folding is decided on, the same for every filter). Both read the
    covering ``ix_stats_disclosure_disclosed`` only."""
    d = Disclosure.__table__.c
    made = (d.status == "disclosed", d.kind == "authority")
    monthly = _rows(
        session,
        select(d.disclosed_month, d.body_type, func.count())
        .where(*made, *_in_keys(d.disclosed_month, _key_bounds(flt, whole_year=True)))
        .group_by(d.disclosed_month, d.body_type),
    )
    if flt.year is None:  # all time: the population is the sum of the same rows
        totals: dict[str, int] = defaultdict(int)
        for _month, body_type, n in monthly:
            totals[body_type] += n
        population = list(totals.items())
    else:
        population = _rows(
            session,
            select(d.body_type, func.count())
            .where(*made, d.disclosed_month.is_not(None))
            .group_by(d.body_type),
        )
    return population, _keyed(monthly)


def raw_aggregates(
    session: Session, flt: StatsFilter = ALL_TIME, *, now: datetime | None = None
) -> RawAggregates:
    """Run every aggregate statement of the dashboard for ``flt`` (no suppression yet)."""
    sql = _Sql(session.get_bind().dialect.name)
    end = stock_end(flt, now)
    raw = RawAggregates()
    raw.applications = _fetch_applications(session, sql, flt)
    raw.decisions = _fetch_decisions(session, sql, flt)
    raw.categories = _fetch_categories(session, end)
    raw.members_new, raw.members_ended = _fetch_members(session, sql, flt)
    raw.consent_stock, raw.withdrawals = _fetch_consents(session, sql, flt, end)
    raw.requests = _fetch_requests(session, sql, flt)
    raw.destructions_due, raw.destructions_done = _fetch_destructions(session, sql, flt)
    raw.disclosure_population, raw.disclosures = _fetch_disclosures(session, flt)
    return raw
