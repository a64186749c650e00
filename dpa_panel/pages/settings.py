"""``/admin/settings``: the declared data location (clause 4.3) and the deployment checklist."""

from __future__ import annotations

import reflex as rx

from dpa_panel.components.i18n import t
from dpa_panel.components.layout import page_shell
from dpa_panel.state.app_state import AppState
from dpa_panel.state.settings_state import SettingsState as S

STATUS_COLORS = {"pass": "green", "warn": "amber", "fail": "red"}


def _check(c: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.match(
                c["status"],
                *[
                    (code, rx.badge(t(f"settings.status.{code}"), color_scheme=color))
                    for code, color in STATUS_COLORS.items()
                ],
                rx.badge(c["status"]),
            )
        ),
        rx.table.cell(AppState.t["settings.check." + c["name"].to(str)].to(str)),
        rx.table.cell(rx.code(c["detail"], size="1", white_space="pre-wrap")),
        id="check-" + c["name"].to(str),
    )


def settings_page() -> rx.Component:
    return page_shell(
        rx.vstack(
            rx.heading(t("settings.title"), size="7", as_="h1"),
            rx.card(
                rx.vstack(
                    rx.heading(t("settings.data_location"), size="4", as_="h2"),
                    rx.cond(
                        S.data_location != "",
                        rx.text(S.data_location, size="4", weight="bold", id="data-location"),
                        rx.callout(t("settings.location_missing"), icon="triangle-alert",
                                   color_scheme="red", id="data-location-missing"),
                    ),  # fmt: skip
                    rx.text(t("settings.location_note"), size="2", color_scheme="gray"),
                    spacing="2",
                ),
                width="100%",
            ),
            rx.heading(t("settings.checks"), size="4", as_="h2"),
            rx.text(t("settings.checks_note"), size="2", color_scheme="gray"),
            rx.box(
                rx.table.root(
                    rx.table.body(rx.foreach(S.checks, _check)),
                    size="1",
                    id="settings-checks",
                ),
                overflow_x="auto",
                width="100%",
            ),
            spacing="3",
            width="100%",
            align="start",
        ),
    )
