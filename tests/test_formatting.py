"""Dates and numbers are shown per locale, in Asia/Almaty time."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from dpa_panel.i18n.formatting import format_date, format_datetime, format_number, to_local


def test_almaty_is_utc_plus_five():
    assert (
        to_local(datetime(2026, 1, 1, 20, 0, tzinfo=UTC)).isoformat() == "2026-01-02T01:00:00+05:00"
    )


def test_late_utc_evening_is_next_day_in_almaty():
    evening = datetime(2025, 5, 27, 20, 5, tzinfo=UTC)
    assert "28" in format_date(evening, "kk")
    assert format_date(evening, "en") == "May 28, 2025"


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("kk", "2025 ж. 27 мамыр"), ("ru", "27 мая 2025 г."), ("en", "May 27, 2025")],
)
def test_dates_per_locale(locale, expected):
    shown = format_date(date(2025, 5, 27), locale).replace("\u202f", " ").replace("\xa0", " ")
    assert shown == expected


def test_numbers_per_locale():
    assert format_number(100000, "en") == "100,000"
    assert format_number(100000, "kk").replace("\xa0", " ") == "100 000"
    assert format_number(100000, "ru").replace("\xa0", " ") == "100 000"


def test_datetime_is_local_and_unknown_locale_falls_back_to_kazakh():
    value = datetime(2025, 5, 27, 9, 5, tzinfo=UTC)
    assert "14:05" in format_datetime(value, "kk")
    assert "2:05" in format_datetime(value, "en")
    assert format_datetime(value, "xx") == format_datetime(value, "kk")
    with pytest.raises(ValueError):
        format_datetime(datetime(2025, 5, 27, 9, 5), "kk")
