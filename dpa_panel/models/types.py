"""Column types shared by the tables.

``UTCDateTime`` guarantees the rule "timezone-aware UTC in the database" on both engines:
PostgreSQL stores ``timestamptz``; SQLite has no time zones, so the value is stored as naive
UTC and given back as aware UTC. Naive datetimes are refused on the way in, because a naive
local time silently stored as UTC is exactly the bug this type exists to prevent.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime, event
from sqlalchemy.types import TypeDecorator

from dpa_panel import settings


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timestamp that is always timezone-aware UTC in Python."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected datetime, got {type(value).__name__}")
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: store timezone-aware UTC")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# --- stored month keys (board statistics) ----------------------------------------------------

#: The calendar the board statistics bucket by (``settings.DISPLAY_TZ``).
STATS_TZ = ZoneInfo(settings.DISPLAY_TZ)
_DAY = timedelta(days=1)


def almaty_month(moment: datetime | date | None) -> int | None:
    """``YYYYMM`` of a timestamp's Asia/Almaty calendar month (a ``date``: its own month).

    The one definition of the month keys stored next to the timestamps the board statistics
    bucket by (``*_month`` columns). A naive datetime is read as UTC (how SQLite stores it).
    """
    if moment is None:
        return None
    if isinstance(moment, datetime):
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        moment = moment.astimezone(STATS_TZ)
    return moment.year * 100 + moment.month


def whole_days(start: datetime | None, end: datetime | None) -> int | None:
    """Whole days (rounded down) from ``start`` to ``end``; None when either is missing."""
    if start is None or end is None:
        return None
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    if end.tzinfo is None:
        end = end.replace(tzinfo=UTC)
    return (end - start) // _DAY


def derived_default(fn: Callable[..., Any], *sources: str) -> Callable[[Any], Any]:
    """A Core column default computing ``fn(*source values)`` from the same row's parameters.

    So a Core ``insert(table)`` that writes the timestamps (the demo and bench seeds, tests)
    gets the stored keys without naming them; ORM writes go through the models' listeners.
    (``services.prepared`` refuses INSERTs that would need it: it bypasses Core defaults.)
    """

    def default(context) -> Any:
        params = context.get_current_parameters()
        return fn(*(params.get(name) for name in sources))

    default.derived_from = sources  # type: ignore[attr-defined]
    default.derived_fn = fn  # type: ignore[attr-defined]
    return default


def derived_columns(table) -> list[tuple[Any, Callable[..., Any], tuple[str, ...]]]:
    """``(key column, fn, source column names)`` of a table's stored derived keys."""
    out = []
    for col in table.columns:
        fn = getattr(col.default, "arg", None)
        if hasattr(fn, "derived_from"):
            out.append((col, fn.derived_fn, fn.derived_from))
    return out


def month_key_field(source: str, *, fn: Callable[..., Any] = almaty_month, extra=()) -> Any:
    """A nullable integer key derived from ``source`` (and ``extra``) columns of the same row:
    ``fn(row[source], *row[extra])``. Kept by the model's ORM listener and, for Core inserts,
    by the column default (``derived_default``); not personal data (a month or a duration).
    Declare it after its source columns: Core computes defaults in column order, so a source
    that is itself defaulted (``created_at``) is known by then."""
    from sqlmodel import Field

    return Field(
        default=None,
        sa_column_kwargs={"default": derived_default(fn, source, *extra)},
        description=f"derived from {', '.join((source, *extra))} (board statistics)",
    )


def keep_derived_keys(cls: type) -> type:
    """Register ORM ``before_insert``/``before_update`` listeners on a model that recompute its
    stored derived keys (``month_key_field`` columns) from the row's own values, so any ORM
    write keeps them right. Core INSERTs get them from the column defaults; a Core UPDATE
    that changes a source timestamp must set the key too (``services.retention``'s
    destruction, the bench's bulk due dates)."""
    keys = [(col.key, fn, sources) for col, fn, sources in derived_columns(cls.__table__)]

    def keep(_mapper, _connection, target) -> None:
        for key, fn, sources in keys:
            setattr(target, key, fn(*(getattr(target, name) for name in sources)))

    event.listen(cls, "before_insert", keep)
    event.listen(cls, "before_update", keep)
    return cls
