"""``/consents``: counts per purpose, the subjects × purposes matrix, the mailing-list export."""

from __future__ import annotations

import reflex as rx

from dpa_panel.components.export_about import about_link
from dpa_panel.components.filters import folding_filters
from dpa_panel.components.forms import form
from dpa_panel.components.i18n import t
from dpa_panel.components.layout import page_shell
from dpa_panel.components.listing import labelled, pager
from dpa_panel.state.consent_state import CONSENT_PURPOSES, STATES
from dpa_panel.state.consent_state import ConsentLedgerState as C

STATE_COLORS = {"granted": "green", "withdrawn": "red", "never": "gray"}


def state_badge(value: rx.Var) -> rx.Component:
    return rx.match(
        value,
        *[(s, rx.badge(t(f"consent_state.{s}"), color_scheme=c)) for s, c in STATE_COLORS.items()],
        rx.badge(value),
    )


def _purpose_counts(purpose: str) -> rx.Component:
    counts = C.counts[purpose]
    return rx.card(
        rx.vstack(
            rx.text(t(f"purpose.{purpose}"), size="2", weight="medium"),
            rx.hstack(
                *[
                    rx.hstack(
                        state_badge(rx.Var.create(s)), rx.text(counts[s].to(int)), spacing="1"
                    )
                    for s in STATES
                ],
                spacing="3",
                wrap="wrap",
            ),
            spacing="2",
        ),
        id=f"counts-{purpose}",
    )


def filter_form() -> rx.Component:
    return form(
        rx.grid(
            labelled("pipeline.search", rx.input(name="search", id="consent-search", width="100%")),
            labelled(
                "consents.purpose",
                rx.el.select(
                    rx.el.option(t("audit.any"), value=""),
                    *[rx.el.option(t(f"purpose.{p}"), value=p) for p in CONSENT_PURPOSES],
                    name="purpose",
                    id="consent-purpose",
                    class_name="dpa-select",
                ),
            ),
            labelled(
                "consents.state",
                rx.el.select(
                    rx.el.option(t("audit.any"), value=""),
                    *[rx.el.option(t(f"consent_state.{s}"), value=s) for s in STATES],
                    name="state",
                    id="consent-state",
                    class_name="dpa-select",
                ),
            ),
            columns=rx.breakpoints(initial="1", sm="3"),
            spacing="3",
            width="100%",
        ),
        rx.hstack(
            rx.button(t("audit.apply"), type="submit", id="consent-apply"),
            rx.cond(
                C.me_role == "compliance",
                rx.button(
                    t("consents.export_mailing"),
                    type="button",
                    variant="soft",
                    on_click=C.export_mailing_list,
                    id="mailing-export",
                ),
            ),  # fmt: skip
            rx.cond(C.me_role == "compliance", about_link("mailing_csv")),
            margin_top="12px",
            spacing="3",
        ),
        on_submit=C.apply_filters,
        reset_on_submit=False,
        width="100%",
    )


def _row(r: rx.Var) -> rx.Component:
    name = rx.cond(
        C.me_role == "compliance",
        rx.link(r["name"], href="/subjects/" + r["subject_id"].to(str)),
        rx.text(r["name"]),
    )
    return rx.table.row(
        rx.table.cell(
            name,
            rx.cond(
                r["status"] == "blocked", rx.badge(t("subject_status.blocked"), color_scheme="red")
            ),
        ),
        rx.table.cell(r["email"]),
        *[rx.table.cell(state_badge(r[p])) for p in CONSENT_PURPOSES],
    )


def consents_page() -> rx.Component:
    return page_shell(
        rx.vstack(
            rx.hstack(
                rx.heading(t("consents.title"), size="7", as_="h1"),
                rx.spacer(),
                rx.cond(
                    C.me_role == "compliance",
                    rx.link(t("policies.title"), href="/policy-versions", size="2"),
                ),
                width="100%",
                align="center",
            ),
            rx.grid(
                *[_purpose_counts(p) for p in CONSENT_PURPOSES],
                columns=rx.breakpoints(initial="1", sm="2", lg="4"),
                spacing="3",
                width="100%",
            ),
            folding_filters(filter_form(), C.filters_open, C.toggle_filters, "consents"),
            pager(C, "consents"),
            rx.box(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            rx.table.column_header_cell(t("pipeline.name")),
                            rx.table.column_header_cell(t("subject.email")),
                            *[
                                rx.table.column_header_cell(t(f"consents.short_{p}"))
                                for p in CONSENT_PURPOSES
                            ],
                        )
                    ),
                    rx.table.body(rx.foreach(C.rows, _row)),
                    size="1",
                    id="consent-table",
                ),
                overflow_x="auto",
                width="100%",
            ),
            spacing="4",
            width="100%",
            align="start",
        ),
    )
