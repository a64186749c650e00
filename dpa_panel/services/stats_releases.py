"""Frozen monthly statistics releases: compute, protect, prove, publish, read, export.

The board sees statistics only through this module's ``board_*`` readers, which select the
published columns (``value``, ``hidden``) of stored releases: nothing the board sees is ever
recomputed, so a later applicant, decision or consent changes nothing until the next release,
and that release is audited together with every earlier one (``services.stats_audit``).

Protection of a release, in order:

1. **primary**: every shown count ``1 .. k-1`` is hidden;
2. **zeros**: in a line that adds up to a total (a table's parts and its total), if any part
   is hidden, its zero parts are hidden too, so the published zeros never say "everyone in
   this group has that hidden attribute";
3. **audit**: the integer-programming audit over this release and all earlier ones; while a
   hidden or implied cell is not protected, the smallest published cell of this release that
   shares an equation with it is hidden too, and the audit runs again.

Publishing writes the release, its cells and the audit event in one transaction; an open or
future month, a month already published, a month out of order, or an audit past its time
limit is refused and writes nothing.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dpa_panel.models import MembershipApplication, StatsRelease, StatsReleaseCell
from dpa_panel.models.types import almaty_month, utcnow
from dpa_panel.services import audit as audit_log
from dpa_panel.services.errors import ServiceError
from dpa_panel.services.statistics import effective_k
from dpa_panel.services.stats_audit import AuditCell, AuditResult, AuditTimeout, audit
from dpa_panel.services.stats_release_data import (
    ALL,
    DIMENSION_TABLES,
    STATISTIC_TABLES,
    Snapshot,
    month_label,
    next_month,
    parse_period,
    snapshot,
)

Key = tuple[str, str, str, str]
DEFAULT_AUDIT_SECONDS = 120.0
#: Export columns, in order (JSON keys and the CSV header).
EXPORT_COLUMNS = ("table", "period", "row", "column", "value", "hidden")


def audit_seconds() -> float:
    """``DPA_STATS_AUDIT_SECONDS``: the audit's time limit (default 120 s)."""
    raw = os.environ.get("DPA_STATS_AUDIT_SECONDS", "").strip()
    try:
        value = float(raw) if raw else DEFAULT_AUDIT_SECONDS
    except ValueError:
        value = DEFAULT_AUDIT_SECONDS
    return value if value > 0 else DEFAULT_AUDIT_SECONDS


@dataclass
class Candidate:
    """A computed, protected release not (yet) stored."""

    period: int
    k: int
    snap: Snapshot
    hidden: set[Key] = field(default_factory=set)
    #: key -> primary | zero | complementary | few (a median of fewer than k decisions)
    reasons: dict[Key, str] = field(default_factory=dict)
    audit: AuditResult | None = None
    rounds: int = 0
    seconds: float = 0.0

    def cells(self) -> list[tuple]:
        """(table, period, row, col, value or None, hidden, visible, true value)."""
        out = []
        for cell in self.snap.cells:
            hidden = cell.key in self.hidden or not cell.visible
            out.append((*cell.key, None if hidden else cell.value, hidden, cell.visible,
                        cell.value))  # fmt: skip
        return out

    def choices(self) -> dict:
        return {
            "k": self.k,
            "folding": self.snap.folding,
            "body_folding": self.snap.body_folding,
            "hidden": {"primary": self._count("primary"), "zero": self._count("zero"),
                       "complementary": self._count("complementary"),
                       "few": self._count("few")},  # fmt: skip
            "audit": {
                "rounds": self.rounds,
                "programs": self.audit.programs if self.audit else 0,
                "constraints": self.audit.constraints if self.audit else 0,
                "dropped_identities": self.audit.dropped if self.audit else [],
                "seconds": round(self.seconds, 3),
            },
        }

    def _count(self, reason: str) -> int:
        return sum(1 for r in self.reasons.values() if r == reason)


# --- periods ---------------------------------------------------------------------------------


def current_month(now: datetime | None = None) -> int:
    return almaty_month(now or utcnow())


def latest_release(session: Session) -> StatsRelease | None:
    return session.scalars(select(StatsRelease).order_by(StatsRelease.period.desc())).first()


def first_period(session: Session) -> int | None:
    """``DPA_STATS_FIRST_PERIOD`` (``YYYY-MM``), else the month of the first application."""
    configured = os.environ.get("DPA_STATS_FIRST_PERIOD", "").strip()
    if configured:
        return parse_period(configured)
    first = session.scalar(select(func.min(MembershipApplication.submitted_month)))
    return int(first) if first else None


def due_periods(session: Session, now: datetime | None = None) -> list[int]:
    """Closed months not yet released, oldest first (releases are made in order)."""
    latest = latest_release(session)
    start = next_month(latest.period) if latest else first_period(session)
    if start is None:
        return []
    out, month, current = [], start, current_month(now)
    while month < current:
        out.append(month)
        month = next_month(month)
    return out


def check_publishable(session: Session, period: int, now: datetime | None = None) -> None:
    if period >= current_month(now):
        raise ServiceError("stats.release_open_period", period=month_label(period))
    if session.scalar(select(StatsRelease.id).where(StatsRelease.period == period)):
        raise ServiceError("stats.release_exists", period=month_label(period))
    latest = latest_release(session)
    if latest is not None and period != next_month(latest.period):
        raise ServiceError(
            "stats.release_out_of_order",
            period=month_label(period),
            expected=month_label(next_month(latest.period)),
        )


# --- protection ------------------------------------------------------------------------------


def _history(session: Session) -> dict[Key, AuditCell]:
    """Every earlier release's cells, each with the threshold it has been protected at: the
    smallest ``k`` of its own release and every later one (decision 14-stats-9)."""
    held: dict[int, int] = {}
    since = None
    for release_id, k in session.execute(
        select(StatsRelease.id, StatsRelease.k).order_by(StatsRelease.period.desc())
    ):
        since = k if since is None else min(since, k)
        held[release_id] = since
    c = StatsReleaseCell
    rows = session.execute(
        select(c.release_id, c.table_code, c.period, c.row_code, c.col_code, c.hidden,
               c.visible, c.true_value)
    )  # fmt: skip
    return {
        (t, p, r, col): AuditCell((t, p, r, col), int(true), bool(hidden), bool(visible),
                                  k=held[release_id])  # fmt: skip
        for release_id, t, p, r, col, hidden, visible, true in rows
    }


#: Lines that add up: (table, total (row, col) or None for the members tables, part filter).
def _lines(snap: Snapshot) -> Iterable[tuple[Key | None, list[Key]]]:
    by_table: dict[tuple[str, str], list] = {}
    for cell in snap.cells:
        if cell.visible:
            by_table.setdefault((cell.table, cell.period), []).append(cell.key)
    for (table, period), keys in by_table.items():
        if table in ("withdrawals", "disclosures"):
            total = (table, period, ALL, "total")
            yield total, [k for k in keys if k != total]
        elif table == "applications":
            yield (table, period, ALL, "decisions"), [
                (table, period, ALL, "approved"), (table, period, ALL, "rejected")]  # fmt: skip
        elif table in DIMENSION_TABLES.values():
            yield ("members", period, ALL, "in_force"), keys
        elif table == "consents":
            for purpose in {k[2] for k in keys}:
                yield ("subjects", period, ALL, "subjects"), [
                    k for k in keys if k[2] == purpose]  # fmt: skip


def protect(
    session: Session, period: int, k: int, *, time_limit: float | None = None
) -> Candidate:
    """Compute the release for ``period`` and hide cells until the audit proves it."""
    started = time.monotonic()
    limit = audit_seconds() if time_limit is None else time_limit
    snap = snapshot(session, period, k)
    cand = Candidate(period, k, snap)
    values = {cell.key: cell for cell in snap.cells}
    counted = [c for c in snap.cells if c.visible and c.table not in STATISTIC_TABLES]
    for cell in counted:
        if 0 < cell.value < k:
            cand.hidden.add(cell.key)
            cand.reasons[cell.key] = "primary"
    for _total, parts in _lines(snap):
        if any(p in cand.hidden for p in parts):
            for p in parts:
                if values[p].value == 0 and p not in cand.hidden:
                    cand.hidden.add(p)
                    cand.reasons[p] = "zero"
    history = _history(session)
    recheck: set[Key] | None = None
    while True:
        cells = dict(history)
        for cell in snap.cells:
            if cell.table in STATISTIC_TABLES:
                continue
            cells[cell.key] = AuditCell(cell.key, cell.value, cell.key in cand.hidden,
                                        cell.visible, cell.sensitive, new=True)  # fmt: skip
        remaining = limit - (time.monotonic() - started)
        if remaining <= 0:
            raise AuditTimeout
        result = audit(cells, k, time_limit=remaining, only_keys=recheck)
        if cand.audit is not None:
            result.programs += cand.audit.programs
        cand.audit, cand.rounds = result, cand.rounds + 1
        if not result.failing:
            break
        added = False
        recheck = set(result.failing)
        for key in result.failing:
            options = [
                n for n in result.neighbourhood[key]
                if n in values and values[n].visible and n not in cand.hidden
                and n[0] not in STATISTIC_TABLES
            ]  # fmt: skip
            if options:
                best = min(options, key=lambda n: (values[n].value, n))
                cand.hidden.add(best)
                cand.reasons[best] = "complementary"
                recheck.add(best)
                added = True
        if not added:
            raise ServiceError("stats.release_unprotectable", period=month_label(period))
    # A median is shown only next to a shown count of at least k decisions.
    for cell in snap.cells:
        if cell.table == "decision_time":
            decisions = values[("applications", cell.period, ALL, "decisions")]
            if decisions.key in cand.hidden or decisions.value < k:
                cand.hidden.add(cell.key)
                cand.reasons[cell.key] = "complementary" if decisions.value >= k else "few"
    cand.seconds = time.monotonic() - started
    return cand


def preview(session: Session, period: int | None = None, now: datetime | None = None):
    """The next due release (or ``period``), protected and proved, not stored."""
    if period is None:
        due = due_periods(session, now)
        if not due:
            return None
        period = due[0]
    else:
        check_publishable(session, period, now)
    return protect(session, period, effective_k())


def publish(
    session: Session,
    period: int,
    actor: audit_log.Actor,
    *,
    now: datetime | None = None,
    time_limit: float | None = None,
) -> StatsRelease:
    """Compute, protect, prove and store one release, with its audit event (the caller's
    transaction; on any refusal nothing is added to the session)."""
    check_publishable(session, period, now)
    try:
        cand = protect(session, period, effective_k(), time_limit=time_limit)
    except AuditTimeout as exc:
        raise ServiceError("stats.release_audit_timeout", period=month_label(period)) from exc
    release = StatsRelease(
        period=period, k=cand.k, published_at=now or utcnow(), published_by=actor.user_id,
        choices=json.dumps(cand.choices(), sort_keys=True),
    )  # fmt: skip
    session.add(release)
    session.flush()
    session.execute(
        StatsReleaseCell.__table__.insert(),
        [
            {"release_id": release.id, "table_code": t, "period": p, "row_code": r,
             "col_code": c, "value": v, "hidden": h, "visible": vis, "true_value": true}
            for t, p, r, c, v, h, vis, true in cand.cells()
        ],
    )  # fmt: skip
    audit_log.record(
        session, actor, "stats.release_published", "stats_release", release.id,
        {"period": month_label(period), "k": cand.k, **cand.choices()["hidden"],
         "audit_seconds": round(cand.seconds, 3)},
    )  # fmt: skip
    return release


# --- reading (board) -------------------------------------------------------------------------


@dataclass(frozen=True)
class ReleaseInfo:
    id: int
    period: str
    published_at: datetime
    k: int


def releases(session: Session) -> list[ReleaseInfo]:
    """Every published release, newest first."""
    rows = session.execute(
        select(StatsRelease.id, StatsRelease.period, StatsRelease.published_at, StatsRelease.k)
        .order_by(StatsRelease.period.desc())
    )
    return [ReleaseInfo(i, month_label(p), at, k) for i, p, at, k in rows]


def release_info(session: Session, release_id: int) -> ReleaseInfo | None:
    row = session.execute(
        select(StatsRelease.id, StatsRelease.period, StatsRelease.published_at, StatsRelease.k)
        .where(StatsRelease.id == release_id)
    ).first()
    return None if row is None else ReleaseInfo(row[0], month_label(row[1]), row[2], row[3])


def board_cells(session: Session, up_to_period: str) -> list[tuple]:
    """``(table, period, row, col, value or None)`` of every shown cell of every release up
    to ``up_to_period`` (``YYYY-MM``): published columns only, never ``true_value``."""
    c, r = StatsReleaseCell, StatsRelease
    stmt = (
        select(c.table_code, c.period, c.row_code, c.col_code, c.value)
        .join(r, r.id == c.release_id)
        .where(r.period <= parse_period(up_to_period), c.visible.is_(True))
    )
    return [tuple(row) for row in session.execute(stmt)]


def export_rows(session: Session, release_id: int) -> list[dict]:
    """Every shown cell of one release (table, period, row, column, value or None, hidden)."""
    c = StatsReleaseCell
    stmt = (
        select(c.table_code, c.period, c.row_code, c.col_code, c.value, c.hidden)
        .where(c.release_id == release_id, c.visible.is_(True))
        .order_by(c.table_code, c.period, c.row_code, c.col_code)
    )
    return [dict(zip(EXPORT_COLUMNS, (t, p, r, col, v, bool(h)), strict=True))
            for t, p, r, col, v, h in session.execute(stmt)]  # fmt: skip


def export_json(session: Session, release_id: int) -> bytes:
    info = release_info(session, release_id)
    if info is None:
        raise ServiceError("stats.release_unknown")
    choices = json.loads(session.get(StatsRelease, release_id).choices)
    document = {
        "release": {
            "id": info.id, "period": info.period, "k": info.k,
            "published_at": info.published_at.isoformat(),
            "folding": choices.get("folding", {}), "body_folding": choices.get("body_folding", {}),
        },
        "cells": export_rows(session, release_id),
    }  # fmt: skip
    return json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")


def release_csv(rows: list[dict]) -> bytes:
    """THE release CSV writer: header first, UTF-8 (with BOM for spreadsheets); a hidden cell
    has an empty value and ``hidden`` = ``true``. Every cell is a code or a number."""
    from dpa_panel.services import tabular

    return tabular.csv_bytes(
        EXPORT_COLUMNS,
        (
            [row["table"], row["period"], row["row"], row["column"],
             "" if row["value"] is None else row["value"],
             "true" if row["hidden"] else "false"]
            for row in rows
        ),
    )  # fmt: skip


def export_csv(session: Session, release_id: int) -> bytes:
    if release_info(session, release_id) is None:
        raise ServiceError("stats.release_unknown")
    return release_csv(export_rows(session, release_id))
