"""The header: brand, navigation for the logged-in role, language switcher, login/logout."""

from __future__ import annotations

import reflex as rx

from dpa_panel.components.i18n import t
from dpa_panel.i18n import LOCALES
from dpa_panel.state.app_state import AppState
from dpa_panel.state.auth_state import AuthState


def locale_switcher(element_id: str = "locale-switcher") -> rx.Component:
    """A compact select; the choice is stored in the browser's local storage."""
    return rx.select.root(
        rx.select.trigger(aria_label=t("locale.label"), id=element_id),
        rx.select.content(
            *[rx.select.item(t(f"locale.{code}"), value=code) for code in LOCALES],
        ),
        value=AppState.lang,
        on_change=AppState.choose_locale,
        size="2",
    )


def brand() -> rx.Component:
    return rx.link(
        rx.hstack(
            rx.icon("shield-check", size=28, color=rx.color("teal", 10)),
            rx.vstack(
                rx.text(t("app.name"), weight="bold", size="3", line_height="1.2"),
                rx.text(t("app.org"), size="1", color_scheme="gray", line_height="1.2"),
                spacing="0",
            ),
            align="center",
            spacing="2",
        ),
        href="/",
        underline="none",
        color="inherit",
    )


def _nav_link(item: rx.Var) -> rx.Component:
    return rx.link(AppState.t[item["label"].to(str)].to(str), href=item["href"].to(str), size="2")


def account_area() -> rx.Component:
    """Logged in: who is logged in and log out. Otherwise: log in."""
    return rx.cond(
        AuthState.logged_in,
        rx.flex(
            rx.badge(AuthState.me_username, variant="soft", color_scheme="gray", id="me-username"),
            rx.button(
                t("nav.logout"),
                on_click=AuthState.logout,
                variant="outline",
                size="1",
                id="logout-button",
            ),
            align="center",
            spacing="3",
        ),
        rx.link(t("nav.login"), href="/login", size="2", id="nav-login"),
    )


def nav_bar() -> rx.Component:
    """The role's pages on a row of their own under the brand: a compliance officer has eleven,
    which would otherwise wrap around the account controls."""
    return rx.cond(
        AuthState.logged_in,
        rx.box(
            rx.flex(
                rx.foreach(AuthState.nav, _nav_link),
                spacing="4",
                wrap="wrap",
                padding_x=["12px", "24px"],
                padding_y="8px",
                max_width="1200px",
                margin_x="auto",
                id="nav-bar",
            ),
            border_top=f"1px solid {rx.color('gray', 4)}",
            width="100%",
        ),
    )


def _menu_link(item: rx.Var) -> rx.Component:
    return rx.menu.item(
        AppState.t[item["label"].to(str)].to(str),
        on_click=rx.redirect(item["href"].to(str)),
    )


def phone_menu() -> rx.Component:
    """On a phone the navigation folds into one menu button beside the language switcher."""
    return rx.menu.root(
        rx.menu.trigger(
            rx.icon_button(
                rx.icon("menu"), variant="soft", aria_label=t("nav.menu"), id="phone-menu"
            )
        ),
        rx.menu.content(
            rx.menu.item(t("nav.privacy"), on_click=rx.redirect("/privacy")),
            rx.menu.item(t("my.title"), on_click=rx.redirect("/my")),
            rx.cond(
                AuthState.logged_in,
                rx.fragment(
                    rx.menu.separator(),
                    rx.foreach(AuthState.nav, _menu_link),
                    rx.menu.separator(),
                    rx.menu.item(t("nav.logout"), on_click=AuthState.logout, color="red"),
                ),
                rx.menu.item(t("nav.login"), on_click=rx.redirect("/login")),
            ),
        ),
    )


def _bar(*children: rx.Component) -> rx.Component:
    return rx.flex(
        *children,
        align="center",
        wrap="wrap",
        spacing="3",
        padding_x=["12px", "24px"],
        padding_y="10px",
        max_width="1200px",
        margin_x="auto",
    )


def header() -> rx.Component:
    return rx.box(
        rx.desktop_only(
            _bar(
                brand(),
                rx.spacer(),
                rx.flex(
                    rx.link(t("nav.privacy"), href="/privacy", size="2", id="nav-privacy"),
                    rx.link(t("my.title"), href="/my", size="2", id="nav-my"),
                    account_area(),
                    locale_switcher(),
                    align="center",
                    spacing="4",
                    wrap="wrap",
                    justify="end",
                ),
            ),
            nav_bar(),
        ),
        rx.mobile_and_tablet(
            _bar(brand(), rx.spacer(), locale_switcher("locale-switcher-phone"), phone_menu()),
        ),
        as_="header",
        border_bottom=f"1px solid {rx.color('gray', 5)}",
        background=rx.color("gray", 1),
        width="100%",
    )
