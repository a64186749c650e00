"""``/disclosures``: the authority-disclosure register — filters, log exports and the form for a
new official request or third-party transfer (policy clauses 5.1, 5.2)."""

from __future__ import annotations

import reflex as rx

from dpa_panel.components.export_about import about_link
from dpa_panel.components.filters import folding_filters
from dpa_panel.components.forms import error_callout, form, notice_callout
from dpa_panel.components.i18n import t
from dpa_panel.components.layout import page_shell
from dpa_panel.components.listing import data_table, labelled, pager
from dpa_panel.components.status import disclosure_badge
from dpa_panel.services.disclosures import BODY_TYPES, CATEGORIES, CHANNELS_IN, KINDS, STATUSES
from dpa_panel.state.app_state import AppState
from dpa_panel.state.disclosures_state import DisclosuresState as S


def vocab_label(vocabulary: str, code: rx.Var) -> rx.Var:
    return AppState.t[f"{vocabulary}." + code.to(str)].to(str)


def _options(vocabulary: str, codes, *, any_option: bool = False) -> list[rx.Component]:
    options = [rx.el.option(t("audit.any"), value="")] if any_option else []
    return options + [rx.el.option(t(f"{vocabulary}.{code}"), value=code) for code in codes]


def _select(name: str, element_id: str, options: list[rx.Component]) -> rx.Component:
    return rx.el.select(*options, name=name, id=element_id, class_name="dpa-select")


def _field_error(name: str) -> rx.Component:
    return rx.cond(
        S.form_errors[name],
        rx.text(S.form_errors[name], size="1", color_scheme="red", id=f"new-{name}-error"),
    )


def _input(label_key: str, name: str, type_: str = "text") -> rx.Component:
    return rx.vstack(
        labelled(label_key, rx.input(name=name, id=f"new-{name}", type=type_, width="100%")),
        _field_error(name),
        spacing="1",
        width="100%",
    )


def filter_form() -> rx.Component:
    return form(
        rx.grid(
            labelled(
                "disclosure.date_from",
                rx.input(name="date_from", type="date", id="filter-date-from", width="100%"),
            ),
            labelled(
                "disclosure.date_to",
                rx.input(name="date_to", type="date", id="filter-date-to", width="100%"),
            ),
            labelled("disclosure.body", rx.input(name="body", id="filter-body", width="100%")),
            labelled(
                "pipeline.status",
                _select(
                    "status",
                    "filter-status",
                    _options("disclosure.status", STATUSES, any_option=True),
                ),
            ),
            labelled(
                "disclosure.kind",
                _select("kind", "filter-kind", _options("disclosure.kind", KINDS, any_option=True)),
            ),
            rx.button(t("audit.apply"), type="submit", id="filter-apply", margin_top="18px"),
            columns=rx.breakpoints(initial="1", sm="3", lg="6"),
            spacing="3",
            width="100%",
            align="end",
        ),  # fmt: skip
        on_submit=S.apply_filters,
        reset_on_submit=False,
        width="100%",
    )


def export_buttons() -> rx.Component:
    return rx.hstack(
        rx.text(t("disclosure.export_log"), size="2", weight="medium"),
        *[
            rx.button(
                t(f"disclosure.format.{fmt}"),
                on_click=S.export_log(fmt),
                variant="soft",
                size="1",
                id=f"export-log-{fmt}",
            )
            for fmt in ("csv", "xlsx", "pdf")
        ],
        about_link("disclosure_log_csv"),
        align="center",
        spacing="2",
        wrap="wrap",
    )


def _row(r: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.link(r["reference"], href="/disclosures/" + r["id"].to(str)), white_space="nowrap"
        ),
        rx.table.cell(vocab_label("disclosure.kind", r["kind"])),
        rx.table.cell(disclosure_badge(r["status"])),
        rx.table.cell(r["body"]),
        rx.table.cell(r["number"], white_space="nowrap"),
        rx.table.cell(r["request_date"], white_space="nowrap"),
        rx.table.cell(r["due"], white_space="nowrap"),
        rx.table.cell(r["subjects"]),
        rx.table.cell(r["created_by"]),
        rx.table.cell(r["disclosed"], white_space="nowrap"),
        id="disclosure-" + r["reference"].to(str),
    )


HEADERS = (
    "pipeline.reference",
    "disclosure.kind",
    "pipeline.status",
    "disclosure.body",
    "disclosure.request_number",
    "disclosure.request_date",
    "disclosure.answer_due_on",
    "disclosure.subjects",
    "disclosure.created_by",
    "disclosure.disclosed_at",
)


def register_table() -> rx.Component:
    return data_table(HEADERS, S.rows, _row, "disclosures-table")


def _subject_chip(p: rx.Var, action, icon: str, prefix: str) -> rx.Component:
    return rx.hstack(
        rx.text(p["name"], size="2"),
        rx.text(p["reference"], size="1", color_scheme="gray"),
        rx.icon_button(
            rx.icon(icon, size=14),
            on_click=action(p["id"]),
            size="1",
            variant="soft",
            type="button",
            id=prefix + p["id"].to(str),
            aria_label=t("disclosure.pick" if icon == "plus" else "disclosure.unpick"),
        ),
        align="center",
        spacing="2",
    )


def subject_picker() -> rx.Component:
    """Search the register and pick the subjects a request concerns (kept in the state)."""
    return rx.vstack(
        rx.text(t("disclosure.subjects"), size="2", weight="medium"),
        form(
            rx.hstack(
                rx.input(
                    name="query",
                    id="subject-query",
                    width="100%",
                    placeholder=t("disclosure.search_hint"),
                ),
                rx.button(t("pipeline.search"), type="submit", id="subject-search", variant="soft"),
                width="100%",
            ),  # fmt: skip
            on_submit=S.search_subjects,
            reset_on_submit=False,
            width="100%",
        ),
        rx.foreach(S.found, lambda p: _subject_chip(p, S.pick_subject, "plus", "pick-")),
        rx.cond(
            S.picked.length() > 0,
            rx.vstack(
                rx.text(t("disclosure.picked"), size="1", color_scheme="gray"),
                rx.foreach(S.picked, lambda p: _subject_chip(p, S.unpick_subject, "x", "unpick-")),
                spacing="1",
                id="picked-subjects",
            ),
        ),
        _field_error("subject_ids"),
        spacing="2",
        width="100%",
    )


def category_boxes() -> rx.Component:
    return rx.vstack(
        rx.text(t("disclosure.requested_categories"), size="2", weight="medium"),
        rx.flex(
            *[
                rx.el.label(
                    rx.el.input(
                        type="checkbox",
                        name=f"ask_{code}",
                        id=f"ask-{code}",
                        class_name="dpa-checkbox",
                    ),
                    rx.text(t(f"disclosure.category.{code}"), size="2", as_="span"),
                    html_for=f"ask-{code}",
                    style={"display": "flex", "gap": "6px", "alignItems": "center"},
                )
                for code in CATEGORIES
            ],
            wrap="wrap",
            spacing="4",
        ),  # fmt: skip
        _field_error("requested_categories"),
        spacing="2",
        width="100%",
    )


def new_request_form() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(t("disclosure.new"), size="4", as_="h2"),
            rx.text(t("disclosure.new_hint"), size="2", color_scheme="gray"),
            subject_picker(),
            form(
                rx.vstack(
                    rx.grid(
                        labelled(
                            "disclosure.kind",
                            _select("kind", "new-kind", _options("disclosure.kind", KINDS)),
                        ),
                        labelled(
                            "disclosure.received_via",
                            _select(
                                "received_via",
                                "new-received_via",
                                _options("disclosure.channel", CHANNELS_IN),
                            ),
                        ),
                        rx.vstack(
                            labelled(
                                "disclosure.body_type",
                                _select(
                                    "body_type",
                                    "new-body_type",
                                    [
                                        rx.el.option(t("disclosure.body_type_pick"), value=""),
                                        *_options("disclosure.body_type", BODY_TYPES),
                                    ],
                                ),
                            ),
                            _field_error("body_type"),
                            spacing="1",
                            width="100%",
                        ),
                        _input("disclosure.body", "body_name"),
                        _input("disclosure.department", "body_department"),
                        _input("disclosure.recipient", "recipient"),
                        _input("disclosure.request_number", "request_number"),
                        _input("disclosure.request_date", "request_date", "date"),
                        _input("disclosure.answer_due_on", "answer_due_on", "date"),
                        _input("disclosure.legal_article", "legal_article"),
                        columns=rx.breakpoints(initial="1", md="3"),
                        spacing="3",
                        width="100%",
                    ),  # fmt: skip
                    rx.vstack(
                        labelled(
                            "disclosure.legal_basis",
                            rx.text_area(name="legal_basis", id="new-legal_basis", width="100%"),
                        ),
                        _field_error("legal_basis"),
                        spacing="1",
                        width="100%",
                    ),
                    category_boxes(),
                    error_callout(S.form_error, "disclosure-form-error"),
                    rx.button(t("disclosure.create"), type="submit", id="disclosure-create"),
                    spacing="3",
                    width="100%",
                ),
                on_submit=S.create,
                reset_on_submit=False,
                width="100%",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def disclosures_page() -> rx.Component:
    return page_shell(
        rx.vstack(
            rx.heading(t("disclosure.title"), size="7", as_="h1"),
            rx.text(t("disclosure.intro"), size="2", color_scheme="gray"),
            notice_callout(S.notice, "disclosures-notice"),
            folding_filters(filter_form(), S.filters_open, S.toggle_filters, "disclosures"),
            rx.hstack(
                pager(S, "disclosures"),
                export_buttons(),
                justify="between",
                wrap="wrap",
                width="100%",
                spacing="3",
            ),  # fmt: skip
            register_table(),
            new_request_form(),
            spacing="4",
            width="100%",
            align="start",
        ),
    )
