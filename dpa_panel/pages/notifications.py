"""The e-mail settings card of ``/account`` (reminder address and language, issue 16)."""

from __future__ import annotations

import reflex as rx

from dpa_panel.components.forms import error_callout, form, notice_callout
from dpa_panel.components.i18n import t
from dpa_panel.components.listing import labelled
from dpa_panel.models.vocab import UI_LANGUAGES
from dpa_panel.state.notifications_state import NotificationsState as N


def notifications_card() -> rx.Component:
    return rx.card(
        form(
            rx.vstack(
                rx.heading(t("notify.title"), size="4", as_="h2"),
                rx.text(t("notify.note"), size="2", color_scheme="gray"),
                labelled(
                    "notify.email",
                    rx.input(name="email", type="email", id="notify-email", width="100%",
                             default_value=N.email, key=N.email),
                ),
                labelled(
                    "notify.language",
                    rx.el.select(
                        *[rx.el.option(t(f"locale.{code}"), value=code) for code in UI_LANGUAGES],
                        name="language", id="notify-language", class_name="dpa-select",
                        default_value=N.mail_language, key=N.mail_language,
                    ),
                ),
                error_callout(N.notify_error, "notify-error"),
                notice_callout(N.notify_notice, "notify-notice"),
                rx.button(t("detail.save"), type="submit", id="notify-save"),
                spacing="2",
                width="100%",
            ),  # fmt: skip
            on_submit=N.save,
            reset_on_submit=False,
        ),
        on_mount=N.load,
        width="100%",
        max_width="520px",
    )
