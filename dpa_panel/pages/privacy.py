"""``/privacy``: the policy edition in force (or ``?v=label``) in kk/ru/en."""

from __future__ import annotations

import reflex as rx

from dpa_panel.components.i18n import t
from dpa_panel.components.layout import page_shell
from dpa_panel.state.app_state import AppState
from dpa_panel.state.privacy_state import PrivacyState


def _meta_row(label_key: str, value: rx.Var) -> rx.Component:
    return rx.data_list.item(
        rx.data_list.label(t(label_key)),
        rx.data_list.value(value, word_break="break-all"),
    )


def _block(block: rx.Var) -> rx.Component:
    """One line of the policy text, styled by its kind (see ``text_blocks``)."""
    content = block["text"].to(str)
    return rx.match(
        block["kind"],
        ("title", rx.heading(content, size="5", as_="h2")),
        ("heading", rx.heading(content, size="4", as_="h3", margin_top="0.75em")),
        ("item", rx.text("• ", content, padding_left="1.25em", text_indent="-0.75em")),
        rx.text(content),
    )


def _edition_link(edition: rx.Var) -> rx.Component:
    return rx.link(edition["label"], href="/privacy?v=" + edition["label"].to(str))


def privacy_page() -> rx.Component:
    return page_shell(
        rx.cond(
            PrivacyState.not_found,
            rx.callout(t("privacy.not_found"), icon="triangle-alert", color_scheme="red"),
            rx.vstack(
                rx.heading(t("privacy.title"), size="7", as_="h1"),
                rx.data_list.root(
                    _meta_row("privacy.version", PrivacyState.label),
                    _meta_row("privacy.effective", PrivacyState.effective_display),
                    _meta_row("privacy.sha256", rx.code(PrivacyState.hashes[AppState.lang])),
                    orientation=rx.breakpoints(initial="vertical", sm="horizontal"),
                ),
                rx.cond(
                    AppState.lang != "kk",
                    rx.callout(t("privacy.translation_note"), icon="info", size="1"),
                ),
                rx.cond(
                    PrivacyState.filled_from_profile,
                    rx.callout(t("profile.filled_note"), icon="info", size="1",
                               id="privacy-filled-note"),
                ),  # fmt: skip
                rx.vstack(
                    rx.foreach(PrivacyState.blocks[AppState.lang], _block),
                    id="policy-text",
                    max_width="80ch",
                    spacing="2",
                    lang=AppState.lang,
                ),
                rx.cond(
                    PrivacyState.editions.length() > 1,
                    rx.hstack(
                        rx.text(t("privacy.other_editions"), weight="bold"),
                        rx.foreach(PrivacyState.editions, _edition_link),
                        spacing="3",
                        wrap="wrap",
                    ),
                ),
                spacing="4",
                align="start",
                width="100%",
            ),
        ),
    )
