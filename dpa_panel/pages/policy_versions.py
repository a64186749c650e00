"""``/policy-versions``: the editions, their hashes, and how many consents each still carries."""

from __future__ import annotations

import reflex as rx

from dpa_panel.components.forms import error_callout, form, notice_callout
from dpa_panel.components.i18n import t
from dpa_panel.components.layout import back_link, page_shell
from dpa_panel.components.listing import labelled
from dpa_panel.state.policy_versions_state import PolicyVersionsState as P


def _row(e: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(e["label"], href="/privacy?v=" + e["label"].to(str))),
        rx.table.cell(e["effective"]),
        rx.table.cell(rx.code(e["sha256"], size="1", word_break="break-all")),
        rx.table.cell(e["granted"]),
    )


def add_form() -> rx.Component:
    return rx.card(
        form(
            rx.vstack(
                rx.heading(t("policies.add"), size="4", as_="h2"),
                rx.text(t("policies.add_note"), size="1", color_scheme="gray"),
                rx.grid(
                    labelled(
                        "privacy.version",
                        rx.input(name="label", id="policy-label", max_length=20, width="100%"),
                    ),
                    labelled(
                        "privacy.effective",
                        rx.input(
                            name="effective_date", type="date", id="policy-effective", width="100%"
                        ),
                    ),
                    columns="2",
                    spacing="3",
                    width="100%",
                ),  # fmt: skip
                *[
                    labelled(
                        f"policies.text_{lang}",
                        rx.text_area(name=f"text_{lang}", rows="6", width="100%"),
                    )
                    for lang in ("kk", "ru", "en")
                ],  # fmt: skip
                error_callout(P.form_error, "policy-error"),
                rx.button(t("policies.add"), type="submit", id="policy-add"),
                spacing="3",
                width="100%",
            ),
            on_submit=P.add,
            reset_on_submit=False,
        ),
        width="100%",
    )


def policy_versions_page() -> rx.Component:
    return page_shell(
        rx.vstack(
            back_link("consents.title", "/consents"),
            rx.heading(t("policies.title"), size="7", as_="h1"),
            rx.text(t("policies.lead"), size="2", color_scheme="gray"),
            notice_callout(P.notice, "policy-notice"),
            rx.box(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            rx.table.column_header_cell(t("privacy.version")),
                            rx.table.column_header_cell(t("privacy.effective")),
                            rx.table.column_header_cell(t("privacy.sha256")),
                            rx.table.column_header_cell(t("policies.granted_consents")),
                        )
                    ),
                    rx.table.body(rx.foreach(P.editions, _row)),
                    size="1",
                    id="policy-table",
                ),
                overflow_x="auto",
                width="100%",
            ),
            rx.heading(t("policies.older_subjects"), size="4", as_="h2"),
            rx.text(t("policies.older_note"), " ", P.older_total, size="2", id="older-total"),
            rx.box(
                rx.table.root(
                    rx.table.body(
                        rx.foreach(
                            P.older_subjects,
                            lambda r: rx.table.row(
                                rx.table.cell(
                                    rx.link(r["name"], href="/subjects/" + r["subject_id"].to(str))
                                ),
                                rx.table.cell(r["email"]),
                                rx.table.cell(r["labels"]),
                            ),
                        )
                    ),
                    size="1",
                ),
                overflow_x="auto",
                width="100%",
            ),
            add_form(),
            spacing="4",
            width="100%",
            align="start",
        ),
    )
