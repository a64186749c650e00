"""``/account`` (own sessions, log out everywhere) and ``/account/password``."""

from __future__ import annotations

import reflex as rx

from dpa_panel.components.forms import error_callout, field, form, notice_callout
from dpa_panel.components.i18n import t
from dpa_panel.components.layout import page_shell
from dpa_panel.pages.login import enrolment_steps, recovery_codes_list
from dpa_panel.pages.notifications import notifications_card
from dpa_panel.state.account_state import AccountState
from dpa_panel.state.app_state import AppState


def _session_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row["started"]),
        rx.table.cell(row["last_seen"]),
        rx.table.cell(row["ip"]),
        rx.table.cell(rx.text(row["agent"], size="1", color_scheme="gray")),
        rx.table.cell(
            rx.cond(row["current"] != "", rx.badge(t("account.this_session"), color_scheme="teal"))
        ),
    )


def _two_factor_status() -> rx.Component:
    return rx.hstack(
        rx.cond(
            AccountState.two_factor_on,
            rx.badge(t("two_factor.status_on"), color_scheme="green", id="two-factor-on"),
            rx.badge(t("two_factor.status_off"), color_scheme="gray", id="two-factor-off"),
        ),
        rx.cond(
            AccountState.two_factor_on,
            rx.text(
                AccountState.recovery_left_text,
                size="2",
                color_scheme="gray",
            ),
        ),
        spacing="3",
        align="center",
        wrap="wrap",
    )


def _two_factor_enrol() -> rx.Component:
    return form(
        rx.vstack(
            enrolment_steps(AccountState.tf_qr, AccountState.tf_secret),
            field(
                "two_factor.code_label",
                "tf_code",
                autocomplete="one-time-code",
                max_length=10,
                input_mode="numeric",
            ),
            rx.button(t("two_factor.confirm"), type="submit", id="tf-confirm"),
            spacing="3",
            width="100%",
            max_width="420px",
        ),
        on_submit=AccountState.confirm_two_factor,
        reset_on_submit=True,
        width="100%",
    )


def _two_factor_disable() -> rx.Component:
    return form(
        rx.vstack(
            rx.text(t("two_factor.disable_hint"), size="2"),
            field("auth.code_label", "disable_code", autocomplete="one-time-code", max_length=40),
            rx.button(
                t("two_factor.disable"),
                type="submit",
                color_scheme="red",
                variant="soft",
                id="tf-disable",
            ),
            spacing="2",
            width="100%",
            max_width="420px",
        ),
        on_submit=AccountState.disable_two_factor,
        reset_on_submit=True,
        width="100%",
    )


def two_factor_section() -> rx.Component:
    """Status; set up (QR code, key, first code); recovery codes once; turn off if allowed."""
    return rx.vstack(
        rx.heading(t("two_factor.section"), size="4", as_="h2"),
        _two_factor_status(),
        notice_callout(AccountState.tf_notice, "tf-notice"),
        error_callout(AccountState.tf_error, "tf-error"),
        rx.match(
            AccountState.tf_step,
            ("enrol", _two_factor_enrol()),
            (
                "codes",
                rx.vstack(
                    recovery_codes_list(AccountState.tf_codes),
                    rx.button(
                        t("two_factor.done"), on_click=AccountState.finish_two_factor, id="tf-done"
                    ),
                    spacing="3",
                    width="100%",
                ),
            ),
            rx.cond(
                AccountState.two_factor_on,
                rx.cond(~AccountState.two_factor_required, _two_factor_disable()),
                rx.button(
                    t("two_factor.start"),
                    on_click=AccountState.start_two_factor,
                    variant="soft",
                    id="tf-start",
                ),
            ),
        ),
        spacing="3",
        align="start",
        width="100%",
    )


def account_page() -> rx.Component:
    return page_shell(
        rx.vstack(
            rx.heading(t("account.title"), size="7", as_="h1"),
            rx.data_list.root(
                rx.data_list.item(
                    rx.data_list.label(t("auth.username")),
                    rx.data_list.value(AccountState.me_username),
                ),
                rx.data_list.item(
                    rx.data_list.label(t("account.full_name")),
                    rx.data_list.value(AccountState.me_full_name),
                ),
                rx.data_list.item(
                    rx.data_list.label(t("account.role")),
                    rx.data_list.value(AppState.t["role." + AccountState.me_role].to(str)),
                ),
            ),
            rx.hstack(
                rx.link(
                    rx.button(t("account.change_password"), variant="soft"),
                    href="/account/password",
                ),
                rx.button(
                    t("account.logout_everywhere"),
                    on_click=AccountState.logout_everywhere,
                    color_scheme="red",
                    variant="soft",
                    id="logout-everywhere",
                ),
                wrap="wrap",
                spacing="3",
            ),
            two_factor_section(),
            rx.heading(t("account.sessions"), size="4", as_="h2"),
            rx.box(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            rx.table.column_header_cell(t("account.started")),
                            rx.table.column_header_cell(t("account.last_seen")),
                            rx.table.column_header_cell(t("account.ip")),
                            rx.table.column_header_cell(t("account.device")),
                            rx.table.column_header_cell(""),
                        )
                    ),
                    rx.table.body(rx.foreach(AccountState.sessions, _session_row)),
                    size="1",
                ),
                overflow_x="auto",
                width="100%",
            ),
            notifications_card(),
            spacing="4",
            align="start",
            width="100%",
        ),
    )


def password_page() -> rx.Component:
    return page_shell(
        rx.center(
            rx.card(
                form(
                    rx.vstack(
                        rx.heading(t("password.title"), size="6", as_="h1"),
                        rx.text(t("password.rules"), size="2", color_scheme="gray"),
                        field(
                            "password.current",
                            "current",
                            type_="password",
                            autocomplete="current-password",
                        ),
                        field(
                            "password.new",
                            "password",
                            type_="password",
                            autocomplete="new-password",
                        ),
                        field(
                            "password.confirm",
                            "confirm",
                            type_="password",
                            autocomplete="new-password",
                        ),
                        error_callout(AccountState.password_error, "password-error"),
                        notice_callout(AccountState.password_notice, "password-notice"),
                        rx.button(
                            t("password.save"),
                            type="submit",
                            size="3",
                            width="100%",
                            id="password-submit",
                        ),
                        spacing="4",
                        width="100%",
                    ),
                    on_submit=AccountState.change_password,
                    reset_on_submit=True,
                ),
                width="100%",
                max_width="460px",
                size="3",
            ),
            width="100%",
        ),
    )
