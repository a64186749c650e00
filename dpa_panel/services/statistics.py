"""Board statistics in non-personalised form only (policy clause 3, last purpose).

Rules (the full argument is in ``docs/anonymisation.md``):

* **SQL first.** Every figure starts as a ``GROUP BY`` in the database over coded columns and
  dates; Python only sees the aggregate rows (a few hundred at most), never one row per
  subject. No personal column (names, contacts, free-text workplace/position/education, notes,
  references) appears in any statement; ``tests/test_statistics.py`` inspects the SQL text.
* **Month granularity.** Periods are Asia/Almaty calendar months (``"2025-06"``) and quarters
  (``"2025-Q3"``); no exact date leaves this module. The month of each timestamp is a stored
  integer key ``YYYYMM`` next to it (``*_month``, with ``decision_days``; see
  ``models.types.almaty_month``), so every statement groups and filters on integers through a
  covering index instead of converting a time zone per row.
* **Small cells.** A count ``1 .. k-1`` is shown as ``f"<{k}"`` (``k``: ``DPA_STATS_K``, default
  5, never below 3). A true zero is shown as ``0``.
* **Complementary suppression** (``suppress_block``): inside a table with totals, more cells are
  hidden until no hidden value is pinned by the published totals, even by an attacker who
  knows the algorithm and uses the bounds ``1 <= small cell <= k-1``.
* **Differencing across filters.** Suppression is decided once per fixed *block* (a quarter for
  monthly tables, a year for quarterly tables) from that block's data alone, so every filter
  shows the same cells the same way; a coarser total (year, all time) is the sum of block
  totals and is published only when every one of them is published.
* **Rare categories** (fewer than ``k`` subjects in the whole population) fold into ``other``;
  rare types of body (fewer than ``k`` authority disclosures ever) fold into ``other_state``.
* **Destroyed subjects still count**: no query filters on the subject's status except to count
  destructions.

Tables are ``list[dict[str, int | str]]``: the first key is the row label (``period``,
``stage``, ``category`` or ``purpose``), the other values are ``int`` or the marker ``"<k"``.
Tables with totals end with a row labelled ``"total"``. A percentage whose denominator is 0
is left out of its row.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from dpa_panel import settings
from dpa_panel.models.vocab import (
    AUTHORITY_BODY_TYPES,
    EDUCATION_LEVELS,
    POSITION_LEVELS,
    PURPOSES,
    WORKPLACE_CATEGORIES,
)
from dpa_panel.services.stats_queries import (  # noqa: F401  (re-exported)
    ALL_TIME,
    ANSWERED_REQUEST_STATUSES,
    DECISIONS,
    RawAggregates,
    StatsFilter,
    _bounds,
    _fetch_applications,
    _fetch_categories,
    _fetch_consents,
    _fetch_decisions,
    _fetch_destructions,
    _fetch_disclosures,
    _fetch_members,
    _fetch_requests,
    _filter_months,
    _filter_quarters,
    _key_bounds,
    _keyed,
    _local_start,
    _month_label,
    _months_between,
    _rows,
    month_key,
    quarter_of,
    raw_aggregates,
    stock_end,
    year_of,
)
from dpa_panel.services.stats_sql import _Sql, _tz_transitions  # noqa: F401  (re-exported)
from dpa_panel.services.stats_suppression import (  # noqa: F401  (re-exported)
    TOTAL,
    Cell,
    _pct,
    _primary,
    _sum_published,
    marker,
    suppress_block,
)

#: Smallest count shown as a number (default) and the floor no setting can go under.
DEFAULT_K = 5
MIN_K = 3

Row = dict[str, Cell]
Table = list[Row]

_TZ = ZoneInfo(settings.DISPLAY_TZ)

#: Outcome columns of the applications chart, and the statuses each one collects.
OUTCOMES: dict[str, tuple[str, ...]] = {
    "submitted": ("submitted",),
    "in_progress": ("in_review", "info_requested"),
    "approved": ("approved",),
    "rejected": ("rejected",),
    "withdrawn": ("withdrawn",),
}
_OUTCOME_OF = {status: outcome for outcome, codes in OUTCOMES.items() for status in codes}
#: Outcomes that mean the association took the application up ("reviewed" in the funnel).
REVIEWED_OUTCOMES = ("in_progress", "approved", "rejected")
REQUEST_STATES = ("on_time", "late", "open")
#: Columns of the disclosures chart: the coded types of the requesting state body. Only
#: authority requests (kind ``authority``) count; transfers to third parties rest on the
#: subject's written consent and are not "authority disclosures". Rare types fold into
#: ``BODY_FOLD``.
BODY_TYPES = AUTHORITY_BODY_TYPES
BODY_FOLD = "other_state"
#: dimension name -> (subject column, closed vocabulary).
DIMENSIONS = {
    "workplace_category": WORKPLACE_CATEGORIES,
    "position_level": POSITION_LEVELS,
    "education_level": EDUCATION_LEVELS,
}


def effective_k(k: int | None = None) -> int:
    """The threshold in force: ``k`` if given, else ``DPA_STATS_K``, else 5; never below 3."""
    if k is None:
        raw = os.environ.get("DPA_STATS_K", "").strip()
        try:
            k = int(raw) if raw else DEFAULT_K
        except ValueError:
            k = DEFAULT_K
    return max(MIN_K, int(k))


# --- blocked period tables -------------------------------------------------------------------


def _period_table(
    counts: dict[tuple[str, str], int],
    cols: Sequence[str],
    periods: list[str],
    block_of,
    block_periods,
    k: int,
    *,
    row_totals: bool,
) -> tuple[Table, Row]:
    """Rows for ``periods`` (each period's block suppressed as a whole) and the totals row.

    ``counts`` holds ``(period, col) -> n`` for at least every block touching ``periods``.
    """
    blocks = sorted({block_of(p) for p in periods})
    published: dict[str, dict] = {}
    for block in blocks:
        rows = block_periods(block)
        cells = {(p, c): counts.get((p, c), 0) for p in rows for c in cols}
        published[block] = suppress_block(
            rows, cols, cells, k, row_totals=row_totals, col_totals=True
        )
    table: Table = []
    for p in periods:
        got = published[block_of(p)]
        row: Row = {"period": p}
        row.update({c: got[(p, c)] for c in cols})
        if row_totals:
            row[TOTAL] = got[(p, TOTAL)]
        table.append(row)
    totals: Row = {"period": TOTAL}
    for c in [*cols, TOTAL] if row_totals else cols:
        totals[c] = _sum_published((published[b][(TOTAL, c)] for b in blocks), k)
    return table, totals


def _quarter_months(quarter: str) -> list[str]:
    year, q = int(quarter[:4]), int(quarter[-1])
    return [month_key(year, m) for m in range(3 * q - 2, 3 * q + 1)]


def _year_quarters(year: str) -> list[str]:
    return [f"{year}-Q{q}" for q in range(1, 5)]


def _monthly(
    raw_rows: Iterable[tuple[str, str, int]],
    cols: Sequence[str],
    flt: StatsFilter,
    k: int,
    *,
    row_totals: bool = True,
    col_of=lambda c: c,
) -> Table:
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for month, col, n in raw_rows:
        mapped = col_of(col)
        if mapped in cols:
            counts[(month, mapped)] += n
    periods = _filter_months(flt)
    if periods is None:
        seen = sorted({m for m, _ in counts})
        periods = _months_between(seen[0], seen[-1]) if seen else []
    table, totals = _period_table(
        counts, cols, periods, quarter_of, _quarter_months, k, row_totals=row_totals
    )
    return [*table, totals]


def _quarterly(
    raw_rows: Iterable[tuple[str, str, int]],
    cols: Sequence[str],
    flt: StatsFilter,
    k: int,
    *,
    row_totals: bool = False,
) -> Table:
    """Quarter rows (block: the year), column totals; row totals only where the columns add
    up (each counted thing in exactly one column)."""
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for month, col, n in raw_rows:
        counts[(quarter_of(month), col)] += n
    periods = _filter_quarters(flt)
    if periods is None:
        seen = sorted({q for q, _ in counts})
        periods = (
            [
                q
                for y in range(int(seen[0][:4]), int(seen[-1][:4]) + 1)
                for q in _year_quarters(str(y))
            ]
            if seen
            else []
        )
        periods = [p for p in periods if not seen or p <= seen[-1]]
    table, totals = _period_table(
        counts, cols, periods, year_of, _year_quarters, k, row_totals=row_totals
    )
    return [*table, totals]


# --- the board's tables ----------------------------------------------------------------------


def _applications_table(raw: RawAggregates, flt: StatsFilter, k: int) -> Table:
    return _monthly(raw.applications, list(OUTCOMES), flt, k, col_of=_OUTCOME_OF.get)


def _funnel_table(applications: Table, k: int) -> Table:
    totals = applications[-1]
    submitted = totals[TOTAL]
    reviewed = _sum_published((totals[c] for c in REVIEWED_OUTCOMES), k)
    approved = totals["approved"]
    stages = [("submitted", submitted, submitted), ("reviewed", reviewed, submitted)]
    stages.append(("approved", approved, reviewed))
    table: Table = []
    for stage, count, previous in stages:
        row: Row = {"stage": stage, "applications": count}
        for key, value in (
            ("conversion_pct", _pct(count, previous, k)),
            ("of_submitted_pct", _pct(count, submitted, k)),
        ):
            if value is not None:
                row[key] = value
        table.append(row)
    return table


def _decision_time_table(raw: RawAggregates, flt: StatsFilter, k: int) -> Table:
    histogram: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for month, days, n in raw.decisions:
        histogram[quarter_of(month)][int(days)] += n
    periods = _filter_quarters(flt)
    if periods is None:
        periods = sorted(histogram)
    table: Table = []
    for quarter in periods:
        counts = histogram.get(quarter, {})
        total = sum(counts.values())
        row: Row = {"period": quarter, "decisions": _primary(total, k)}
        if total >= k:
            row["median_days"] = _median_of_histogram(counts)
        elif total > 0:
            row["median_days"] = marker(k)
        table.append(row)
    return table


def _median_of_histogram(counts: dict[int, int]) -> int:
    """The (lower) median of a histogram, in whole days: one of at least k values."""
    total = sum(counts.values())
    target = (total + 1) // 2
    seen = 0
    for value in sorted(counts):
        seen += counts[value]
        if seen >= target:
            return value
    raise ValueError("empty histogram")


def folded_categories(raw: RawAggregates, k: int) -> dict[str, dict[str, str]]:
    """dimension -> {code: published code}: codes held by fewer than k subjects become other."""
    population: dict[str, dict[str, int]] = {d: defaultdict(int) for d in DIMENSIONS}
    for wc, pl, el, subjects, _members, _existing in raw.categories:
        for dim, code in zip(DIMENSIONS, (wc, pl, el), strict=True):
            population[dim][code] += subjects
    return {
        dim: {
            code: (code if population[dim].get(code, 0) >= k or code == "other" else "other")
            for code in vocab
        }
        for dim, vocab in DIMENSIONS.items()
    }


def _members_by(raw: RawAggregates, dim: str, k: int) -> Table:
    fold = folded_categories(raw, k)[dim]
    index = list(DIMENSIONS).index(dim)
    counts: dict[str, int] = defaultdict(int)
    for row in raw.categories:
        code = row[index]
        counts[fold.get(code, "other")] += row[4]
    shown = [c for c in DIMENSIONS[dim] if fold[c] == c]
    published = suppress_block(
        ["members"], shown, {("members", c): counts.get(c, 0) for c in shown}, k, col_totals=False
    )
    table: Table = [{"category": c, "members": published[("members", c)]} for c in shown]
    table.append({"category": TOTAL, "members": published[("members", TOTAL)]})
    return table


def _consent_table(raw: RawAggregates, k: int) -> Table:
    subjects = sum(row[5] for row in raw.categories)
    stock = dict(raw.consent_stock)
    table: Table = []
    for purpose in PURPOSES:
        with_consent = stock.get(purpose, 0)
        cells = {
            ("n", "with_consent"): with_consent,
            ("n", "without"): max(0, subjects - with_consent),
        }
        got = suppress_block(["n"], ["with_consent", "without"], cells, k, col_totals=False)
        row: Row = {
            "purpose": purpose,
            "with_consent": got[("n", "with_consent")],
            "without_consent": got[("n", "without")],
            "subjects": got[("n", TOTAL)],
        }
        share = _pct(row["with_consent"], row["subjects"], k)
        if share is not None:
            row["share_pct"] = share
        table.append(row)
    return table


def _requests_table(raw: RawAggregates, flt: StatsFilter, k: int) -> Table:
    table = _monthly(raw.requests, list(REQUEST_STATES), flt, k)
    for row in table:
        answered = _sum_published((row["on_time"], row["late"]), k)
        share = _pct(row["on_time"], answered, k)
        if share is not None:
            row["on_time_pct"] = share
    return table


def folded_body_types(raw: RawAggregates, k: int) -> dict[str, str]:
    """body type -> published type: a type with fewer than k authority disclosures of all
    time becomes ``other_state`` (``BODY_FOLD``), which is always shown."""
    population: dict[str, int] = defaultdict(int)
    for body_type, n in raw.disclosure_population:
        population[body_type] += n
    return {
        code: (code if code == BODY_FOLD or population.get(code, 0) >= k else BODY_FOLD)
        for code in BODY_TYPES
    }


def _disclosures_table(raw: RawAggregates, flt: StatsFilter, k: int) -> Table:
    """Authority disclosures per quarter of ``disclosed_at`` by (folded) type of body, with
    row and column totals; each year is one suppression block."""
    fold = folded_body_types(raw, k)
    shown = [c for c in BODY_TYPES if fold[c] == c]
    rows = [(month, fold.get(body_type, BODY_FOLD), n) for month, body_type, n in raw.disclosures]
    return _quarterly(rows, shown, flt, k, row_totals=True)


def _two_series(first: list[tuple[str, int]], second: list[tuple[str, int]], a: str, b: str):
    return [(m, a, n) for m, n in first] + [(m, b, n) for m, n in second]


def build_dashboard(raw: RawAggregates, flt: StatsFilter, k: int) -> dict[str, Table]:
    """Turn the raw aggregates into the published tables (suppression and folding)."""
    applications = _applications_table(raw, flt, k)
    return {
        "applications_per_month": applications,
        "application_funnel": _funnel_table(applications, k),
        "decision_time_per_quarter": _decision_time_table(raw, flt, k),
        "members_by_workplace_category": _members_by(raw, "workplace_category", k),
        "members_by_position_level": _members_by(raw, "position_level", k),
        "members_by_education_level": _members_by(raw, "education_level", k),
        "memberships_per_quarter": _quarterly(
            _two_series(raw.members_new, raw.members_ended, "new", "ended"),
            ("new", "ended"),
            flt,
            k,
        ),
        "consent_rates": _consent_table(raw, k),
        "withdrawals_per_month": _monthly(raw.withdrawals, list(PURPOSES), flt, k),
        "requests_per_month": _requests_table(raw, flt, k),
        "destructions_per_quarter": _quarterly(
            _two_series(raw.destructions_due, raw.destructions_done, "due", "done"),
            ("due", "done"),
            flt,
            k,
        ),
        "disclosures_per_quarter": _disclosures_table(raw, flt, k),
    }


def dashboard(
    session: Session,
    flt: StatsFilter = ALL_TIME,
    k: int | None = None,
    *,
    now: datetime | None = None,
) -> dict[str, Table]:
    """Every board table for one filter (one round of aggregate statements)."""
    return build_dashboard(raw_aggregates(session, flt, now=now), flt, effective_k(k))


# One function per chart, for callers that need a single table. Each runs only its own
# statements; the tables are identical to the dashboard's.


def _one(session: Session, flt: StatsFilter, now: datetime | None = None) -> tuple[_Sql, datetime]:
    return _Sql(session.get_bind().dialect.name), stock_end(flt, now)


def applications_per_month(
    session: Session, flt: StatsFilter = ALL_TIME, k: int | None = None
) -> Table:
    """Applications per Almaty month of submission, by outcome (stacked), with totals."""
    sql, _ = _one(session, flt)
    raw = RawAggregates(applications=_fetch_applications(session, sql, flt))
    return _applications_table(raw, flt, effective_k(k))


def application_funnel(
    session: Session, flt: StatsFilter = ALL_TIME, k: int | None = None
) -> Table:
    """Submitted -> reviewed -> approved for applications submitted in the period."""
    k = effective_k(k)
    return _funnel_table(applications_per_month(session, flt, k), k)


def decision_time_per_quarter(
    session: Session, flt: StatsFilter = ALL_TIME, k: int | None = None
) -> Table:
    """Decisions (approved/rejected) per quarter of decision and their median days."""
    sql, _ = _one(session, flt)
    raw = RawAggregates(decisions=_fetch_decisions(session, sql, flt))
    return _decision_time_table(raw, flt, effective_k(k))


def members_by_category(
    session: Session,
    dimension: str,
    flt: StatsFilter = ALL_TIME,
    k: int | None = None,
    *,
    now: datetime | None = None,
) -> Table:
    """Members in force at ``stock_end`` by ``workplace_category``, ``position_level`` or
    ``education_level`` (rare codes folded into ``other``)."""
    if dimension not in DIMENSIONS:
        raise ValueError(f"unknown dimension {dimension!r}")
    _, end = _one(session, flt, now)
    raw = RawAggregates(categories=_fetch_categories(session, end))
    return _members_by(raw, dimension, effective_k(k))


def memberships_per_quarter(
    session: Session, flt: StatsFilter = ALL_TIME, k: int | None = None
) -> Table:
    """Memberships that started (``since``) and ended (``ended_at``) per quarter."""
    sql, _ = _one(session, flt)
    new, ended = _fetch_members(session, sql, flt)
    return _quarterly(
        _two_series(new, ended, "new", "ended"), ("new", "ended"), flt, effective_k(k)
    )


def consent_rates(
    session: Session,
    flt: StatsFilter = ALL_TIME,
    k: int | None = None,
    *,
    now: datetime | None = None,
) -> Table:
    """Per purpose: subjects with a consent in force at ``stock_end``, and their share."""
    sql, end = _one(session, flt, now)
    stock, _ = _fetch_consents(session, sql, StatsFilter(), end)
    raw = RawAggregates(consent_stock=stock, categories=_fetch_categories(session, end))
    return _consent_table(raw, effective_k(k))


def withdrawals_per_month(
    session: Session, flt: StatsFilter = ALL_TIME, k: int | None = None
) -> Table:
    """Consent withdrawals per Almaty month, by purpose, with totals."""
    sql, end = _one(session, flt)
    _, withdrawals = _fetch_consents(session, sql, flt, end)
    return _monthly(withdrawals, list(PURPOSES), flt, effective_k(k))


def requests_per_month(
    session: Session, flt: StatsFilter = ALL_TIME, k: int | None = None
) -> Table:
    """Data-subject requests per month received: answered on time, late, still open."""
    sql, _ = _one(session, flt)
    raw = RawAggregates(requests=_fetch_requests(session, sql, flt))
    return _requests_table(raw, flt, effective_k(k))


def destructions_per_quarter(
    session: Session, flt: StatsFilter = ALL_TIME, k: int | None = None
) -> Table:
    """Subjects due for destruction (``destruction_due_at``) and destroyed (destruction
    acts by ``destroyed_at``), per quarter."""
    sql, _ = _one(session, flt)
    due, done = _fetch_destructions(session, sql, flt)
    return _quarterly(_two_series(due, done, "due", "done"), ("due", "done"), flt, effective_k(k))


def disclosures_per_quarter(
    session: Session, flt: StatsFilter = ALL_TIME, k: int | None = None
) -> Table:
    """Authority disclosures made (status ``disclosed``) per Almaty quarter of
    ``disclosed_at``, by type of body (rare types folded into ``other_state``), with totals."""
    population, monthly = _fetch_disclosures(session, flt)
    raw = RawAggregates(disclosures=monthly, disclosure_population=population)
    return _disclosures_table(raw, flt, effective_k(k))


# --- downloads -------------------------------------------------------------------------------


def _download_columns(table: Table) -> list[str]:
    columns: list[str] = []
    for row in table:
        columns.extend(key for key in row if key not in columns)
    return columns


def _download_rows(table: Table, columns: list[str]) -> list[list]:
    return [[row.get(c, "") for c in columns] for row in table]


def to_csv_bytes(table: Table) -> bytes:
    """The table exactly as shown, as UTF-8 CSV (BOM, CRLF) through the panel's one writer
    (``services.tabular``)."""
    from dpa_panel.services import tabular

    columns = _download_columns(table)
    return tabular.csv_bytes(columns, _download_rows(table, columns))


def to_xlsx_bytes(table: Table, sheet: str = "statistics") -> bytes:
    """The table exactly as shown, as one XLSX sheet (counts stay numbers, text is text)."""
    from dpa_panel.services import tabular

    columns = _download_columns(table)
    return tabular.xlsx_bytes(columns, _download_rows(table, columns), sheet=sheet)


__all__ = [
    "DEFAULT_K",
    "MIN_K",
    "TOTAL",
    "RawAggregates",
    "StatsFilter",
    "application_funnel",
    "applications_per_month",
    "build_dashboard",
    "consent_rates",
    "dashboard",
    "decision_time_per_quarter",
    "destructions_per_quarter",
    "disclosures_per_quarter",
    "effective_k",
    "folded_body_types",
    "folded_categories",
    "marker",
    "members_by_category",
    "memberships_per_quarter",
    "raw_aggregates",
    "requests_per_month",
    "stock_end",
    "suppress_block",
    "to_csv_bytes",
    "to_xlsx_bytes",
    "withdrawals_per_month",
]


def filter_from_strings(year: str, quarter: str) -> StatsFilter:
    """A filter from form values; anything unparsable means "no filter" for that part."""
    y = int(year) if str(year).isdigit() else None
    q = int(quarter) if str(quarter).isdigit() and y else None
    return StatsFilter(year=y, quarter=q if q in (1, 2, 3, 4) else None)
