"""``/retention``: countdown buckets, the 24-month chart, legal holds, sweep, destruction acts."""

from __future__ import annotations

import reflex as rx

from dpa_panel.components.forms import error_callout, form, notice_callout
from dpa_panel.components.i18n import t
from dpa_panel.components.layout import page_shell
from dpa_panel.components.listing import data_table, labelled, pager
from dpa_panel.state.app_state import AppState
from dpa_panel.state.retention_state import BUCKETS
from dpa_panel.state.retention_state import RetentionState as R

BUCKET_COLORS = {"overdue": "red", "30": "amber", "90": "blue", "later": "gray"}


def _bucket(bucket: str) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(t(f"retention.bucket_{bucket}"), size="1", color_scheme="gray"),
            rx.heading(R.buckets[bucket], size="6", color_scheme=BUCKET_COLORS[bucket],
                       id=f"bucket-{bucket}"),
            spacing="1",
        ),
    )  # fmt: skip


def due_chart() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(t("retention.per_month"), size="3", as_="h2"),
            rx.recharts.responsive_container(
                rx.recharts.bar_chart(
                    rx.recharts.cartesian_grid(stroke_dasharray="3 3"),
                    rx.recharts.x_axis(data_key="month", tick={"fontSize": 10}),
                    rx.recharts.y_axis(allow_decimals=False, tick={"fontSize": 10}, width=36),
                    rx.recharts.graphing_tooltip(),
                    rx.recharts.bar(
                        data_key="count",
                        name=t("retention.due_count"),
                        fill="#dc2626",
                        is_animation_active=False,
                    ),
                    data=R.per_month,
                ),
                width="100%",
                height=220,
            ),  # fmt: skip
            width="100%",
        ),
        width="100%",
    )


def filter_form() -> rx.Component:
    return form(
        rx.grid(
            labelled(
                "pipeline.search", rx.input(name="search", id="retention-search", width="100%")
            ),
            labelled(
                "retention.bucket",
                rx.el.select(
                    rx.el.option(t("audit.any"), value=""),
                    *[rx.el.option(t(f"retention.bucket_{b}"), value=b) for b in BUCKETS],
                    name="bucket",
                    id="retention-bucket",
                    class_name="dpa-select",
                ),
            ),
            rx.button(t("audit.apply"), type="submit", id="retention-apply", margin_top="18px"),
            columns=rx.breakpoints(initial="1", sm="3"),
            spacing="3",
            width="100%",
            align="end",
        ),
        on_submit=R.apply_filters,
        reset_on_submit=False,
        width="100%",
    )


def _label(vocabulary: str, code: rx.Var) -> rx.Var:
    return AppState.t[f"{vocabulary}." + code.to(str)].to(str)


def _row(r: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(r["name"], href="/subjects/" + r["subject_id"].to(str))),
        rx.table.cell(r["due"], white_space="nowrap"),
        rx.table.cell(rx.badge(r["days_left"], color_scheme=r["tone"].to(str))),
        rx.table.cell(rx.cond(r["purpose"] != "", _label("purpose", r["purpose"]), "")),
        rx.table.cell(rx.cond(r["event"] != "", _label("retention.event", r["event"]), "")),
        rx.table.cell(
            rx.cond(r["held"] != "", rx.badge(t("retention.on_hold"), color_scheme="purple")),
            rx.cond(r["blocked"] != "", rx.badge(t("subject_status.blocked"), color_scheme="red")),
        ),
    )


def hold_form() -> rx.Component:
    return rx.card(
        form(
            rx.vstack(
                rx.heading(t("retention.place_hold"), size="4", as_="h2"),
                labelled(
                    "retention.subject_id",
                    rx.input(name="subject_id", id="hold-subject", width="100%"),
                ),
                labelled("subject.reason", rx.input(name="reason", id="hold-reason", width="100%")),
                labelled(
                    "retention.hold_ends",
                    rx.input(name="ends_on", type="date", id="hold-ends", width="100%"),
                ),
                rx.button(t("retention.place_hold"), type="submit", id="hold-submit"),
                spacing="2",
                width="100%",
            ),  # fmt: skip
            on_submit=R.place_hold,
            reset_on_submit=True,
        ),
        width="100%",
    )


def sweep_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(t("retention.sweep"), size="4", as_="h2"),
            rx.text(t("retention.sweep_note"), size="1", color_scheme="gray"),
            rx.cond(
                R.confirming,
                rx.vstack(
                    rx.text(
                        t("retention.preview_count"),
                        " ",
                        R.preview_total,
                        weight="bold",
                        id="sweep-count",
                    ),
                    rx.foreach(
                        R.preview,
                        lambda d: rx.text(
                            "#",
                            d["subject_id"],
                            " · ",
                            d["due"],
                            " · ",
                            _label("purpose", d["purpose"]),
                            size="1",
                        ),
                    ),
                    rx.hstack(
                        rx.button(
                            t("retention.confirm_sweep"),
                            color_scheme="red",
                            on_click=R.run_sweep,
                            id="sweep-confirm",
                        ),
                        rx.button(t("retention.cancel"), variant="soft", on_click=R.cancel_sweep),
                        spacing="2",
                    ),
                    spacing="2",
                    width="100%",
                ),
                rx.button(t("retention.preview"), on_click=R.preview_sweep, id="sweep-preview"),
            ),  # fmt: skip
            spacing="2",
            width="100%",
        ),
        width="100%",
    )


def _act(a: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(a["reference"], white_space="nowrap"),
        rx.table.cell(a["subject_ref"]),
        rx.table.cell(a["destroyed"], white_space="nowrap"),
        rx.table.cell(a["by"]),
        rx.table.cell(rx.code(a["digest"], size="1")),
    )


def acts_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(t("retention.acts"), size="4", as_="h2"),
                rx.spacer(),
                rx.button(
                    t("stats.csv"),
                    size="1",
                    variant="soft",
                    on_click=R.export_acts("csv"),
                    id="acts-csv",
                ),
                rx.button(
                    t("subject.report_pdf"),
                    size="1",
                    variant="soft",
                    on_click=R.export_acts("pdf"),
                    id="acts-pdf",
                ),
                width="100%",
                align="center",
            ),  # fmt: skip
            data_table(
                (
                    "pipeline.reference",
                    "retention.subject_id",
                    "retention.destroyed_at",
                    "audit.actor",
                    "retention.digest",
                ),
                R.acts,
                _act,
                "acts-table",
            ),
            width="100%",
        ),
        width="100%",
    )


def retention_page() -> rx.Component:
    return page_shell(
        rx.vstack(
            rx.heading(t("retention.title"), size="7", as_="h1"),
            rx.text(t("retention.lead"), size="2", color_scheme="gray", max_width="75ch"),
            notice_callout(R.notice, "retention-notice"),
            error_callout(R.action_error, "retention-error"),
            rx.grid(
                *[_bucket(b) for b in BUCKETS],
                columns=rx.breakpoints(initial="2", md="4"),
                spacing="3",
                width="100%",
            ),  # fmt: skip
            due_chart(),
            filter_form(),
            pager(R, "retention"),
            data_table(
                (
                    "pipeline.name",
                    "requests.due",
                    "retention.days_left",
                    "consents.purpose",
                    "retention.event_col",
                    "pipeline.status",
                ),
                R.rows,
                _row,
                "retention-table",
            ),
            rx.grid(
                hold_form(),
                sweep_card(),
                columns=rx.breakpoints(initial="1", md="2"),
                spacing="4",
                width="100%",
            ),  # fmt: skip
            acts_card(),
            spacing="4",
            width="100%",
            align="start",
        ),
    )
