"""``/calendar``: holidays per year and the working-day deadlines of data-subject requests."""

from __future__ import annotations

import reflex as rx

from dpa_panel.components.confirm import confirm_dialog
from dpa_panel.components.forms import error_callout, form, notice_callout
from dpa_panel.components.i18n import t
from dpa_panel.components.layout import page_shell
from dpa_panel.components.listing import data_table, labelled
from dpa_panel.models.vocab import CALENDAR_ENTRY_KINDS, REQUEST_KINDS
from dpa_panel.state.app_state import AppState
from dpa_panel.state.calendar_state import CalendarState as C

COUNTED_FROM = ("received", "identity_verified")


def _confirm_form(h: rx.Var) -> rx.Component:
    return form(
        rx.hstack(
            rx.el.input(type="hidden", name="day", value=h["day"]),
            rx.input(name="source", size="1", placeholder=t("calendar.confirm_source"),
                     aria_label=t("calendar.confirm_source")),
            rx.button(t("calendar.confirm"), type="submit", size="1", variant="soft",
                      id="confirm-" + h["day"].to(str)),
            spacing="1",
        ),
        on_submit=C.confirm_holiday,
        reset_on_submit=True,
    )  # fmt: skip


def _holiday(h: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(h["shown"], white_space="nowrap"),
        rx.table.cell(
            h["name"],
            rx.cond(h["replaces"] != "",
                    rx.text(t("calendar.replaces"), " ", h["replaces"], size="1",
                            color_scheme="gray")),
        ),
        rx.table.cell(
            rx.badge(AppState.t["calendar.kind." + h["kind"].to(str)].to(str),
                     color_scheme=h["tone"].to(str)),
            rx.cond(h["unconfirmed"] != "",
                    rx.badge(t("calendar.unconfirmed"), color_scheme="amber", margin_left="4px")),
        ),
        rx.table.cell(rx.text(h["source"], size="1", color_scheme="gray")),
        rx.table.cell(
            rx.cond(
                h["stored"] != "",
                rx.hstack(
                    rx.cond(h["unconfirmed"] != "", _confirm_form(h)),
                    rx.button(
                        t("calendar.remove"), size="1", variant="soft", color_scheme="red",
                        on_click=C.ask_remove_holiday(h["day"].to(str)),
                        id="remove-" + h["day"].to(str),
                        aria_label=t("calendar.remove") + " " + h["shown"].to(str),
                    ),
                    spacing="2", wrap="wrap",
                ),
                rx.text(t("calendar.computed"), size="1", color_scheme="gray"),
            ),
        ),
        id="day-" + h["day"].to(str),
    )  # fmt: skip


def _deadline(d: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(AppState.t["request_kind." + d["kind"].to(str)].to(str)),
        rx.table.cell(d["days"]),
        rx.table.cell(AppState.t["calendar.from_" + d["from"].to(str)].to(str)),
        rx.table.cell(rx.text(d["source"], size="1", color_scheme="gray")),
        rx.table.cell(rx.cond(d["pause"] != "", t("calendar.pause_stops"),
                              t("calendar.pause_runs"))),  # fmt: skip
        id="deadline-" + d["kind"].to(str),
    )


def holidays_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(t("calendar.holidays"), size="4", as_="h2"),
            form(
                rx.hstack(
                    rx.el.select(
                        rx.foreach(C.years, lambda y: rx.el.option(y, value=y)),
                        name="year",
                        id="calendar-year",
                        aria_label=t("nav.calendar"),
                        class_name="dpa-select",
                        default_value=C.year,
                    ),
                    rx.button(t("audit.apply"), type="submit", variant="soft"),
                    spacing="2",
                ),
                on_submit=C.choose_year,
                key=C.year,
            ),  # fmt: skip
            rx.cond(
                C.missing_next,
                rx.callout(t("calendar.next_year_missing"), icon="triangle-alert",
                           color_scheme="amber", id="calendar-missing-next"),
            ),
            rx.text(t("calendar.transfer_note"), size="1", color_scheme="gray"),
            rx.box(
                rx.table.root(
                    rx.table.body(rx.foreach(C.holidays, _holiday)), size="1", id="holiday-table"
                ),
                overflow_x="auto",
                width="100%",
            ),
            form(
                rx.grid(
                    labelled(
                        "calendar.day",
                        rx.input(name="day", id="holiday-day", width="100%",
                                 placeholder=t("date.placeholder"), max_length=10),
                    ),
                    labelled(
                        "calendar.entry_kind",
                        rx.el.select(
                            *[rx.el.option(t(f"calendar.kind.{k}"), value=k)
                              for k in CALENDAR_ENTRY_KINDS],
                            name="kind", id="holiday-kind", class_name="dpa-select",
                        ),
                    ),
                    labelled(
                        "calendar.name", rx.input(name="name", id="holiday-name", width="100%")
                    ),
                    labelled(
                        "calendar.source",
                        rx.input(name="source", id="holiday-source", width="100%"),
                    ),
                    rx.el.label(
                        rx.checkbox(name="movable", id="holiday-movable",
                                    aria_label=t("calendar.movable")),
                        " ", t("calendar.movable"),
                        style={"display": "flex", "gap": "6px", "alignItems": "center",
                               "marginTop": "18px"},
                    ),
                    rx.button(
                        t("calendar.add"), type="submit", id="holiday-add", margin_top="18px"
                    ),
                    columns=rx.breakpoints(initial="1", md="3"),
                    spacing="2",
                    width="100%",
                ),
                on_submit=C.add_holiday,
                reset_on_submit=True,
                width="100%",
            ),  # fmt: skip
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def deadlines_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(t("calendar.deadlines"), size="4", as_="h2"),
            rx.text(t("calendar.deadlines_note"), size="1", color_scheme="gray"),
            data_table(
                (
                    "requests.kind",
                    "calendar.working_days",
                    "calendar.counted_from",
                    "calendar.citation",
                    "calendar.pause_rule",
                ),
                C.deadlines,
                _deadline,
                "deadline-table",
            ),  # fmt: skip
            form(
                rx.grid(
                    labelled(
                        "requests.kind",
                        rx.el.select(
                            *[rx.el.option(t(f"request_kind.{k}"), value=k) for k in REQUEST_KINDS],
                            name="kind",
                            id="deadline-kind",
                            class_name="dpa-select",
                        ),
                    ),
                    labelled(
                        "calendar.working_days",
                        rx.input(name="days", type="number", id="deadline-days", width="100%"),
                    ),
                    labelled(
                        "calendar.counted_from",
                        rx.el.select(
                            *[rx.el.option(t(f"calendar.from_{c}"), value=c) for c in COUNTED_FROM],
                            name="from",
                            id="deadline-from",
                            class_name="dpa-select",
                        ),
                    ),
                    labelled("calendar.citation",
                             rx.input(name="source", id="deadline-source", width="100%")),
                    rx.el.label(
                        rx.checkbox(name="pause_stops_clock", id="deadline-pause",
                                    aria_label=t("calendar.pause_stops")),
                        " ", t("calendar.pause_stops"),
                        style={"display": "flex", "gap": "6px", "alignItems": "center",
                               "marginTop": "18px"},
                    ),
                    rx.button(
                        t("detail.save"), type="submit", id="deadline-save", margin_top="18px"
                    ),
                    columns=rx.breakpoints(initial="1", md="3"),
                    spacing="2",
                    width="100%",
                ),
                on_submit=C.set_deadline,
                reset_on_submit=True,
                width="100%",
            ),  # fmt: skip
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def calendar_page() -> rx.Component:
    return page_shell(
        rx.vstack(
            rx.heading(t("calendar.title"), size="7", as_="h1"),
            notice_callout(C.notice, "calendar-notice"),
            error_callout(C.action_error, "calendar-error"),
            holidays_card(),
            deadlines_card(),
            confirm_dialog(
                C.confirm_open, C.confirm_title, C.confirm_text,
                confirm_key="calendar.remove", cancel_key="confirm.cancel",
                on_confirm=C.remove_holiday(C.confirm_token), on_cancel=C.cancel_confirm,
            ),  # fmt: skip
            spacing="4",
            width="100%",
        ),
    )
