"""``/audit``: filter, page through and export the audit trail."""

from __future__ import annotations

import reflex as rx

from dpa_panel.components.export_about import about_link
from dpa_panel.components.forms import error_callout, form
from dpa_panel.components.i18n import t
from dpa_panel.components.layout import page_shell
from dpa_panel.components.listing import labelled, pager
from dpa_panel.state.audit_state import AuditViewState


def filter_form() -> rx.Component:
    return form(
        rx.grid(
            labelled(
                "audit.actor",
                rx.el.select(
                    rx.el.option(t("audit.any"), value=""),
                    rx.el.option(t("audit.actor_public"), value="public"),
                    rx.el.option(t("audit.actor_system"), value="system"),
                    rx.foreach(
                        AuditViewState.actors, lambda a: rx.el.option(a["label"], value=a["value"])
                    ),
                    name="actor",
                    id="filter-actor",
                    class_name="dpa-select",
                ),
            ),
            labelled(
                "audit.action",
                rx.el.select(
                    rx.el.option(t("audit.any"), value=""),
                    rx.foreach(
                        AuditViewState.actions,
                        lambda a: rx.el.option(a["label"], value=a["value"]),
                    ),
                    name="action",
                    id="filter-action",
                    class_name="dpa-select",
                ),
            ),
            labelled(
                "audit.entity_type",
                rx.el.select(
                    rx.el.option(t("audit.any"), value=""),
                    rx.foreach(
                        AuditViewState.entity_types,
                        lambda a: rx.el.option(a["label"], value=a["value"]),
                    ),
                    name="entity_type",
                    id="filter-entity-type",
                    class_name="dpa-select",
                ),
            ),
            labelled(
                "audit.entity_id",
                rx.input(name="entity_id", id="filter-entity-id", max_length=64, width="100%"),
            ),
            labelled(
                "audit.date_from",
                rx.input(name="date_from", type="date", id="filter-from", width="100%"),
            ),
            labelled(
                "audit.date_to", rx.input(name="date_to", type="date", id="filter-to", width="100%")
            ),
            columns=rx.breakpoints(initial="1", sm="2", lg="3"),
            spacing="3",
            width="100%",
        ),
        rx.hstack(
            rx.button(t("audit.apply"), type="submit", id="filter-apply"),
            rx.button(
                t("audit.export_csv"),
                type="button",
                variant="soft",
                on_click=AuditViewState.export_csv,
                id="audit-export",
            ),
            about_link("audit_csv"),
            margin_top="12px",
            spacing="3",
        ),
        on_submit=AuditViewState.apply_filters,
        reset_on_submit=False,
        width="100%",
    )


def _row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row["id"]),
        rx.table.cell(row["when"], white_space="nowrap"),
        rx.table.cell(row["actor"]),
        rx.table.cell(row["action"]),
        rx.table.cell(row["entity"]),
        rx.table.cell(row["ip"]),
        rx.table.cell(rx.text(row["details"], size="1", word_break="break-word")),
    )


def audit_page() -> rx.Component:
    return page_shell(
        rx.vstack(
            rx.heading(t("audit.title"), size="7", as_="h1"),
            rx.text(t("audit.lead"), color_scheme="gray", size="2"),
            filter_form(),
            error_callout(AuditViewState.filter_error, "filter-error"),
            pager(AuditViewState, "audit"),
            rx.box(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            rx.table.column_header_cell(t("audit.id")),
                            rx.table.column_header_cell(t("audit.when")),
                            rx.table.column_header_cell(t("audit.actor")),
                            rx.table.column_header_cell(t("audit.did")),
                            rx.table.column_header_cell(t("audit.record")),
                            rx.table.column_header_cell(t("audit.ip")),
                            rx.table.column_header_cell(t("audit.details")),
                        )
                    ),
                    rx.table.body(rx.foreach(AuditViewState.rows, _row)),
                    size="1",
                ),
                overflow_x="auto",
                width="100%",
            ),
            spacing="4",
            align="start",
            width="100%",
        ),
    )
