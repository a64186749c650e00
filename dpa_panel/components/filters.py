"""``folding_filters``: a list page's filter form, folded behind a "Filters" button on phones
(issue 18, point 6) so the list and its actions come first; always shown on wider screens.

The open flag is a plain UI var of the page's state (``filters_open``) toggled by a guarded
handler; the CSS classes live in ``assets/styles.css`` (< 768 px folds).
"""

from __future__ import annotations

import reflex as rx

from dpa_panel.components.i18n import t

#: CSS classes (assets/styles.css): folded on phones unless opened.
FILTERS_OPEN, FILTERS_FOLDED = "dpa-filters dpa-filters-open", "dpa-filters"


def folding_filters(form: rx.Component, is_open: rx.Var, on_toggle, prefix: str) -> rx.Component:
    """``form`` under a phone-only toggle ``#<prefix>-filters-toggle`` (``aria-expanded``,
    ``aria-controls``); the form's wrapper is ``#<prefix>-filters``."""
    return rx.fragment(
        rx.el.div(
            rx.button(
                rx.icon("sliders-horizontal", size=14),
                t("board.filters"),
                variant="soft",
                size="2",
                on_click=on_toggle,
                aria_expanded=is_open.to(str),
                aria_controls=f"{prefix}-filters",
                id=f"{prefix}-filters-toggle",
            ),
            class_name="dpa-filters-toggle",
        ),
        rx.el.div(
            form,
            id=f"{prefix}-filters",
            class_name=rx.cond(is_open, FILTERS_OPEN, FILTERS_FOLDED),
            style={"width": "100%"},
        ),
    )
