"""The access-package card of the request detail page (issue 20): preview, prepare again,
release after a confirmation that names the request."""

from __future__ import annotations

import reflex as rx

from dpa_panel.components.forms import error_callout, notice_callout
from dpa_panel.components.i18n import t
from dpa_panel.state.access_package_state import AccessPackageState as P


def access_package_card() -> rx.Component:
    return rx.cond(
        P.package.length() > 0,
        rx.card(
            rx.vstack(
                rx.heading(t("my.staff.package_title"), size="4", as_="h2"),
                rx.text(P.package["lead"], size="2"),
                notice_callout(P.notice, "package-notice"),
                error_callout(P.action_error, "package-error"),
                rx.text(P.package["prepared"], size="2", id="package-prepared"),
                rx.cond(
                    P.package["released"] != "",
                    rx.text(P.package["released"], size="2", id="package-released"),
                    rx.vstack(
                        rx.hstack(
                            rx.button(t("my.staff.preview"), on_click=P.preview, variant="soft",
                                      id="package-preview"),
                            rx.button(t("my.staff.refresh"), on_click=P.refresh, variant="soft",
                                      id="package-refresh"),
                            rx.button(t("my.staff.release"), on_click=P.ask_release,
                                      id="package-release"),
                            wrap="wrap",
                            spacing="2",
                        ),
                        rx.cond(
                            P.confirming,
                            rx.vstack(
                                rx.text(t("my.staff.release_confirm_title"), weight="bold"),
                                rx.text(P.package["confirm"], size="2"),
                                rx.hstack(
                                    rx.button(t("my.confirm"), on_click=P.release,
                                              id="package-release-confirm"),
                                    rx.button(t("my.cancel"), on_click=P.cancel_release,
                                              variant="soft"),
                                    spacing="2",
                                ),
                                role="alertdialog",
                                spacing="2",
                            ),
                        ),
                        spacing="2",
                    ),
                ),
                spacing="2",
                width="100%",
            ),
            width="100%",
            id="access-package",
        ),
    )  # fmt: skip
