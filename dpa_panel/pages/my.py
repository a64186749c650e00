"""``/my``: the data subject's privacy centre (issue 20) — e-mail, code, then their own data,
consents with withdrawal, requests, and the released access packages."""

from __future__ import annotations

import reflex as rx

from dpa_panel.components.confirm import confirm_dialog
from dpa_panel.components.forms import error_callout, field, form, notice_callout, textarea_field
from dpa_panel.components.i18n import t
from dpa_panel.components.layout import page_shell
from dpa_panel.components.status import status_badge
from dpa_panel.services.privacy_centre import RECTIFIABLE_FIELDS
from dpa_panel.state.app_state import AppState
from dpa_panel.state.my_state import MyState as M

CONSENT_COLORS = {"granted": "green", "withdrawn": "gray", "never": "gray"}


def _label(vocabulary: str, code: rx.Var) -> rx.Var:
    return AppState.t[f"{vocabulary}." + code.to(str)].to(str)


def _email_step() -> rx.Component:
    return form(
        rx.vstack(
            field("my.email_label", "email", type_="email", autocomplete="email",
                  max_length=254, required=False),
            rx.button(t("my.send_code"), type="submit", id="send-code", size="3"),
            spacing="3",
            align="start",
            width="100%",
        ),
        on_submit=M.send_code,
        reset_on_submit=False,
        width="100%",
        max_width="420px",
    )  # fmt: skip


def _code_step() -> rx.Component:
    return form(
        rx.vstack(
            field("my.code_label", "code", autocomplete="one-time-code", max_length=6,
                  required=False, input_mode="numeric"),
            rx.hstack(
                rx.button(t("my.verify"), type="submit", id="verify-code", size="3"),
                rx.button(t("my.other_email"), type="button", variant="soft", size="3",
                          on_click=M.other_email, id="other-email"),
                spacing="2",
                wrap="wrap",
            ),
            spacing="3",
            align="start",
            width="100%",
        ),
        on_submit=M.verify,
        reset_on_submit=True,
        width="100%",
        max_width="420px",
    )  # fmt: skip


def _purpose(p: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text(_label("purpose", p["purpose"]), weight="bold"),
                rx.box(status_badge("consent_state", p["state"], CONSENT_COLORS),
                       id="my-state-" + p["purpose"].to(str)),
                wrap="wrap",
                align="center",
            ),
            rx.text(t("my.basis.consent"), size="1", color_scheme="gray"),
            rx.cond(p["policy"] != "", rx.text(p["policy"], size="1")),
            rx.cond(p["given"] != "", rx.text(p["given"], size="1")),
            rx.cond(p["withdrawn"] != "", rx.text(p["withdrawn"], size="1")),
            rx.cond(p["limited"] != "", rx.text(p["limited"], size="1", color_scheme="orange")),
            rx.cond(
                p["state"] == "granted",
                rx.button(t("my.withdraw"), variant="outline", color_scheme="red", size="2",
                          on_click=M.ask_withdraw(p["purpose"]),
                          id="withdraw-" + p["purpose"].to(str),
                          aria_label=t("my.withdraw") + ": " + _label("purpose", p["purpose"])),
            ),
            spacing="1",
            align="start",
        ),
        width="100%",
    )  # fmt: skip


def _confirm_box() -> rx.Component:
    return confirm_dialog(
        M.pending != "", t("confirm.title"), M.pending_text,
        confirm_key="my.confirm", cancel_key="my.cancel",
        on_confirm=M.confirm, on_cancel=M.cancel, color_scheme="orange",
    )  # fmt: skip


def _request_row(r: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(r["reference"], white_space="nowrap"),
        rx.table.cell(_label("request_kind", r["kind"])),
        rx.table.cell(_label("request_status", r["status"]), id="my-request-status-" + r["id"]),
        rx.table.cell(r["due"], white_space="nowrap"),
        rx.table.cell(
            rx.vstack(
                rx.text(r["package_text"], size="1"),
                rx.cond(r["package"] == "released",
                        rx.button(t("my.download"), size="1", on_click=M.download(r["id"]),
                                  id="my-download-" + r["id"])),
                spacing="1",
            ),
        ),
    )  # fmt: skip


def _ask() -> rx.Component:
    return rx.vstack(
        rx.heading(t("my.section.ask"), size="4", as_="h2"),
        rx.hstack(
            *[
                rx.button(t(f"my.ask.{kind}"), variant="soft", on_click=M.ask_request(kind),
                          id=f"ask-{kind}")
                for kind in ("access", "blocking", "destruction")
            ],
            wrap="wrap",
            spacing="2",
        ),
        rx.el.details(
            rx.el.summary(t("my.ask.rectification"), id="open-rectification"),
            form(
                rx.vstack(
                    rx.text(t("my.rect_lead"), size="2"),
                    rx.grid(
                        *[field(f"subject.{name}", f"new_{name}", required=False,
                                max_length=300) for name in RECTIFIABLE_FIELDS],
                        columns=rx.breakpoints(initial="1", md="2"),
                        spacing="3",
                        width="100%",
                    ),
                    textarea_field("my.note", "note", required=False),
                    rx.button(t("my.send_rectification"), type="submit",
                              id="send-rectification"),
                    spacing="3",
                    width="100%",
                ),
                on_submit=M.send_rectification,
                reset_on_submit=True,
                width="100%",
            ),
        ),
        spacing="3",
        width="100%",
    )  # fmt: skip


def _signed_in() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text(M.hello, weight="bold", id="my-name"),
            rx.button(t("my.signout"), variant="soft", size="2", on_click=M.sign_out,
                      id="my-signout"),
            justify="between",
            width="100%",
            wrap="wrap",
        ),
        rx.text(t("my.idle_note"), size="1", color_scheme="gray"),
        _confirm_box(),
        rx.heading(t("my.section.held"), size="4", as_="h2"),
        rx.el.ul(rx.foreach(M.categories, lambda c: rx.el.li(_label("my.category", c))),
                 id="my-categories"),
        rx.text(M.retention, size="2", id="my-retention"),
        rx.text(t("purpose.statistics"), ": ", t("my.basis.anonymised"), size="1",
                color_scheme="gray"),
        rx.heading(t("my.section.consents"), size="4", as_="h2"),
        rx.grid(rx.foreach(M.purposes, _purpose),
                columns=rx.breakpoints(initial="1", md="2"), spacing="3", width="100%"),
        _ask(),
        rx.heading(t("my.section.requests"), size="4", as_="h2"),
        rx.cond(
            M.requests.length() > 0,
            rx.box(
                rx.table.root(
                    rx.table.header(rx.table.row(
                        *[rx.table.column_header_cell(t(f"my.col.{c}"))
                          for c in ("reference", "kind", "status", "due", "package")]
                    )),
                    rx.table.body(rx.foreach(M.requests, _request_row)),
                    width="100%",
                    id="my-requests",
                ),
                overflow_x="auto",
                width="100%",
            ),
            rx.text(t("my.no_requests"), size="2", color_scheme="gray"),
        ),
        spacing="3",
        width="100%",
    )  # fmt: skip


def my_page() -> rx.Component:
    return page_shell(
        rx.vstack(
            rx.heading(t("my.title"), size="7", as_="h1"),
            rx.text(t("my.lead"), size="2"),
            notice_callout(M.notice, "my-notice"),
            error_callout(M.error, "my-error"),
            rx.match(
                M.step,
                ("code", _code_step()),
                ("in", _signed_in()),
                _email_step(),
            ),
            spacing="4",
            width="100%",
            max_width="900px",
        ),
    )
