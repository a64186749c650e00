"""``/statistics``: anonymised charts for the board, readable on a phone.

Every chart shows only suppressed aggregates; "<k" cells are left out of the bars and shown
as such in the table under each chart, which is also downloadable as CSV/XLSX.
"""

from __future__ import annotations

import reflex as rx

from dpa_panel.components.i18n import t
from dpa_panel.components.layout import page_shell
from dpa_panel.components.listing import labelled
from dpa_panel.services.statistics import BODY_TYPES
from dpa_panel.state.statistics_state import StatisticsState as S

PALETTE = ["#0d9488", "#2563eb", "#f59e0b", "#dc2626", "#6b7280", "#7c3aed"]

#: chart -> (title key, [(data key, legend key)], stacked?, columns shown in its table)
CHARTS: dict[str, tuple[str, list[tuple[str, str]], bool, list[str]]] = {
    "applications_per_month": (
        "stats.applications_per_month",
        [("approved", "stats.approved"), ("rejected", "stats.rejected"),
         ("withdrawn", "stats.withdrawn"), ("in_progress", "stats.in_progress"),
         ("submitted", "stats.submitted")],
        True,
        ["submitted", "in_progress", "approved", "rejected", "withdrawn", "total"],
    ),
    "application_funnel": (
        "stats.funnel",
        [("applications", "stats.applications")],
        False,
        ["applications", "conversion_pct", "of_submitted_pct"],
    ),
    "decision_time_per_quarter": (
        "stats.decision_time",
        [("median_days", "stats.median_days")],
        False,
        ["decisions", "median_days"],
    ),
    "members_by_workplace_category": (
        "stats.by_workplace", [("members", "stats.members")], False, ["members"],
    ),
    "members_by_position_level": (
        "stats.by_position", [("members", "stats.members")], False, ["members"],
    ),
    "members_by_education_level": (
        "stats.by_education", [("members", "stats.members")], False, ["members"],
    ),
    "memberships_per_quarter": (
        "stats.memberships",
        [("new", "stats.new"), ("ended", "stats.ended")],
        False,
        ["new", "ended"],
    ),
    "consent_rates": (
        "stats.consent_rates", [("share_pct", "stats.share_pct")], False,
        ["with_consent", "subjects", "share_pct"],
    ),
    "withdrawals_per_month": (
        "stats.withdrawals",
        [("application_review", "consents.short_application_review"),
         ("member_register", "consents.short_member_register"),
         ("informing", "consents.short_informing"), ("feedback", "consents.short_feedback")],
        True,
        ["application_review", "member_register", "informing", "feedback", "total"],
    ),
    "requests_per_month": (
        "stats.requests",
        [("on_time", "stats.on_time"), ("late", "stats.late"), ("open", "stats.open")],
        True,
        ["on_time", "late", "open", "total"],
    ),
    "destructions_per_quarter": (
        "stats.destructions", [("done", "stats.done"), ("due", "stats.due")], False,
        ["done", "due"],
    ),
    "disclosures_per_quarter": (
        "stats.disclosures",
        [(code, f"disclosure.body_type.{code}") for code in BODY_TYPES],
        True,
        [*BODY_TYPES, "total"],
    ),
}  # fmt: skip
#: Table headers that are not ``stats.col_<column>``: the body types of the disclosures chart.
COLUMN_LABELS = {code: f"disclosure.body_type.{code}" for code in BODY_TYPES}


def period_form() -> rx.Component:
    return rx.form(
        rx.hstack(
            labelled(
                "stats.year",
                rx.el.select(
                    rx.el.option(t("stats.all_time"), value=""),
                    rx.foreach(S.years, lambda y: rx.el.option(y, value=y)),
                    name="year",
                    id="stats-year",
                    class_name="dpa-select",
                    default_value=S.year,
                ),
            ),
            labelled(
                "stats.quarter",
                rx.el.select(
                    rx.el.option(t("stats.whole_year"), value=""),
                    *[rx.el.option(t(f"stats.q{q}"), value=str(q)) for q in (1, 2, 3, 4)],
                    name="quarter",
                    id="stats-quarter",
                    class_name="dpa-select",
                ),
            ),
            rx.button(t("audit.apply"), type="submit", id="stats-apply", margin_top="18px"),
            align="end",
            spacing="3",
            width="100%",
            wrap="wrap",
        ),
        on_submit=S.choose_period,
        reset_on_submit=False,
        width="100%",
        key=S.year,
    )


def _chart(chart: str, series: list[tuple[str, str]], stacked: bool) -> rx.Component:
    bars = [
        rx.recharts.bar(
            data_key=key,
            name=t(legend),
            fill=PALETTE[i % len(PALETTE)],
            stack_id="a" if stacked else None,
            is_animation_active=False,
        )
        for i, (key, legend) in enumerate(series)
    ]
    return rx.recharts.responsive_container(
        rx.recharts.bar_chart(
            rx.recharts.cartesian_grid(stroke_dasharray="3 3"),
            rx.recharts.x_axis(data_key="label", tick={"fontSize": 11}),
            rx.recharts.y_axis(allow_decimals=False, tick={"fontSize": 11}, width=36),
            rx.recharts.graphing_tooltip(),
            *([rx.recharts.legend()] if len(series) > 1 else []),
            *bars,
            data=S.charts[chart],
            margin={"top": 8, "right": 8, "left": 0, "bottom": 8},
        ),
        width="100%",
        # A long legend (the nine body types) wraps over several lines inside the chart's
        # box; the box grows with it so the bars keep the same plotting height.
        height=240 + (28 * len(series) if len(series) > 4 else 0),
    )


def _table(chart: str, columns: list[str]) -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    rx.table.column_header_cell(""),
                    *[
                        rx.table.column_header_cell(t(COLUMN_LABELS.get(c, f"stats.col_{c}")))
                        for c in columns
                    ],
                )
            ),
            rx.table.body(
                rx.foreach(
                    S.tables[chart],
                    lambda row: rx.table.row(
                        rx.table.cell(row["label"]),
                        *[rx.table.cell(row[c]) for c in columns],
                    ),
                )
            ),
            size="1",
        ),
        overflow_x="auto",
        width="100%",
    )


def chart_card(chart: str) -> rx.Component:
    title_key, series, stacked, columns = CHARTS[chart]
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(t(title_key), size="3", as_="h2"),
                rx.spacer(),
                rx.button(
                    t("stats.csv"),
                    size="1",
                    variant="soft",
                    on_click=S.download(chart, "csv"),
                    id=f"csv-{chart}",
                ),
                rx.button(
                    t("stats.xlsx"),
                    size="1",
                    variant="soft",
                    on_click=S.download(chart, "xlsx"),
                    id=f"xlsx-{chart}",
                ),
                width="100%",
                align="center",
                wrap="wrap",
            ),  # fmt: skip
            _chart(chart, series, stacked),
            rx.accordion.root(
                rx.accordion.item(
                    header=t("stats.show_table"), content=_table(chart, columns), value="t"
                ),
                collapsible=True,
                type="single",
                variant="ghost",
                width="100%",
            ),  # fmt: skip
            spacing="2",
            width="100%",
        ),
        width="100%",
        id=f"chart-{chart}",
    )


def statistics_page() -> rx.Component:
    return page_shell(
        rx.vstack(
            rx.heading(t("stats.title"), size="7", as_="h1"),
            rx.text(t("stats.lead"), size="2", color_scheme="gray", max_width="75ch"),
            rx.callout(
                rx.text(t("stats.suppression_note"), " ", t("stats.k_is"), " ", S.k),
                icon="shield",
                size="1",
            ),
            period_form(),
            rx.grid(
                *[chart_card(c) for c in CHARTS],
                columns=rx.breakpoints(initial="1", lg="2"),
                spacing="4",
                width="100%",
            ),
            spacing="4",
            width="100%",
        ),
    )
