"""``/login``: staff sign in. One generic failure message, whatever went wrong."""

from __future__ import annotations

import reflex as rx

from dpa_panel.components.forms import error_callout, field
from dpa_panel.components.i18n import t
from dpa_panel.components.layout import page_shell
from dpa_panel.state.auth_state import AuthState


def login_form() -> rx.Component:
    return rx.form(
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
            rx.text(AuthState.lockout_note, size="1", color_scheme="gray"),
            spacing="4",
            width="100%",
        ),
        on_submit=AuthState.login,
        reset_on_submit=False,
        width="100%",
    )


def login_page() -> rx.Component:
    return page_shell(
        rx.center(
            rx.card(
                rx.vstack(
                    rx.heading(t("auth.title"), size="6", as_="h1"),
                    rx.text(t("auth.subtitle"), color_scheme="gray", size="2"),
                    login_form(),
                    spacing="4",
                    width="100%",
                ),
                width="100%",
                max_width="420px",
                size="3",
            ),
            width="100%",
        ),
    )
