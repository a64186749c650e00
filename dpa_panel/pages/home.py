"""``/``: the panel's front door for the public and for staff."""

from __future__ import annotations

import reflex as rx

from dpa_panel.components.i18n import t
from dpa_panel.components.layout import page_shell


def _card(heading_key: str, text_key: str, link_key: str, href: str, link_id: str) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(t(heading_key), size="4", as_="h2"),
            rx.text(t(text_key), color_scheme="gray"),
            rx.link(rx.button(t(link_key), variant="soft"), href=href, id=link_id),
            spacing="3",
            align="start",
        ),
        width="100%",
    )


def home_page() -> rx.Component:
    return page_shell(
        rx.vstack(
            rx.heading(t("home.title"), size="7", as_="h1"),
            rx.text(t("home.lead"), size="3", max_width="70ch"),
            rx.grid(
                _card("home.apply_heading", "home.apply_text", "nav.apply", "/apply", "home-apply"),
                _card(
                    "home.public_heading",
                    "home.public_text",
                    "nav.privacy",
                    "/privacy",
                    "home-privacy",
                ),
                _card("home.my_heading", "home.my_text", "my.title", "/my", "home-my"),
                _card("home.staff_heading", "home.staff_text", "nav.login", "/login", "home-login"),
                columns=rx.breakpoints(initial="1", sm="2", lg="3"),
                spacing="4",
                width="100%",
            ),
            spacing="5",
            align="start",
        ),
    )
