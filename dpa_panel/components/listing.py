"""Pieces shared by list pages: labelled filter controls and the pager."""

from __future__ import annotations

import reflex as rx

from dpa_panel.components.i18n import t


def labelled(label_key: str, control: rx.Component) -> rx.Component:
    """The control inside its ``<label>``: the label text is its accessible name (issue 18)."""
    return rx.el.label(
        rx.text(t(label_key), size="1", weight="medium", as_="span"),
        control,
        class_name="dpa-labelled",
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


def data_table(
    header_keys: tuple[str, ...] | list[str],
    rows,
    render_row,
    table_id: str | None = None,
) -> rx.Component:
    """A compact table with translated column headers, one ``render_row(row)`` per row, that
    scrolls sideways on a phone instead of overflowing the page."""
    return rx.box(
        rx.table.root(
            rx.table.header(
                rx.table.row(*[rx.table.column_header_cell(t(key)) for key in header_keys])
            ),
            rx.table.body(rx.foreach(rows, render_row)),
            size="1",
            id=table_id,
        ),
        overflow_x="auto",
        width="100%",
    )
