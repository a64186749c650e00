"""Dialect-specific per-row SQL for the board statistics (split from ``statistics.py``).

The dashboard reads stored month keys; these expressions remain the definition the keys are
tested against (``tests/test_statistics_keys.py``) and serve small per-row needs (the
retention countdown, the release's request deadlines).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Integer, case, cast, extract, func, literal
from sqlalchemy.sql.elements import ColumnElement

from dpa_panel import settings

_TZ = ZoneInfo(settings.DISPLAY_TZ)


@lru_cache(maxsize=1)
def _tz_transitions() -> tuple[tuple[datetime, int], ...]:
    """``(utc instant, offset seconds)`` of Asia/Almaty from 2000 to 2050, ascending.

    SQLite has no time zones; its month expression picks the offset with a ``CASE`` over
    these few instants (the newest first, so almost every row stops at the first branch).
    """

    def offset(moment: datetime) -> int:
        return int(moment.astimezone(_TZ).utcoffset().total_seconds())

    t = datetime(2000, 1, 1, tzinfo=UTC)
    end = datetime(2050, 1, 1, tzinfo=UTC)
    current = offset(t)
    out = [(t, current)]
    while t < end:
        nxt = t + timedelta(days=1)
        if offset(nxt) != current:
            lo, hi = t, nxt
            while hi - lo > timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                lo, hi = (mid, hi) if offset(mid) == current else (lo, mid)
            current = offset(hi)
            out.append((hi.replace(microsecond=0), current))
        t = nxt
    return tuple(out)


class _Sql:
    """Dialect-specific per-row expressions: Almaty month of a timestamp, Almaty date, day
    spans. The dashboard reads stored keys instead; ``month``/``whole_days`` remain the SQL
    definition the keys are tested against (and serve small tables, e.g. the retention
    countdown)."""

    def __init__(self, dialect: str) -> None:
        self.pg = dialect == "postgresql"

    def _sqlite_modifier(self, col) -> ColumnElement:
        transitions = _tz_transitions()
        whens = [(col >= t, f"{off:+d} seconds") for t, off in reversed(transitions[1:])]
        first = f"{transitions[0][1]:+d} seconds"
        return case(*whens, else_=first) if whens else literal(first)

    def month(self, col) -> ColumnElement:
        """``'YYYY-MM'`` of a UTC timestamp in Asia/Almaty."""
        if self.pg:
            return func.to_char(func.timezone(settings.DISPLAY_TZ, col), "YYYY-MM")
        return func.strftime("%Y-%m", col, self._sqlite_modifier(col))

    def month_of_date(self, col) -> ColumnElement:
        if self.pg:
            return func.to_char(col, "YYYY-MM")
        return func.strftime("%Y-%m", col)

    def local_date(self, col) -> ColumnElement:
        if self.pg:
            return cast(func.timezone(settings.DISPLAY_TZ, col), Date)
        return func.date(col, self._sqlite_modifier(col))

    def whole_days(self, start, end) -> ColumnElement:
        if self.pg:
            return cast(func.floor(extract("epoch", end - start) / 86400), Integer)
        return cast(func.julianday(end) - func.julianday(start), Integer)
