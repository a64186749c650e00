"""The edition in force is the one with the latest effective date not after the day asked."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from dpa_panel.services import policy


def test_edition_in_force(engine):
    with Session(engine) as s:
        assert policy.edition_in_force(s, date(2025, 5, 26)) is None
        assert policy.edition_in_force(s, date(2025, 5, 27)).label == "v1"
        assert policy.edition_in_force(s, date(2030, 1, 1)).label == "v1"
        assert policy.edition_by_label(s, "v1").effective_date == date(2025, 5, 27)
        assert policy.edition_by_label(s, "nope") is None
        assert [e.label for e in policy.list_editions(s)] == ["v1"]
