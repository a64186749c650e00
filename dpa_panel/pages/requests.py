"""``/requests`` (open requests by days left, new request) and ``/requests/[request_id]``."""

from __future__ import annotations

import reflex as rx

from dpa_panel.components.forms import error_callout, notice_callout
from dpa_panel.components.i18n import t
from dpa_panel.components.layout import back_link, page_shell
from dpa_panel.components.listing import data_table, labelled
from dpa_panel.models.vocab import REQUEST_CHANNELS, REQUEST_KINDS
from dpa_panel.state.app_state import AppState
from dpa_panel.state.requests_state import RequestDetailState as D
from dpa_panel.state.requests_state import RequestsState as R


def _label(vocabulary: str, code: rx.Var) -> rx.Var:
    return AppState.t[f"{vocabulary}." + code.to(str)].to(str)


def _count(key: str, label_key: str, color: str) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(t(label_key), size="1", color_scheme="gray"),
            rx.heading(R.counts[key], size="6", color_scheme=color, id=f"requests-{key}"),
            spacing="1",
        ),
    )


def _row(r: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.link(r["reference"], href="/requests/" + r["id"].to(str)), white_space="nowrap"
        ),
        rx.table.cell(_label("request_kind", r["kind"])),
        rx.table.cell(_label("request_status", r["status"])),
        rx.table.cell(r["requester"]),
        rx.table.cell(r["due"], white_space="nowrap"),
        rx.table.cell(
            rx.badge(
                rx.cond(r["overdue"] != "", t("requests.overdue"), ""),
                " ",
                r["days_left"],
                color_scheme=r["tone"].to(str),
            )
        ),
        id="request-" + r["reference"].to(str),
    )


def new_request_form() -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading(t("requests.new"), size="4", as_="h2"),
                rx.grid(
                    labelled(
                        "requests.kind",
                        rx.el.select(
                            *[rx.el.option(t(f"request_kind.{k}"), value=k) for k in REQUEST_KINDS],
                            name="kind",
                            id="new-kind",
                            class_name="dpa-select",
                        ),
                    ),
                    labelled(
                        "consents.channel",
                        rx.el.select(
                            *[
                                rx.el.option(t(f"request_channel.{c}"), value=c)
                                for c in REQUEST_CHANNELS
                            ],
                            name="channel",
                            id="new-channel",
                            class_name="dpa-select",
                        ),
                    ),
                    labelled(
                        "requests.received_on",
                        rx.input(name="received_on", type="date", id="new-received", width="100%"),
                    ),
                    labelled(
                        "requests.requester",
                        rx.input(name="requester", id="new-requester", width="100%"),
                    ),
                    labelled(
                        "requests.contact", rx.input(name="contact", id="new-contact", width="100%")
                    ),
                    labelled(
                        "requests.subject",
                        rx.input(
                            name="subject",
                            id="new-subject",
                            width="100%",
                            placeholder=t("requests.subject_hint"),
                        ),
                    ),
                    columns=rx.breakpoints(initial="1", md="3"),
                    spacing="3",
                    width="100%",
                ),  # fmt: skip
                labelled(
                    "requests.details", rx.text_area(name="details", id="new-details", width="100%")
                ),
                error_callout(R.form_error, "request-form-error"),
                rx.button(t("requests.create"), type="submit", id="request-create"),
                spacing="3",
                width="100%",
            ),
            on_submit=R.create,
            reset_on_submit=False,
        ),
        width="100%",
    )


def requests_page() -> rx.Component:
    return page_shell(
        rx.vstack(
            rx.heading(t("requests.title"), size="7", as_="h1"),
            rx.grid(
                _count("open", "requests.open", "blue"),
                _count("overdue", "requests.overdue", "red"),
                _count("due_today", "requests.due_today", "amber"),
                _count("answered_on_time", "requests.on_time", "green"),
                columns=rx.breakpoints(initial="2", md="4"),
                spacing="3",
                width="100%",
            ),
            data_table(
                (
                    "pipeline.reference",
                    "requests.kind",
                    "pipeline.status",
                    "requests.requester",
                    "requests.due",
                    "requests.days_left",
                ),
                R.rows,
                _row,
                "requests-table",
            ),
            new_request_form(),
            spacing="4",
            width="100%",
            align="start",
        ),
    )


def _fact(label_key: str, value) -> rx.Component:
    return rx.data_list.item(
        rx.data_list.label(t(label_key)),
        rx.data_list.value(rx.text(value, white_space="pre-wrap")),
    )


def verify_form() -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading(t("requests.verify"), size="4", as_="h2"),
                labelled(
                    "requests.subject",
                    rx.input(
                        name="subject",
                        id="verify-subject",
                        width="100%",
                        placeholder=t("requests.subject_hint"),
                    ),
                ),
                labelled(
                    "requests.method",
                    rx.input(
                        name="method",
                        id="verify-method",
                        width="100%",
                        placeholder=t("requests.method_hint"),
                    ),
                ),
                rx.button(t("requests.verify"), type="submit", id="verify-submit"),
                spacing="2",
                width="100%",
            ),  # fmt: skip
            on_submit=D.verify_identity,
            reset_on_submit=True,
        ),
        width="100%",
    )


def status_form() -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading(t("detail.next_step"), size="4", as_="h2"),
                rx.el.select(
                    rx.foreach(
                        D.allowed, lambda s: rx.el.option(_label("request_status", s), value=s)
                    ),
                    name="to_status",
                    id="request-to-status",
                    class_name="dpa-select",
                ),
                rx.text_area(
                    name="text",
                    id="request-text",
                    rows="4",
                    width="100%",
                    placeholder=t("requests.answer_hint"),
                ),  # fmt: skip
                rx.button(t("detail.apply_step"), type="submit", id="request-step"),
                spacing="2",
                width="100%",
            ),
            on_submit=D.change_status,
            reset_on_submit=True,
        ),
        width="100%",
    )


def request_detail_page() -> rx.Component:
    return page_shell(
        rx.vstack(
            back_link("requests.title", "/requests"),
            rx.cond(
                D.not_found,
                rx.callout(t("detail.not_found"), icon="triangle-alert", color_scheme="red"),
                rx.vstack(
                    rx.hstack(
                        rx.heading(
                            D.request["reference"], size="7", as_="h1", id="request-reference"
                        ),
                        rx.badge(_label("request_kind", D.request["kind"])),
                        rx.badge(
                            _label("request_status", D.request["status"]),
                            color_scheme="blue",
                            id="request-status",
                        ),
                        align="center",
                        wrap="wrap",
                    ),  # fmt: skip
                    notice_callout(D.notice, "request-notice"),
                    error_callout(D.action_error, "request-error"),
                    rx.card(
                        rx.data_list.root(
                            _fact("requests.received_on", D.request["received"]),
                            _fact(
                                "consents.channel", _label("request_channel", D.request["channel"])
                            ),
                            _fact("requests.requester", D.request["requester"]),
                            _fact("requests.contact", D.request["contact"]),
                            _fact("requests.details", D.request["details"]),
                            _fact("requests.due", D.request["due"]),
                            _fact("requests.days_left", D.request["days_left"]),
                            _fact("requests.verified", D.request["verified"]),
                            _fact("requests.method", D.request["method"]),
                            _fact("requests.answer", D.request["answer"]),
                            _fact("requests.refusal_reason", D.request["refusal_reason"]),
                            orientation=rx.breakpoints(initial="vertical", sm="horizontal"),
                        ),
                        width="100%",
                    ),
                    rx.cond(
                        D.request["subject_id"] != "",
                        rx.link(
                            t("requests.open_subject"),
                            href="/subjects/" + D.request["subject_id"],
                            id="open-subject",
                        ),
                    ),  # fmt: skip
                    rx.grid(
                        rx.cond(D.request["verified"] == "", verify_form()),
                        rx.cond(D.allowed.length() > 0, status_form()),
                        columns=rx.breakpoints(initial="1", md="2"),
                        spacing="4",
                        width="100%",
                    ),
                    spacing="3",
                    width="100%",
                ),
            ),
            spacing="3",
            width="100%",
            max_width="1000px",
        ),
    )
