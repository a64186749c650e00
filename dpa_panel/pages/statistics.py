"""``/statistics``: a published release's anonymised charts, readable on a phone; and
``/statistics/preview``: the next release and what it hides (compliance, admin).

A hidden value is drawn as a gap (the bar is absent, never a zero-height bar) and shown in
the tables with the distinct "hidden" mark that the note above the charts explains. Tables
show every column at desktop width; on a phone each row becomes a card listing every column.
"""

from __future__ import annotations

import reflex as rx

from dpa_panel.components.export_about import about_link
from dpa_panel.components.forms import form
from dpa_panel.components.i18n import t
from dpa_panel.components.layout import page_shell
from dpa_panel.components.listing import labelled
from dpa_panel.services.statistics import BODY_TYPES
from dpa_panel.services.stats_release_data import CONSENT_PURPOSES
from dpa_panel.state.statistics_state import STOCKS
from dpa_panel.state.statistics_state import StatisticsState as S
from dpa_panel.state.statistics_state import StatsPreviewState as P

PALETTE = ["#0d9488", "#2563eb", "#f59e0b", "#dc2626", "#6b7280", "#7c3aed", "#0891b2",
           "#65a30d", "#db2777", "#334155"]  # fmt: skip
PURPOSE_SERIES = [(p, f"stats_rel.col_{p}") for p in CONSENT_PURPOSES]

#: chart -> (title key, [(data key, legend key)] drawn, stacked?, columns of its table)
CHARTS: dict[str, tuple[str, list[tuple[str, str]], bool, list[str]]] = {
    "applications": (
        "stats_rel.table_applications",
        [("submitted", "stats_rel.col_submitted"), ("approved", "stats_rel.col_approved"),
         ("rejected", "stats_rel.col_rejected")],
        False,
        ["submitted", "approved", "rejected", "decisions"],
    ),
    "decision_time": (
        "stats_rel.table_decision_time", [("median_days", "stats_rel.col_median_days")], False,
        ["median_days"],
    ),
    "memberships": (
        "stats_rel.table_memberships",
        [("joined", "stats_rel.col_joined"), ("left", "stats_rel.col_left")], False,
        ["joined", "left"],
    ),
    "members_by_workplace_category": (
        "stats_rel.table_members_by_workplace_category",
        [("members", "stats_rel.col_members")], False, ["members"],
    ),
    "members_by_position_level": (
        "stats_rel.table_members_by_position_level",
        [("members", "stats_rel.col_members")], False, ["members"],
    ),
    "members_by_education_level": (
        "stats_rel.table_members_by_education_level",
        [("members", "stats_rel.col_members")], False, ["members"],
    ),
    "consents": (
        "stats_rel.table_consents", [("share_pct", "stats_rel.col_share_pct")], False,
        ["with_consent", "without_consent", "share_pct"],
    ),
    "withdrawals": (
        "stats_rel.table_withdrawals", PURPOSE_SERIES, False,
        [*(p for p, _ in PURPOSE_SERIES), "total"],
    ),
    "requests": (
        "stats_rel.table_requests",
        [("received", "stats_rel.col_received"),
         ("answered_on_time", "stats_rel.col_answered_on_time"),
         ("answered_late", "stats_rel.col_answered_late")],
        False,
        ["received", "answered_on_time", "answered_late"],
    ),
    "destructions": (
        "stats_rel.table_destructions",
        [("done", "stats_rel.col_done"), ("due", "stats_rel.col_due")], False, ["done", "due"],
    ),
    "disclosures": (
        "stats_rel.table_disclosures",
        [(code, f"disclosure.body_type.{code}") for code in BODY_TYPES], False,
        [*BODY_TYPES, "total"],
    ),
}  # fmt: skip


def _column_label(column: str) -> str:
    if column in BODY_TYPES:
        return f"disclosure.body_type.{column}"
    return f"stats_rel.col_{column}"


def release_form() -> rx.Component:
    return form(
        rx.hstack(
            labelled(
                "stats_rel.release",
                rx.el.select(
                    rx.foreach(S.releases, lambda r: rx.el.option(r["label"], value=r["id"])),
                    name="release",
                    id="stats-release",
                    class_name="dpa-select",
                    default_value=S.release_id,
                ),
            ),
            labelled(
                "stats_rel.scope",
                rx.el.select(
                    *[rx.el.option(t(f"stats_rel.scope_{s}"), value=s)
                      for s in ("month", "quarter", "year")],
                    name="scope",
                    id="stats-scope",
                    class_name="dpa-select",
                    default_value=S.scope,
                ),
            ),  # fmt: skip
            rx.button(t("audit.apply"), type="submit", id="stats-apply", margin_top="18px"),
            align="end",
            spacing="3",
            width="100%",
            wrap="wrap",
        ),
        on_submit=S.choose_release,
        reset_on_submit=False,
        width="100%",
        key=S.release_id + S.scope,
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
            rx.recharts.y_axis(allow_decimals=False, tick={"fontSize": 11}, width=44),
            rx.recharts.graphing_tooltip(),
            *([rx.recharts.legend()] if len(series) > 1 else []),
            *bars,
            data=S.charts[chart],
            margin={"top": 8, "right": 8, "left": 0, "bottom": 8},
        ),
        width="100%",
        height=240 + (28 * len(series) if len(series) > 4 else 0),
    )


_CELL = {"padding": "4px 6px", "border_bottom": "1px solid var(--gray-a5)",
         "overflow_wrap": "anywhere", "font_size": "13px"}  # fmt: skip


def _desktop_table(chart: str, columns: list[str]) -> rx.Component:
    """A plain table with a fixed layout: columns share the card's width and long headers
    wrap, so every column stays visible (never cut off or scrolled out of the card)."""
    return rx.el.table(
        rx.el.thead(
            rx.el.tr(
                rx.el.th("", style=_CELL),
                *[rx.el.th(t(_column_label(c)), scope="col",
                           style={**_CELL, "text_align": "right", "font_weight": "600"})
                  for c in columns],
            )
        ),
        rx.el.tbody(
            rx.foreach(
                S.tables[chart],
                lambda row: rx.el.tr(
                    rx.el.th(row["label"], scope="row",
                             style={**_CELL, "text_align": "left", "font_weight": "500"}),
                    *[rx.el.td(row[c], style={**_CELL, "text_align": "right"})
                      for c in columns],
                ),
            )
        ),
        style={"table_layout": "fixed", "width": "100%", "border_collapse": "collapse"},
        class_name=f"stats-table stats-table-{chart}",
    )  # fmt: skip


def _phone_rows(chart: str, columns: list[str]) -> rx.Component:
    """Each row as a small card listing every column: nothing is cut off at 390 px."""
    return rx.vstack(
        rx.foreach(
            S.tables[chart],
            lambda row: rx.box(
                rx.text(row["label"], weight="bold", size="2"),
                rx.el.dl(
                    # dt/dd pairs in a div each (valid in a dl; no other element between).
                    *[rx.el.div(rx.el.dt(t(_column_label(c))),
                                rx.el.dd(row[c], margin="0"),
                                style={"display": "flex", "justify_content": "space-between",
                                       "gap": "8px", "width": "100%"})
                      for c in columns],
                    margin="0",
                    font_size="13px",
                ),
                border_bottom="1px solid var(--gray-a5)",
                padding_y="4px",
                width="100%",
            ),
        ),
        spacing="1",
        width="100%",
        class_name=f"stats-rows stats-rows-{chart}",
    )  # fmt: skip


def chart_card(chart: str) -> rx.Component:
    title_key, series, stacked, columns = CHARTS[chart]
    at_end = chart in STOCKS
    return rx.card(
        rx.vstack(
            rx.heading(t(title_key), size="3", as_="h2"),
            *([rx.text(t("stats_rel.at_month_end"), " ", S.release_period, size="1",
                       color_scheme="gray")] if at_end else []),  # fmt: skip
            _chart(chart, series, stacked),
            rx.box(_desktop_table(chart, columns), display=rx.breakpoints(initial="none",
                                                                         sm="block"),
                   width="100%"),
            rx.box(_phone_rows(chart, columns), display=rx.breakpoints(initial="block",
                                                                      sm="none"),
                   width="100%"),
            spacing="2",
            width="100%",
            min_width="0",
        ),  # fmt: skip
        width="100%",
        min_width="0",
        # A table of many columns (disclosures by body, withdrawals by purpose) takes the
        # whole row of the grid on a wide screen.
        grid_column="1 / -1" if len(columns) > 4 else None,
        id=f"chart-{chart}",
    )


def release_header() -> rx.Component:
    return rx.vstack(
        rx.text(
            t("stats_rel.showing"), " ", rx.el.strong(S.release_period, id="stats-release-period"),
            " · ", t("stats_rel.published"), " ", S.published_at, " · ",
            t("stats_rel.k_is"), " ", rx.el.strong(S.k, id="stats-k"),
            size="2",
        ),
        rx.callout(
            rx.text(rx.el.strong(t("stats_rel.hidden_mark")), " — ", t("stats_rel.hidden_note")),
            icon="shield",
            size="1",
            id="stats-hidden-note",
        ),
        rx.hstack(
            rx.button(t("stats_rel.download_json"), size="1", variant="soft",
                      on_click=S.download("json"), id="stats-download-json"),
            rx.button(t("stats_rel.download_csv"), size="1", variant="soft",
                      on_click=S.download("csv"), id="stats-download-csv"),
            about_link("stats_release_csv"),
            rx.cond(S.can_preview, rx.link(t("stats_rel.preview_link"), href="/statistics/preview",
                                           size="2", id="stats-preview-link"), rx.fragment()),
            spacing="3",
            wrap="wrap",
            align="center",
        ),
        spacing="2",
        width="100%",
    )  # fmt: skip


def statistics_page() -> rx.Component:
    return page_shell(
        rx.vstack(
            rx.heading(t("stats.title"), size="7", as_="h1"),
            rx.text(t("stats_rel.lead"), size="2", color_scheme="gray", max_width="75ch"),
            rx.cond(
                S.has_release,
                rx.vstack(
                    release_header(),
                    release_form(),
                    rx.grid(
                        *[chart_card(c) for c in CHARTS],
                        columns=rx.breakpoints(initial="1", lg="2"),
                        spacing="4",
                        width="100%",
                    ),
                    spacing="4",
                    width="100%",
                ),
                rx.callout(t("stats_rel.no_releases"), icon="info", id="stats-no-release"),
            ),
            spacing="4",
            width="100%",
        ),
    )


def preview_page() -> rx.Component:
    return page_shell(
        rx.vstack(
            rx.heading(t("stats_rel.preview_title"), size="7", as_="h1"),
            rx.text(t("stats_rel.preview_lead"), size="2", color_scheme="gray", max_width="75ch"),
            rx.cond(P.message != "", rx.callout(P.message, icon="info", id="preview-message"),
                    rx.fragment()),  # fmt: skip
            rx.cond(
                P.period != "",
                rx.vstack(
                    rx.text(t("stats_rel.preview_period"), " ",
                            rx.el.strong(P.period, id="preview-period"), " · ",
                            t("stats_rel.k_is"), " ", P.k, size="2"),  # fmt: skip
                    rx.el.dl(
                        rx.foreach(P.summary, lambda row: rx.hstack(
                            rx.el.dt(row["label"]), rx.el.dd(row["value"], margin="0"),
                            spacing="2")),
                        margin="0",
                    ),  # fmt: skip
                    rx.heading(t("stats_rel.preview_hidden"), size="4", as_="h2"),
                    rx.vstack(
                        rx.foreach(
                            P.hidden_cells,
                            lambda c: rx.box(
                                rx.text(c["table"], " · ", c["period"], weight="bold", size="2"),
                                rx.text(c["cell"], ": ", c["value"], " — ", c["reason"],
                                        size="2"),
                                border_bottom="1px solid var(--gray-a5)",
                                padding_y="4px",
                                width="100%",
                            ),
                        ),
                        spacing="1",
                        width="100%",
                        id="preview-hidden",
                    ),  # fmt: skip
                    spacing="3",
                    width="100%",
                ),
                rx.fragment(),
            ),
            spacing="4",
            width="100%",
        ),
    )
