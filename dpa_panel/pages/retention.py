"""``/retention``: countdown buckets, the 24-month chart, legal holds, sweep, destruction acts."""

from __future__ import annotations

import reflex as rx

from dpa_panel.components.confirm import confirm_dialog
from dpa_panel.components.export_about import about_link
from dpa_panel.components.filters import folding_filters
from dpa_panel.components.forms import error_callout, form, notice_callout
from dpa_panel.components.i18n import t
from dpa_panel.components.layout import page_shell
from dpa_panel.components.listing import data_table, labelled, pager
from dpa_panel.components.status import count_card
from dpa_panel.state.app_state import AppState
from dpa_panel.state.retention_state import BUCKETS
from dpa_panel.state.retention_state import RetentionState as R

BUCKET_COLORS = {"overdue": "red", "30": "amber", "90": "blue", "later": "gray"}


def _bucket(bucket: str) -> rx.Component:
    return count_card(t(f"retention.bucket_{bucket}"), R.buckets[bucket],
                      BUCKET_COLORS[bucket], f"bucket-{bucket}")  # fmt: skip


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


def _small_pager(previous, next_, page, pages, prefix: str) -> rx.Component:
    return rx.hstack(
        rx.button(t("audit.previous"), on_click=previous, variant="soft", size="1",
                  disabled=page <= 1, id=f"{prefix}-previous"),
        rx.text(page, " / ", pages, size="1", id=f"{prefix}-page"),
        rx.button(t("audit.next"), on_click=next_, variant="soft", size="1",
                  disabled=page >= pages, id=f"{prefix}-next"),
        align="center", spacing="2",
    )  # fmt: skip


def _hit(h: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.text(h["name"], weight="medium", size="2"),
            rx.hstack(
                rx.code(h["reference"], size="1"),
                rx.cond(h["held"] != "", rx.badge(t("retention.on_hold"), color_scheme="purple",
                                                  size="1")),
                spacing="2", align="center",
            ),
            spacing="0", align="start",
        ),
        rx.spacer(),
        rx.button(t("confirm.choose"), size="1", variant="soft",
                  on_click=R.choose_hold_subject(h["id"].to(str)),
                  aria_label=t("confirm.choose") + " " + h["name"].to(str),
                  id="hold-pick-" + h["id"].to(str)),
        width="100%", align="center", padding_y="4px",
        border_bottom="1px solid var(--gray-4)",
    )  # fmt: skip


def hold_search() -> rx.Component:
    """Find the subject by name, e-mail, workplace, membership number or application
    reference; then choose one of the results (no id to know)."""
    return rx.vstack(
        rx.text(t("confirm.search_subject"), as_="label", html_for="hold-query", size="1",
                weight="medium"),
        form(
            rx.hstack(
                rx.input(name="query", id="hold-query", placeholder=t("confirm.search_hint"),
                         aria_label=t("confirm.search_subject"), max_length=100, flex="1"),
                rx.button(t("confirm.search"), type="submit", variant="soft", id="hold-search"),
                spacing="2", width="100%",
            ),
            on_submit=R.search_hold_subject,
            reset_on_submit=False,
            width="100%",
        ),
        rx.cond(
            R.hold_searched,
            rx.vstack(
                rx.text(t("confirm.found"), " ", R.hold_total, size="1", color_scheme="gray",
                        id="hold-found"),
                rx.foreach(R.hold_hits, _hit),
                rx.cond(R.hold_pages > 1,
                        _small_pager(R.hold_hits_previous, R.hold_hits_next, R.hold_page,
                                     R.hold_pages, "hold-hits")),
                spacing="1", width="100%", id="hold-hits",
            ),
        ),
        spacing="2", width="100%",
    )  # fmt: skip


def hold_form() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(t("retention.place_hold"), size="4", as_="h2"),
            rx.cond(
                R.hold_choice != "",
                rx.hstack(
                    rx.text(t("confirm.hold_for"), " ", rx.text(R.hold_choice, as_="span",
                            weight="bold"), size="2", id="hold-chosen"),
                    rx.button(t("confirm.change"), size="1", variant="ghost",
                              on_click=R.clear_hold_subject, id="hold-change"),
                    align="center", spacing="2", wrap="wrap",
                ),
                hold_search(),
            ),
            rx.cond(
                R.hold_choice != "",
                form(
                    rx.vstack(
                        labelled("subject.reason",
                                 rx.input(name="reason", id="hold-reason", width="100%")),
                        labelled("retention.hold_ends",
                                 rx.input(name="ends_on", type="date", id="hold-ends",
                                          width="100%")),
                        rx.button(t("retention.place_hold"), type="submit", id="hold-submit"),
                        spacing="2", width="100%",
                    ),
                    on_submit=R.place_hold,
                    reset_on_submit=True,
                    width="100%",
                ),
            ),
            spacing="2", width="100%",
        ),
        width="100%",
    )  # fmt: skip


def _due(d: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.code(d["reference"], size="1"), white_space="nowrap"),
        rx.table.cell(rx.link(d["name"], href="/subjects/" + d["subject_id"].to(str))),
        rx.table.cell(d["due"], white_space="nowrap"),
        rx.table.cell(rx.cond(d["purpose"] != "", _label("purpose", d["purpose"]),
                              rx.cond(d["event"] != "", _label("retention.event", d["event"]),
                                      ""))),
        rx.table.cell(rx.text(d["destroys"], size="1")),
        rx.table.cell(
            rx.button(t("confirm.destroy_one"), size="1", variant="soft", color_scheme="red",
                      white_space="nowrap",
                      on_click=R.ask_destroy(d["subject_id"].to(str)),
                      aria_label=t("confirm.destroy_one") + " " + d["name"].to(str),
                      id="destroy-" + d["subject_id"].to(str)),
        ),
        id="due-" + d["subject_id"].to(str),
    )  # fmt: skip


def sweep_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(t("retention.sweep"), size="4", as_="h2"),
            rx.text(t("retention.sweep_note"), size="1", color_scheme="gray"),
            rx.cond(
                R.confirming,
                rx.vstack(
                    rx.text(t("retention.preview_count"), " ", R.preview_total, weight="bold",
                            id="sweep-count"),
                    data_table(
                        ("pipeline.reference", "pipeline.name", "requests.due",
                         "consents.purpose", "confirm.destroys", "accounts.actions"),
                        R.preview, _due, "sweep-preview-table",
                    ),
                    rx.cond(R.preview_pages > 1,
                            _small_pager(R.preview_previous, R.preview_next, R.preview_page,
                                         R.preview_pages, "sweep-preview")),
                    rx.hstack(
                        rx.button(t("confirm.sweep_all"), color_scheme="red",
                                  on_click=R.ask_sweep, id="sweep-run",
                                  disabled=R.preview_total == 0),
                        rx.button(t("retention.cancel"), variant="soft", on_click=R.cancel_sweep,
                                  id="sweep-close"),
                        spacing="2", wrap="wrap",
                    ),
                    spacing="2",
                    width="100%",
                ),
                rx.button(t("retention.preview"), on_click=R.preview_sweep, id="sweep-preview"),
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
    )  # fmt: skip


def retention_question() -> rx.Component:
    return confirm_dialog(
        R.confirm_open,
        R.confirm_title,
        R.confirm_text,
        confirm_key="retention.confirm_sweep",
        cancel_key="retention.cancel",
        on_confirm=R.confirm(R.confirm_token),
        on_cancel=R.cancel_confirm,
        yes_id="sweep-confirm",
        no_id="sweep-cancel",
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
                about_link("acts_csv"),
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
            folding_filters(filter_form(), R.filters_open, R.toggle_filters, "retention"),
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
            sweep_card(),
            hold_form(),
            retention_question(),
            acts_card(),
            spacing="4",
            width="100%",
            align="start",
        ),
    )
