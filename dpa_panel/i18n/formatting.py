"""Locale-aware formatting of dates, times and numbers, always in Asia/Almaty time."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date as _babel_date
from babel.dates import format_datetime as _babel_datetime
from babel.numbers import format_decimal

from dpa_panel import settings
from dpa_panel.i18n import normalise_locale

_TZ = ZoneInfo(settings.DISPLAY_TZ)


def to_local(value: datetime) -> datetime:
    """Convert an aware UTC timestamp to the display time zone."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: timestamps must be timezone-aware")
    return value.astimezone(_TZ)


def format_datetime(value: datetime | None, locale: str, fmt: str = "medium") -> str:
    """E.g. kk ``2025 ж. 27 мам. 14:05:00``; empty string for None."""
    if value is None:
        return ""
    return _babel_datetime(to_local(value), format=fmt, locale=normalise_locale(locale))


def format_date(value: date | datetime | None, locale: str, fmt: str = "long") -> str:
    """A calendar date; a datetime is first converted to Almaty time."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_local(value).date()
    return _babel_date(value, format=fmt, locale=normalise_locale(locale))


def format_number(value: int | float, locale: str) -> str:
    """Grouped per locale (e.g. ``100 000`` in kk/ru, ``100,000`` in en)."""
    return format_decimal(value, locale=normalise_locale(locale))
