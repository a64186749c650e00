"""The paging arithmetic every list page shares."""

from __future__ import annotations

from types import SimpleNamespace

from dpa_panel.state.paging import page_count, page_summary, turn_page


def test_page_count_is_at_least_one():
    assert [page_count(n) for n in (0, 1, 50, 51, 100, 101)] == [1, 1, 1, 2, 2, 3]


def test_turn_page_stays_within_bounds_and_reloads_only_when_it_moves():
    reloads = []
    state = SimpleNamespace(page=1, total=120)
    turn_page(state, -1, lambda: reloads.append(state.page))
    assert state.page == 1 and reloads == []
    turn_page(state, +1, lambda: reloads.append(state.page))
    turn_page(state, +1, lambda: reloads.append(state.page))
    turn_page(state, +1, lambda: reloads.append(state.page))
    assert state.page == 3 and reloads == [2, 3]


def test_summary_is_localised():
    assert page_summary("en", 1234, 2) == "1,234 in all · page 2 of 25"
    assert page_summary("en", 10, 1, "audit.summary") == "10 events · page 1 of 1"


def test_form_filters_keep_trimmed_non_empty_values_of_the_keys():
    from dpa_panel.state.paging import form_filters

    form = {"search": "  Ахмет ", "status": "", "sort": None, "other": "x", "body": "a" * 300}
    assert form_filters(form, ("search", "status", "sort", "body")) == {
        "search": "Ахмет",
        "body": "a" * 100,
    }
    assert form_filters(form, ("body",), limit=200) == {"body": "a" * 200}


def test_date_range_error_names_what_is_wrong():
    from dpa_panel.state.paging import date_range_error

    assert date_range_error({}) == ""
    assert date_range_error({"date_from": "2026-01-01", "date_to": "2026-01-31"}) == ""
    assert date_range_error({"date_from": "2026-13-01"}) == "audit.bad_date"
    assert date_range_error({"date_from": "2026-02-01", "date_to": "2026-01-31"}) == (
        "audit.bad_range"
    )
