"""The true cells of one monthly release, computed from one snapshot with SQL ``GROUP BY``.

A release for the Almaty month ``M`` holds

* **flows** of ``M`` (and of its quarter when ``M`` ends one, of its year when ``M`` is
  December), each counted by the month of its own event, so a flow never changes once its
  month has closed: applications submitted; decisions, approvals and rejections (by decision
  month); memberships started and ended; consent withdrawals per purpose; data-subject
  requests received and answered on time or late (by answer month); subjects due for
  destruction and destroyed; authority disclosures per type of body;
* **stocks** at the end of ``M``: members in force, by workplace category, position level and
  education level (rare codes folded into ``other`` by this release's population), subjects,
  and subjects with and without a consent in force per purpose;
* the **median decision time** of a period (published only with at least *k* decisions);
* **implied cells** (``visible`` false): joins and leavers of ``M`` per category and consents
  granted per purpose. They are never shown; the audit models them because the difference of
  two published stocks is their difference.

No statement reads a personal column; every one groups on coded columns and stored month keys
(the request's answer month is a range on ``answered_at``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from dpa_panel.models import (
    Consent,
    DataSubject,
    DestructionAct,
    Disclosure,
    Member,
    MembershipApplication,
    SubjectRequest,
)
from dpa_panel.models.vocab import PURPOSES
from dpa_panel.services import statistics as live
from dpa_panel.services.stats_sql import _Sql

#: The single row label of a one-row table.
ALL = "all"
#: Purposes that rest on consent. Statistics is never asked (policy clause 3: anonymised
#: only), so its consent count is 0 by construction; a structural zero tells nothing, and a
#: hidden one could never be protected (its true value is known to everyone).
CONSENT_PURPOSES = tuple(p for p in PURPOSES if p != "statistics")

#: Flow tables: table -> columns (disclosures: the release's unfolded body types + total).
FLOW_TABLES: dict[str, tuple[str, ...]] = {
    "applications": ("submitted", "approved", "rejected", "decisions"),
    "memberships": ("joined", "left"),
    "withdrawals": (*CONSENT_PURPOSES, "total"),
    "requests": ("received", "answered_on_time", "answered_late"),
    "destructions": ("due", "done"),
    "disclosures": (),
}
DIMENSION_TABLES = {dim: f"members_by_{dim}" for dim in live.DIMENSIONS}
#: Tables that are not counts (never in the audit's equations).
STATISTIC_TABLES = ("decision_time",)
#: Implied (never shown) tables; the sensitive ones must stay as protected as a hidden cell.
JOINED_BY = {dim: f"joined_by_{dim}" for dim in live.DIMENSIONS}
LEFT_BY = {dim: f"left_by_{dim}" for dim in live.DIMENSIONS}
GRANTED = "consents_granted"
NEW_SUBJECTS = "new_subjects"


def month_label(key: int) -> str:
    return f"{key // 100:04d}-{key % 100:02d}"


def parse_period(text: str) -> int:
    """``"2026-03"`` -> ``202603``; ValueError for anything else."""
    text = (text or "").strip()
    if len(text) != 7 or text[4] != "-" or not (text[:4] + text[5:]).isdigit():
        raise ValueError(text)
    year, month = int(text[:4]), int(text[5:])
    if not 1 <= month <= 12 or year < 2000:
        raise ValueError(text)
    return year * 100 + month


def next_month(key: int) -> int:
    return key + 89 if key % 100 == 12 else key + 1


def previous_month(key: int) -> int:
    return key - 89 if key % 100 == 1 else key - 1


def quarter_label(key: int) -> str:
    return f"{key // 100:04d}-Q{(key % 100 - 1) // 3 + 1}"


def periods_of(month: int) -> list[tuple[str, int, int]]:
    """``(label, first key, end key)`` of the periods a release for ``month`` covers."""
    out = [(month_label(month), month, next_month(month))]
    if month % 100 % 3 == 0:
        out.append((quarter_label(month), month - 2, next_month(month)))
    if month % 100 == 12:
        out.append((f"{month // 100:04d}", month - 11, next_month(month)))
    return out


@dataclass(frozen=True)
class TrueCell:
    table: str
    period: str
    row: str
    col: str
    value: int
    visible: bool = True
    #: Counted in the audit's requirement (hidden visible cells always are).
    sensitive: bool = True

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.table, self.period, self.row, self.col)


@dataclass
class Snapshot:
    month: int
    cells: list[TrueCell] = field(default_factory=list)
    #: dimension -> {code: published code}; body type -> published type.
    folding: dict[str, dict[str, str]] = field(default_factory=dict)
    body_folding: dict[str, str] = field(default_factory=dict)

    def add(self, table: str, period: str, row: str, col: str, value: int, **kw) -> None:
        self.cells.append(TrueCell(table, period, row, col, int(value), **kw))


def _rows(session: Session, stmt) -> list[tuple]:
    return [tuple(r) for r in session.execute(stmt)]


def _by_month(session: Session, col, first: int, end: int, *where, extra=()) -> list[tuple]:
    return _rows(
        session,
        select(col, *extra, func.count())
        .where(col >= first, col < end, *where)
        .group_by(col, *extra),
    )


def _sum_range(rows: list[tuple], first: int, end: int) -> dict:
    """``{extra: count}`` of rows ``(month, *extra, n)`` whose month lies in ``[first, end)``."""
    out: dict = defaultdict(int)
    for month, *rest in rows:
        if first <= int(month) < end:
            key = tuple(rest[:-1]) if len(rest) > 1 else ()
            out[key] += int(rest[-1])
    return out


def snapshot(session: Session, month: int, k: int) -> Snapshot:
    """Every true cell of the release for ``month`` (a closed month), as of now."""
    snap = Snapshot(month)
    periods = periods_of(month)
    first = min(p[1] for p in periods)
    end = next_month(month)
    sql = _Sql(session.get_bind().dialect.name)
    a, m = MembershipApplication.__table__.c, Member.__table__.c
    c, r = Consent.__table__.c, SubjectRequest.__table__.c
    s, act, d = DataSubject.__table__.c, DestructionAct.__table__.c, Disclosure.__table__.c

    submitted = _by_month(session, a.submitted_month, first, end)
    decided = _by_month(
        session, a.decided_month, first, end, a.decision.in_(live.DECISIONS), extra=(a.decision,)
    )
    days = _by_month(
        session, a.decided_month, first, end, a.decision.in_(live.DECISIONS),
        extra=(a.decision_days,),
    )  # fmt: skip
    joined = _by_month(session, m.since_month, first, end)
    left = _by_month(session, m.ended_month, first, end)
    withdrawn = _by_month(session, c.withdrawn_month, first, end, extra=(c.purpose_code,))
    received = _by_month(session, r.received_month, first, end)
    due = _by_month(session, s.destruction_due_month, first, end)
    done = _by_month(session, act.destroyed_month, first, end)
    disclosed = _by_month(
        session, d.disclosed_month, first, end, d.status == "disclosed", d.kind == "authority",
        extra=(d.body_type,),
    )  # fmt: skip
    start_utc = live._local_start(first // 100, first % 100)
    end_utc = live._local_start(month // 100, month % 100 + 1)
    answered = _answered(session, sql, start_utc, end_utc)

    # Folding, decided on this release's own population (never changed later).
    categories = live._fetch_categories(session, end_utc)
    raw = live.RawAggregates(categories=categories)
    snap.folding = live.folded_categories(raw, k)
    population = _rows(
        session,
        select(d.body_type, func.count())
        .where(d.status == "disclosed", d.kind == "authority", d.disclosed_month < end)
        .group_by(d.body_type),
    )
    snap.body_folding = live.folded_body_types(
        live.RawAggregates(disclosure_population=population), k
    )
    bodies = [b for b in live.BODY_TYPES if snap.body_folding[b] == b]

    for label, lo, hi in periods:
        apps = {
            "submitted": _sum_range(submitted, lo, hi).get((), 0),
            **{dec: _sum_range(decided, lo, hi).get((dec,), 0) for dec in live.DECISIONS},
        }
        apps["decisions"] = apps["approved"] + apps["rejected"]
        for col, n in apps.items():
            snap.add("applications", label, ALL, col, n)
        snap.add("memberships", label, ALL, "joined", _sum_range(joined, lo, hi).get((), 0))
        snap.add("memberships", label, ALL, "left", _sum_range(left, lo, hi).get((), 0))
        per_purpose = _sum_range(withdrawn, lo, hi)
        for purpose in CONSENT_PURPOSES:
            snap.add("withdrawals", label, ALL, purpose, per_purpose.get((purpose,), 0))
        snap.add("withdrawals", label, ALL, "total", sum(per_purpose.values()))
        snap.add("requests", label, ALL, "received", _sum_range(received, lo, hi).get((), 0))
        states = _sum_range(answered, lo, hi)
        snap.add("requests", label, ALL, "answered_on_time", states.get(("on_time",), 0))
        snap.add("requests", label, ALL, "answered_late", states.get(("late",), 0))
        snap.add("destructions", label, ALL, "due", _sum_range(due, lo, hi).get((), 0))
        snap.add("destructions", label, ALL, "done", _sum_range(done, lo, hi).get((), 0))
        by_body: dict[str, int] = defaultdict(int)
        for (body,), n in _sum_range(disclosed, lo, hi).items():
            by_body[snap.body_folding.get(body, live.BODY_FOLD)] += n
        for body in bodies:
            snap.add("disclosures", label, ALL, body, by_body.get(body, 0))
        snap.add("disclosures", label, ALL, "total", sum(by_body.values()))
        histogram: dict[int, int] = defaultdict(int)
        for (n_days,), n in _sum_range(days, lo, hi).items():
            histogram[int(n_days or 0)] += n
        median = live._median_of_histogram(histogram) if histogram else 0
        snap.add("decision_time", label, ALL, "median_days", median, sensitive=False)

    _stocks(session, snap, categories, end_utc)
    return snap


def _answered(session: Session, sql: _Sql, start, end) -> list[tuple]:
    """(answer month placeholder, on_time | late, n): answered requests by Almaty month of
    ``answered_at`` in ``[start, end)``; the month is computed per answered row only."""
    r = SubjectRequest.__table__.c
    window = and_(
        r.answered_at.is_not(None),
        r.status.in_(live.ANSWERED_REQUEST_STATUSES),
        r.answered_at >= start,
        r.answered_at < end,
    )
    state = case((sql.local_date(r.answered_at) <= r.due_date, "on_time"), else_="late").label(
        "s"
    )
    month = sql.month(r.answered_at).label("m")
    rows = _rows(
        session, select(month, state, func.count()).where(window).group_by("m", "s")
    )
    return [(int(str(mon).replace("-", "")), st, n) for mon, st, n in rows]


def _stocks(session: Session, snap: Snapshot, categories: list, end_utc: datetime) -> None:
    """Stocks at the end of the month and the implied per-category flows of the month."""
    label, month = month_label(snap.month), snap.month
    in_force = sum(int(row[4]) for row in categories)
    subjects = sum(int(row[5]) for row in categories)
    snap.add("members", label, ALL, "in_force", in_force)
    snap.add("subjects", label, ALL, "subjects", subjects)
    dims = list(live.DIMENSIONS)
    s, m = DataSubject.__table__.c, Member.__table__.c
    flows = {}
    for name, col in (("joined", m.since_month), ("left", m.ended_month)):
        flows[name] = _rows(
            session,
            select(s.workplace_category, s.position_level, s.education_level, func.count())
            .select_from(Member.__table__.join(DataSubject.__table__, m.subject_id == s.id))
            .where(col == month)
            .group_by(s.workplace_category, s.position_level, s.education_level),
        )
    for index, dim in enumerate(dims):
        fold = snap.folding[dim]
        shown = [code for code in live.DIMENSIONS[dim] if fold[code] == code]
        stock: dict[str, int] = defaultdict(int)
        for row in categories:
            stock[fold.get(row[index], "other")] += int(row[4])
        for code in shown:
            snap.add(DIMENSION_TABLES[dim], label, code, "members", stock.get(code, 0))
        for name, table in (("joined", JOINED_BY[dim]), ("left", LEFT_BY[dim])):
            counts: dict[str, int] = defaultdict(int)
            for row in flows[name]:
                counts[fold.get(row[index], "other")] += int(row[3])
            for code in shown:
                snap.add(table, label, code, "n", counts.get(code, 0), visible=False)
    c = Consent.__table__.c
    end_key = next_month(month)
    holders = dict(
        _rows(
            session,
            select(c.purpose_code, func.count(func.distinct(c.subject_id)))
            .where(
                c.granted_month < end_key,
                or_(c.withdrawn_month.is_(None), c.withdrawn_month >= end_key),
            )
            .group_by(c.purpose_code),
        )
    )
    for purpose in CONSENT_PURPOSES:
        with_consent = int(holders.get(purpose, 0))
        snap.add("consents", label, purpose, "with_consent", with_consent)
        snap.add("consents", label, purpose, "without_consent", max(0, subjects - with_consent))
