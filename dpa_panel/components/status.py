"""Status badges with a colour per status, labels from the catalog; count cards coloured the
same way."""

from __future__ import annotations

import reflex as rx

from dpa_panel.state.app_state import AppState

APPLICATION_COLORS = {
    "submitted": "blue",
    "in_review": "amber",
    "info_requested": "orange",
    "approved": "green",
    "rejected": "red",
    "withdrawn": "gray",
}
MEMBER_COLORS = {"active": "green", "suspended": "amber", "ended": "gray"}


def status_badge(vocabulary: str, status: rx.Var, colors: dict[str, str]) -> rx.Component:
    label = AppState.t[f"{vocabulary}." + status.to(str)].to(str)
    return rx.match(
        status,
        *[(code, rx.badge(label, color_scheme=color)) for code, color in colors.items()],
        rx.badge(label),
    )


def application_badge(status: rx.Var) -> rx.Component:
    return status_badge("application_status", status, APPLICATION_COLORS)


def member_badge(status: rx.Var) -> rx.Component:
    return status_badge("member_status", status, MEMBER_COLORS)


DISCLOSURE_COLORS = {
    "received": "blue",
    "under_review": "amber",
    "approved": "green",
    "disclosed": "gray",
    "refused": "red",
}


def disclosure_badge(status: rx.Var) -> rx.Component:
    return status_badge("disclosure.status", status, DISCLOSURE_COLORS)


def count_card(label: rx.Var | str, value, color: str, element_id: str) -> rx.Component:
    """A labelled count (open requests, subjects overdue for destruction): a figure, not a
    heading, so the page keeps its title as its one h1 and a screen reader's list of headings
    does not read "0, 0, 0, 67%" (``tests/test_heading_levels.py``)."""
    return rx.card(
        rx.vstack(
            rx.text(label, size="1", color_scheme="gray"),
            rx.text(value, size="6", weight="bold", color_scheme=color, as_="p", id=element_id),
            spacing="1",
        ),
    )
