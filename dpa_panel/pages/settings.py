"""``/admin/settings``: the declared data location (clause 4.3) and the deployment checklist."""

from __future__ import annotations

import reflex as rx

from dpa_panel.components.i18n import t
from dpa_panel.components.layout import page_shell
from dpa_panel.components.listing import data_table
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
        rx.table.cell(rx.text(c["detail"], size="1", white_space="pre-wrap")),
        id="check-" + c["name"].to(str),
    )


def _mail_problem(m: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(AppState.t["outbox.purpose." + m["purpose"].to(str)].to(str)),
        rx.table.cell(m["recipient"]),
        rx.table.cell(AppState.t["outbox.status." + m["status"].to(str)].to(str)),
        rx.table.cell(m["attempts"]),
        rx.table.cell(rx.code(m["error"], size="1", white_space="pre-wrap")),
        rx.table.cell(m["next"]),
        rx.table.cell(
            rx.cond(
                m["status"] == "failed",
                rx.button(t("outbox.retry"), size="1", variant="soft",
                          on_click=S.retry_mail(m["id"].to(str)),
                          id="mail-retry-" + m["id"].to(str)),
            ),
        ),  # fmt: skip
        id="mail-" + m["id"].to(str),
    )


def outbox_card() -> rx.Component:
    """Outgoing e-mail (issue 16): what waits, what was sent, what failed and why."""
    return rx.card(
        rx.vstack(
            rx.heading(t("outbox.title"), size="4", as_="h2"),
            rx.hstack(
                *[
                    rx.text(t(f"outbox.status.{k}"), ": ", rx.text(S.mail_counts[k], as_="span",
                            weight="bold", id=f"mail-{k}"), size="2")
                    for k in ("pending", "sent", "failed")
                ],
                spacing="4", wrap="wrap",
            ),  # fmt: skip
            rx.text(t("outbox.note"), size="1", color_scheme="gray"),
            rx.cond(S.mail_notice != "", rx.callout(S.mail_notice, color_scheme="green",
                                                    icon="circle-check", size="1")),
            rx.cond(S.mail_error != "", rx.callout(S.mail_error, color_scheme="red",
                                                   icon="triangle-alert", size="1")),
            rx.cond(
                S.mail_problems.length() > 0,
                data_table(
                    ("outbox.purpose", "outbox.recipient", "pipeline.status", "outbox.attempts",
                     "outbox.error", "outbox.next_attempt", "outbox.action"),
                    S.mail_problems, _mail_problem, "mail-problems",
                ),
                rx.text(t("outbox.no_problems"), size="2", id="mail-no-problems"),
            ),  # fmt: skip
            spacing="2",
            width="100%",
        ),
        width="100%",
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
            outbox_card(),
            spacing="3",
            width="100%",
            align="start",
        ),
    )
