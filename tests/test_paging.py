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
