"""``/disclosures/[disclosure_id]``: one request — what was asked against what is picked
(minimisation), the four-eyes decision and the disclosure with its package digest."""

from __future__ import annotations

import reflex as rx

from dpa_panel.components.confirm import confirm_dialog
from dpa_panel.components.forms import error_callout, form, notice_callout
from dpa_panel.components.i18n import t
from dpa_panel.components.layout import back_link, page_shell
from dpa_panel.components.listing import data_table, labelled
from dpa_panel.components.status import disclosure_badge
from dpa_panel.pages.disclosures import vocab_label
from dpa_panel.services.disclosures import CATEGORIES, CHANNELS_OUT, FORMATS
from dpa_panel.state.disclosures_state import DisclosureDetailState as D


def _fact(label_key: str, value, element_id: str = "") -> rx.Component:
    return rx.data_list.item(
        rx.data_list.label(t(label_key)),
        rx.data_list.value(rx.text(value, white_space="pre-wrap", id=element_id or None)),
    )


def facts_card() -> rx.Component:
    f = D.facts
    return rx.card(
        rx.data_list.root(
            _fact("disclosure.body", f["body_name"]),
            _fact("disclosure.department", f["body_department"]),
            _fact(
                "disclosure.body_type",
                vocab_label("disclosure.body_type", f["body_type"]),
                "fact-body_type",
            ),
            rx.cond(f["recipient"] != "", _fact("disclosure.recipient", f["recipient"])),
            _fact("disclosure.request_number", f["request_number"]),
            _fact("disclosure.request_date", f["request_date"]),
            _fact("disclosure.received_via", vocab_label("disclosure.channel", f["received_via"])),
            _fact("disclosure.legal_basis", f["legal_basis"]),
            _fact("disclosure.legal_article", f["legal_article"]),
            _fact("disclosure.answer_due_on", f["answer_due_on"]),
            _fact("disclosure.created_by", f["created_by"]),
            rx.cond(f["decided_by"] != "", _fact("disclosure.decided_by", f["decided_by"])),
            rx.cond(
                f["decision_reason"] != "",
                _fact("disclosure.decision_reason", f["decision_reason"]),
            ),
            rx.cond(
                f["package_digest"] != "",
                rx.fragment(
                    _fact("disclosure.disclosed_at", f["disclosed_at"]),
                    _fact("disclosure.disclosed_by", f["disclosed_by"]),
                    _fact("disclosure.sent_via", vocab_label("disclosure.channel", f["sent_via"])),
                    _fact(
                        "disclosure.package_format",
                        vocab_label("disclosure.format", f["package_format"]),
                    ),
                    _fact("disclosure.package_rows", f["package_rows"]),
                    _fact("disclosure.package_digest", f["package_digest"], "package-digest"),
                ),
            ),  # fmt: skip
            orientation=rx.breakpoints(initial="vertical", sm="horizontal"),
        ),
        width="100%",
    )


def comparison_table() -> rx.Component:
    """Asked for vs picked, per category: a picked category nobody asked for shows red."""

    def row(c: rx.Var) -> rx.Component:
        return rx.table.row(
            rx.table.cell(vocab_label("disclosure.category", c["category"])),
            rx.table.cell(
                rx.cond(
                    c["requested"] != "",
                    rx.badge(t("disclosure.asked"), color_scheme="blue"),
                    rx.text("—", color_scheme="gray"),
                )
            ),
            rx.table.cell(rx.text(c["picked_fields"], color_scheme=c["tone"].to(str))),
            rx.table.cell(c["subjects_picked"]),
            rx.table.cell(rx.text(c["justification"], white_space="pre-wrap", size="1")),
            id="compare-" + c["category"].to(str),
        )

    return rx.card(
        rx.vstack(
            rx.heading(t("disclosure.comparison"), size="4", as_="h2"),
            data_table(
                (
                    "disclosure.category",
                    "disclosure.requested",
                    "disclosure.picked_fields",
                    "disclosure.subjects_picked",
                    "disclosure.justification",
                ),
                D.comparison,
                row,
                "comparison-table",
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
    )


ALL_FIELDS = [(category, name) for category, names in CATEGORIES.items() for name in names]


def _cell(subject: rx.Var, name: str, category: str) -> rx.Component:
    key = subject["id"].to(str) + ":" + name
    return rx.table.cell(
        rx.el.input(
            type="checkbox",
            name="pick:" + key,
            id="pick-" + subject["id"].to(str) + "-" + name,
            default_checked=D.selected.contains(key),
            # Only fields of the categories the request asked for can be picked.
            disabled=~D.can["edit"] | ~D.requested.contains(category),
            class_name="dpa-checkbox",
            aria_label=t(f"subject.{name}"),
        ),
        text_align="center",
    )


def selection_form() -> rx.Component:
    """The minimisation matrix: subjects × fields, and one justification per category."""
    matrix = rx.box(
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    rx.table.column_header_cell(""),
                    *[
                        rx.table.column_header_cell(
                            t(f"disclosure.category.{category}"),
                            col_span=len(names),
                            text_align="center",
                        )
                        for category, names in CATEGORIES.items()
                    ],
                ),
                rx.table.row(
                    rx.table.column_header_cell(t("disclosure.subject")),
                    *[
                        rx.table.column_header_cell(rx.text(t(f"subject.{name}"), size="1"))
                        for _category, name in ALL_FIELDS
                    ],
                ),
            ),
            rx.table.body(
                rx.foreach(
                    D.subjects,
                    lambda s: rx.table.row(
                        rx.table.row_header_cell(
                            rx.link(s["name"], href="/subjects/" + s["id"].to(str)),
                            white_space="nowrap",
                        ),
                        *[_cell(s, name, category) for category, name in ALL_FIELDS],
                    ),
                )
            ),
            size="1",
            id="selection-matrix",
        ),
        overflow_x="auto",
        width="100%",
    )
    justifications = rx.grid(
        *[
            rx.cond(
                D.requested.contains(category),
                rx.vstack(
                    labelled(
                        f"disclosure.category.{category}",
                        rx.text_area(
                            name=f"just_{category}",
                            id=f"just-{category}",
                            default_value=D.justifications[category],
                            read_only=~D.can["edit"],
                            rows="2",
                            width="100%",
                        ),
                    ),
                    rx.cond(
                        D.errors[f"just_{category}"],
                        rx.text(
                            D.errors[f"just_{category}"],
                            size="1",
                            color_scheme="red",
                            id=f"just-{category}-error",
                        ),
                    ),  # fmt: skip
                    spacing="1",
                    width="100%",
                ),
            )
            for category in CATEGORIES
        ],
        columns=rx.breakpoints(initial="1", md="2"),
        spacing="3",
        width="100%",
    )
    return rx.card(
        form(
            rx.vstack(
                rx.heading(t("disclosure.selection"), size="4", as_="h2"),
                rx.text(t("disclosure.selection_hint"), size="2", color_scheme="gray"),
                matrix,
                rx.text(t("disclosure.justifications"), size="2", weight="medium"),
                justifications,
                rx.cond(
                    D.can["edit"],
                    rx.button(t("disclosure.save_selection"), type="submit", id="save-selection"),
                ),
                spacing="3",
                width="100%",
            ),
            on_submit=D.save_selection,
            reset_on_submit=False,
            key=D.version.to(str),
            width="100%",
        ),
        width="100%",
    )


def decision_card() -> rx.Component:
    refuse_form = form(
        rx.vstack(
            labelled(
                "disclosure.refusal_reason",
                rx.text_area(name="reason", id="refuse-reason", rows="2", width="100%"),
            ),
            rx.button(
                t("disclosure.refuse"),
                type="submit",
                color_scheme="red",
                variant="soft",
                id="refuse",
            ),
            spacing="2",
            width="100%",
        ),  # fmt: skip
        on_submit=D.refuse,
        reset_on_submit=True,
        width="100%",
    )
    disclose_form = form(
        rx.vstack(
            rx.grid(
                labelled(
                    "disclosure.package_format",
                    rx.el.select(
                        *[rx.el.option(t(f"disclosure.format.{f}"), value=f) for f in FORMATS],
                        name="format",
                        id="disclose-format",
                        class_name="dpa-select",
                    ),
                ),
                labelled(
                    "disclosure.sent_via",
                    rx.el.select(
                        *[
                            rx.el.option(t(f"disclosure.channel.{c}"), value=c)
                            for c in CHANNELS_OUT
                        ],
                        name="sent_via",
                        id="disclose-via",
                        class_name="dpa-select",
                    ),
                ),
                columns="2",
                spacing="3",
                width="100%",
            ),  # fmt: skip
            rx.text(t("disclosure.disclose_hint"), size="1", color_scheme="gray"),
            rx.button(t("disclosure.disclose"), type="submit", id="disclose"),
            spacing="2",
            width="100%",
        ),
        on_submit=D.disclose,
        reset_on_submit=False,
        width="100%",
    )
    return rx.card(
        rx.vstack(
            rx.heading(t("detail.next_step"), size="4", as_="h2"),
            rx.cond(
                D.can["submit"],
                rx.button(
                    t("disclosure.submit_for_review"),
                    on_click=D.submit_for_review,
                    id="submit-review",
                ),
            ),
            rx.cond(
                D.can["approve"],
                rx.button(
                    t("disclosure.approve"), on_click=D.ask_approve, color_scheme="green",
                    id="approve",
                ),
            ),  # fmt: skip
            rx.cond(D.can["refuse"], refuse_form),
            rx.cond(D.can["disclose"], disclose_form),
            rx.cond(
                D.can["download"],
                rx.button(
                    t("disclosure.download_package"),
                    on_click=D.download_package,
                    variant="soft",
                    id="download-package",
                ),
            ),  # fmt: skip
            rx.cond(
                ~(
                    D.can["submit"]
                    | D.can["approve"]
                    | D.can["refuse"]
                    | D.can["disclose"]
                    | D.can["download"]
                ),
                rx.text(
                    t("disclosure.nothing_to_do"), size="2", color_scheme="gray", id="nothing-to-do"
                ),
            ),  # fmt: skip
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def history_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(t("detail.timeline"), size="4", as_="h2"),
            rx.foreach(
                D.history,
                lambda h: rx.hstack(
                    rx.text(h["at"], size="1", color_scheme="gray", white_space="nowrap"),
                    disclosure_badge(h["status"]),
                    rx.text(h["by"], size="2"),
                    rx.text(h["note"], size="1", color_scheme="gray"),
                    spacing="2",
                    align="center",
                    wrap="wrap",
                ),
            ),
            spacing="2",
            width="100%",
            id="disclosure-history",
        ),
        width="100%",
    )


def disclosure_detail_page() -> rx.Component:
    return page_shell(
        rx.vstack(
            back_link("disclosure.title", "/disclosures"),
            rx.cond(
                D.not_found,
                rx.callout(t("detail.not_found"), icon="triangle-alert", color_scheme="red"),
                rx.vstack(
                    rx.hstack(
                        rx.heading(
                            D.facts["reference"], size="7", as_="h1", id="disclosure-reference"
                        ),
                        rx.badge(vocab_label("disclosure.kind", D.facts["kind"])),
                        rx.box(disclosure_badge(D.facts["status"]), id="disclosure-status"),
                        align="center",
                        wrap="wrap",
                    ),  # fmt: skip
                    notice_callout(D.notice, "disclosure-notice"),
                    confirm_dialog(
                        D.confirm_open, D.confirm_title, D.confirm_text,
                        confirm_key="disclosure.approve", cancel_key="confirm.cancel",
                        on_confirm=D.approve(D.confirm_token), on_cancel=D.cancel_confirm,
                        yes_id="approve-yes", no_id="approve-no", color_scheme="green",
                    ),  # fmt: skip
                    error_callout(D.action_error, "disclosure-error"),
                    rx.grid(
                        facts_card(),
                        rx.vstack(decision_card(), history_card(), spacing="3", width="100%"),
                        columns=rx.breakpoints(initial="1", md="2"),
                        spacing="4",
                        width="100%",
                    ),
                    comparison_table(),
                    selection_form(),
                    spacing="3",
                    width="100%",
                ),
            ),
            spacing="3",
            width="100%",
        ),
    )
