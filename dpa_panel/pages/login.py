"""``/login``: staff sign in. One generic failure message, whatever went wrong.

The password step, then — for accounts with a second factor — the code step, or for an admin
or compliance officer without one the set-up step (QR code, key as text, first code, recovery
codes shown once). Nothing else of the panel is reachable before all steps are done: no
session exists until then.
"""

from __future__ import annotations

import reflex as rx

from dpa_panel.components.forms import error_callout, field, form
from dpa_panel.components.i18n import t
from dpa_panel.components.layout import page_shell
from dpa_panel.state.auth_state import AuthState


def login_form() -> rx.Component:
    return form(
        rx.vstack(
            field("auth.username", "username", autocomplete="username", max_length=64),
            field(
                "auth.password",
                "password",
                type_="password",
                autocomplete="current-password",
                max_length=256,
            ),
            error_callout(AuthState.login_error, "login-error"),
            rx.button(t("auth.sign_in"), type="submit", size="3", width="100%", id="login-submit"),
            rx.text(AuthState.throttle_note, size="1", color_scheme="gray"),
            spacing="4",
            width="100%",
        ),
        on_submit=AuthState.login,
        reset_on_submit=False,
        width="100%",
    )


def _code_field(label_key: str) -> rx.Component:
    return field(
        label_key,
        "code",
        autocomplete="one-time-code",
        max_length=40,
        input_mode="text",
        auto_focus=True,
    )


def _start_over() -> rx.Component:
    return rx.button(
        t("auth.start_over"),
        type="button",
        variant="ghost",
        on_click=AuthState.cancel_login,
        id="login-start-over",
    )


def code_form() -> rx.Component:
    return form(
        rx.vstack(
            rx.heading(t("auth.code_title"), size="4", as_="h2"),
            rx.text(t("auth.code_intro"), size="2"),
            _code_field("auth.code_label"),
            error_callout(AuthState.login_error, "login-error"),
            rx.button(
                t("auth.code_submit"), type="submit", size="3", width="100%", id="code-submit"
            ),
            _start_over(),
            spacing="4",
            width="100%",
        ),
        on_submit=AuthState.submit_code,
        reset_on_submit=True,
        width="100%",
    )


def enrolment_steps(qr: rx.Var, secret: rx.Var) -> rx.Component:
    """The QR code, the key as text and the three steps (shared with the account page)."""
    return rx.vstack(
        rx.text(t("two_factor.step_app"), size="2"),
        rx.text(t("two_factor.step_scan"), size="2"),
        rx.center(
            rx.image(
                src=qr,
                alt=t("two_factor.qr_alt"),
                width="220px",
                height="220px",
                id="enrol-qr",
                background="white",
            ),
            width="100%",
        ),
        rx.text(t("two_factor.secret_label"), size="1", color_scheme="gray"),
        rx.code(secret, id="enrol-secret", size="3", white_space="normal"),
        rx.text(t("two_factor.step_code"), size="2"),
        spacing="2",
        width="100%",
    )


def recovery_codes_list(codes: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.heading(t("two_factor.recovery_title"), size="4", as_="h2"),
        rx.callout(t("two_factor.recovery_note"), icon="key-round", color_scheme="amber"),
        rx.grid(
            rx.foreach(codes, lambda code: rx.code(code, size="3")),
            columns="2",
            spacing="2",
            id="recovery-codes",
        ),
        spacing="3",
        width="100%",
    )


def enrol_form() -> rx.Component:
    return form(
        rx.vstack(
            rx.heading(t("two_factor.enrol_title"), size="4", as_="h2"),
            rx.callout(t("two_factor.enrol_required"), icon="shield-check", color_scheme="teal"),
            enrolment_steps(AuthState.enrol_qr, AuthState.enrol_secret),
            _code_field("two_factor.code_label"),
            error_callout(AuthState.login_error, "login-error"),
            rx.button(
                t("two_factor.confirm"), type="submit", size="3", width="100%", id="enrol-submit"
            ),
            _start_over(),
            spacing="4",
            width="100%",
        ),
        on_submit=AuthState.confirm_enrolment,
        reset_on_submit=True,
        width="100%",
    )


def codes_step() -> rx.Component:
    return rx.vstack(
        recovery_codes_list(AuthState.recovery_codes),
        error_callout(AuthState.login_error, "login-error"),
        rx.button(
            t("two_factor.continue"),
            size="3",
            width="100%",
            height="auto",
            min_height="var(--space-7)",
            padding_y="var(--space-2)",
            white_space="normal",
            on_click=AuthState.finish_enrolment,
            id="codes-continue",
        ),
        spacing="4",
        width="100%",
    )


def login_page() -> rx.Component:
    return page_shell(
        rx.center(
            rx.card(
                rx.vstack(
                    rx.heading(t("auth.title"), size="6", as_="h1"),
                    rx.text(t("auth.subtitle"), color_scheme="gray", size="2"),
                    rx.match(
                        AuthState.login_step,
                        ("code", code_form()),
                        ("enrol", enrol_form()),
                        ("codes", codes_step()),
                        login_form(),
                    ),
                    spacing="4",
                    width="100%",
                ),
                width="100%",
                max_width="460px",
                size="3",
            ),
            width="100%",
        ),
    )
