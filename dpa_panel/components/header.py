"""The header: brand, navigation, language switcher."""

from __future__ import annotations

import reflex as rx

from dpa_panel.components.i18n import t
from dpa_panel.i18n import LOCALES
from dpa_panel.state.app_state import AppState


def locale_switcher() -> rx.Component:
    """A compact select; the choice is stored in the browser's local storage."""
    return rx.select.root(
        rx.select.trigger(aria_label=t("locale.label"), id="locale-switcher"),
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


def header(*actions: rx.Component) -> rx.Component:
    """Page header; ``actions`` go to the right of the navigation (e.g. the login button)."""
    return rx.box(
        rx.flex(
            brand(),
            rx.spacer(),
            rx.flex(
                rx.link(t("nav.privacy"), href="/privacy", size="2", id="nav-privacy"),
                *actions,
                locale_switcher(),
                align="center",
                spacing="4",
                wrap="wrap",
                justify="end",
            ),
            align="center",
            wrap="wrap",
            gap="3",
            padding_x=["12px", "24px"],
            padding_y="10px",
            max_width="1200px",
            margin_x="auto",
        ),
        as_="header",
        border_bottom=f"1px solid {rx.color('gray', 5)}",
        background=rx.color("gray", 1),
        width="100%",
    )
