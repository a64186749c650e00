"""The page frame every page is composed into."""

from __future__ import annotations

import reflex as rx

from dpa_panel.components.header import header
from dpa_panel.components.i18n import t


def footer() -> rx.Component:
    """The operator (organisation profile, issue 17) and where the data is kept."""
    from dpa_panel.state.org_state import OrgFooterState

    return rx.box(
        rx.cond(
            OrgFooterState.footer_line != "",
            rx.text(OrgFooterState.footer_line, size="1", color_scheme="gray",
                    id="footer-operator"),
        ),  # fmt: skip
        rx.text(t("footer.data_location"), size="1", color_scheme="gray"),
        as_="footer",
        padding_x=["12px", "24px"],
        padding_y="16px",
        max_width="1200px",
        margin_x="auto",
        width="100%",
    )


def page_shell(*children: rx.Component) -> rx.Component:
    """Header, a centred main column, footer."""
    return rx.flex(
        header(),
        rx.box(
            *children,
            as_="main",
            id="main",
            padding_x=["12px", "24px"],
            padding_y=["16px", "32px"],
            max_width="1200px",
            margin_x="auto",
            width="100%",
            flex="1",
        ),
        footer(),
        direction="column",
        min_height="100vh",
    )


def back_link(label_key: str, href: str) -> rx.Component:
    """ "← Applications": the way back from a detail page to its list."""
    return rx.link(
        rx.hstack(rx.icon("arrow-left", size=14), t(label_key), spacing="1", align="center"),
        href=href,
        size="2",
    )
