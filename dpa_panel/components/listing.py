"""Pieces shared by list pages: labelled filter controls and the pager."""

from __future__ import annotations

import reflex as rx

from dpa_panel.components.i18n import t


def labelled(label_key: str, control: rx.Component) -> rx.Component:
    return rx.vstack(
        rx.text(t(label_key), size="1", weight="medium"),
        control,
        spacing="1",
        width="100%",
        align="stretch",
    )


def pager(state, element_prefix: str = "page") -> rx.Component:
    """Previous / "N rows · page x of y" / Next for a state with page, page_count, summary."""
    return rx.hstack(
        rx.button(
            t("audit.previous"),
            on_click=state.previous_page,
            variant="soft",
            size="1",
            disabled=state.page <= 1,
            id=f"{element_prefix}-previous",
        ),
        rx.text(state.summary, size="2", id=f"{element_prefix}-summary"),
        rx.button(
            t("audit.next"),
            on_click=state.next_page,
            variant="soft",
            size="1",
            disabled=state.page >= state.page_count,
            id=f"{element_prefix}-next",
        ),
        align="center",
        spacing="3",
        wrap="wrap",
    )
