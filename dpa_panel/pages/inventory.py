"""``/inventory``: the list of personal data and processing register (issue 17)."""

from __future__ import annotations

import reflex as rx

from dpa_panel.components.forms import error_callout, notice_callout
from dpa_panel.components.i18n import t
from dpa_panel.components.layout import page_shell
from dpa_panel.state.inventory_state import InventoryState as V


def _lines(rows: rx.Var, element_id: str) -> rx.Component:
    return rx.vstack(rx.foreach(rows, lambda line: rx.text(line, size="2")), spacing="1",
                     id=element_id)  # fmt: skip


def inventory_page() -> rx.Component:
    return page_shell(
        rx.vstack(
            rx.heading(t("inventory.title"), size="7", as_="h1"),
            rx.text(t("inventory.lead"), size="2", color_scheme="gray"),
            error_callout(V.action_error),
            notice_callout(V.notice),
            rx.cond(V.needs_approval,
                    rx.callout(t("inventory.needs_approval"), icon="triangle-alert",
                               color_scheme="amber", id="inventory-needs-approval",
                               width="100%")),
            rx.cond(
                V.version != "",
                rx.card(rx.vstack(
                    rx.heading(V.version_label, size="4", as_="h2", id="inventory-version"),
                    rx.text(V.approved_line, size="1", color_scheme="gray"),
                    _lines(V.approved, "inventory-approved"),
                    rx.hstack(*[rx.button(t(f"locale.{lang}"), variant="soft", size="1",
                                          on_click=V.download(lang), id=f"inventory-pdf-{lang}",
                                          aria_label=t(f"locale.{lang}") + " — "
                                          + t("inventory.title") + " (PDF)")
                                for lang in ("kk", "ru", "en")], spacing="2"),
                    spacing="2"), width="100%"),
                rx.text(t("inventory.not_approved")),
            ),
            rx.cond(V.needs_approval, rx.card(rx.vstack(
                rx.heading(t("inventory.current"), size="4", as_="h2"),
                _lines(V.current, "inventory-current"),
                rx.button(t("inventory.approve"), on_click=V.approve, id="inventory-approve"),
                spacing="2"), width="100%")),
            spacing="4", align="start", width="100%",
        )
    )  # fmt: skip
