"""``/applications``: board view (columns per status) and table view of the pipeline."""

from __future__ import annotations

import reflex as rx

from dpa_panel.components.filters import folding_filters
from dpa_panel.components.forms import error_callout, form
from dpa_panel.components.i18n import t
from dpa_panel.components.layout import page_shell
from dpa_panel.components.listing import labelled, pager
from dpa_panel.components.status import APPLICATION_COLORS, application_badge
from dpa_panel.models.vocab import APPLICATION_STATUSES
from dpa_panel.state.app_state import AppState
from dpa_panel.state.pipeline_state import PipelineState

SORT_KEYS = ("submitted_desc", "submitted_asc", "surname", "status")


def filter_form() -> rx.Component:
    return form(
        rx.grid(
            labelled(
                "pipeline.search",
                rx.input(
                    name="search",
                    id="pipeline-search",
                    placeholder=t("pipeline.search_hint"),
                    max_length=100,
                    width="100%",
                ),
            ),
            labelled(
                "pipeline.status",
                rx.el.select(
                    rx.el.option(t("audit.any"), value=""),
                    *[
                        rx.el.option(t(f"application_status.{s}"), value=s)
                        for s in APPLICATION_STATUSES
                    ],
                    name="status",
                    id="pipeline-status",
                    class_name="dpa-select",
                ),
            ),
            labelled(
                "pipeline.assignee",
                rx.el.select(
                    rx.el.option(t("audit.any"), value=""),
                    rx.el.option(t("pipeline.unassigned"), value="none"),
                    rx.foreach(
                        PipelineState.staff, lambda s: rx.el.option(s["label"], value=s["value"])
                    ),
                    name="assignee",
                    id="pipeline-assignee",
                    class_name="dpa-select",
                ),
            ),
            labelled("audit.date_from", rx.input(name="date_from", type="date", width="100%")),
            labelled("audit.date_to", rx.input(name="date_to", type="date", width="100%")),
            labelled(
                "pipeline.sort",
                rx.el.select(
                    *[rx.el.option(t(f"pipeline.sort_{key}"), value=key) for key in SORT_KEYS],
                    name="sort",
                    id="pipeline-sort",
                    class_name="dpa-select",
                ),
            ),
            columns=rx.breakpoints(initial="1", sm="2", lg="3"),
            spacing="3",
            width="100%",
        ),
        rx.button(t("audit.apply"), type="submit", margin_top="12px", id="pipeline-apply"),
        on_submit=PipelineState.apply_filters,
        reset_on_submit=False,
        width="100%",
    )


def _card(row: rx.Var) -> rx.Component:
    return rx.link(
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.code(row["reference"], size="1", white_space="nowrap"),
                    rx.spacer(),
                    rx.text(row["submitted"], size="1", color_scheme="gray", white_space="nowrap"),
                    width="100%",
                    wrap="wrap",
                    spacing="1",
                ),
                rx.text(row["name"], weight="medium", size="2"),
                rx.text(row["workplace"], size="1", color_scheme="gray", trim="both",
                        overflow="hidden", text_overflow="ellipsis", white_space="nowrap",
                        max_width="100%"),
                rx.cond(
                    row["assignee"] != "",
                    rx.badge(rx.icon("user", size=12), row["assignee"], variant="soft", size="1"),
                ),
                spacing="1",
                align="start",
                width="100%",
            ),
            size="1",
            width="100%",
        ),
        href="/applications/" + row["id"].to(str),
        underline="none",
        color="inherit",
        width="100%",
    )  # fmt: skip


def _column(status: str) -> rx.Component:
    """One status: its count, its newest cards in a list that scrolls within the column (so
    the page stays short), and "show more" reading the next ones from SQL."""
    count = PipelineState.counts[status].to(int)
    shown = PipelineState.columns[status].length()
    return rx.vstack(
        rx.hstack(
            rx.badge(
                t(f"application_status.{status}"),
                color_scheme=APPLICATION_COLORS[status],
                size="2",
            ),
            rx.text(count, weight="bold", id=f"count-{status}"),
            align="center",
            spacing="2",
            wrap="wrap",
        ),
        rx.vstack(
            rx.foreach(PipelineState.columns[status], _card),
            spacing="2",
            width="100%",
            max_height="min(60vh, 560px)",
            overflow_y="auto",
            padding_right="2px",
            class_name="dpa-column-cards",
            id=f"cards-{status}",
        ),
        rx.cond(
            count > shown,
            rx.vstack(
                rx.text(shown, " / ", count, size="1", color_scheme="gray"),
                rx.cond(
                    shown < 100,
                    rx.button(t("board.show_more"), size="1", variant="soft", width="100%",
                              on_click=PipelineState.show_more(status), id=f"more-{status}"),
                    rx.text(t("pipeline.more_in_table"), size="1", color_scheme="gray"),
                ),
                spacing="1",
                width="100%",
            ),
        ),  # fmt: skip
        min_width="0",
        width="100%",
        spacing="2",
        padding="8px",
        background=rx.color("gray", 2),
        border_radius="8px",
        id=f"column-{status}",
    )


def board_view() -> rx.Component:
    """All six columns side by side: they share the width on a desktop (each at least 168px;
    at 1280px all fit) and scroll sideways inside the board on narrower screens."""
    return rx.box(
        rx.grid(
            *[_column(s) for s in APPLICATION_STATUSES],
            # Phones: 156px columns, two and a bit in view (the next one shows there is more).
            grid_template_columns=rx.breakpoints(
                initial=f"repeat({len(APPLICATION_STATUSES)}, 156px)",
                sm=f"repeat({len(APPLICATION_STATUSES)}, minmax(168px, 1fr))",
            ),
            gap="8px",
            align_items="start",
        ),
        overflow_x="auto",
        width="100%",
        padding_bottom="8px",
        id="pipeline-board",
    )


def _table_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.link(row["reference"], href="/applications/" + row["id"].to(str)),
            white_space="nowrap",
        ),
        rx.table.cell(row["submitted"], white_space="nowrap"),
        rx.table.cell(row["name"]),
        rx.table.cell(row["email"]),
        rx.table.cell(row["workplace"]),
        rx.table.cell(application_badge(row["status"])),
        rx.table.cell(row["assignee"]),
    )


def _phone_row(row: rx.Var) -> rx.Component:
    return rx.box(
        _card(row),
        rx.box(application_badge(row["status"]), margin_top="4px"),
        width="100%",
    )


def table_view() -> rx.Component:
    return rx.vstack(
        pager(PipelineState, "pipeline"),
        rx.desktop_only(
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[
                            rx.table.column_header_cell(t(key))
                            for key in (
                                "pipeline.reference",
                                "pipeline.submitted",
                                "pipeline.name",
                                "subject.email",
                                "subject.workplace",
                                "pipeline.status",
                                "pipeline.assignee",
                            )
                        ]
                    )
                ),
                rx.table.body(rx.foreach(PipelineState.rows, _table_row)),
                size="1",
                id="pipeline-table",
            ),
            width="100%",
        ),
        rx.mobile_and_tablet(
            rx.vstack(rx.foreach(PipelineState.rows, _phone_row), spacing="2", width="100%"),
            width="100%",
        ),
        spacing="3",
        width="100%",
    )


def pipeline_page() -> rx.Component:
    return page_shell(
        rx.vstack(
            rx.hstack(
                rx.heading(t("pipeline.title"), size="7", as_="h1"),
                rx.spacer(),
                rx.segmented_control.root(
                    rx.segmented_control.item(t("pipeline.board"), value="board"),
                    rx.segmented_control.item(t("pipeline.table"), value="table"),
                    value=PipelineState.view,
                    on_change=PipelineState.switch_view,
                    id="pipeline-view",
                ),
                width="100%",
                align="center",
                wrap="wrap",
            ),
            # Phones: the filters fold behind a button so the board comes first.
            folding_filters(
                filter_form(), PipelineState.filters_open, PipelineState.toggle_filters, "pipeline"
            ),
            error_callout(PipelineState.filter_error, "pipeline-filter-error"),
            rx.cond(PipelineState.view == "board", board_view(), table_view()),
            rx.text(AppState.t["pipeline.audit_note"].to(str), size="1", color_scheme="gray"),
            spacing="4",
            width="100%",
            align="start",
        ),
    )
