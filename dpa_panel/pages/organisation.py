"""``/admin/organisation``: the organisation profile (issue 17)."""

from __future__ import annotations

import reflex as rx

from dpa_panel.components.forms import error_callout, field, form, notice_callout, textarea_field
from dpa_panel.components.i18n import t
from dpa_panel.components.layout import page_shell
from dpa_panel.state.org_state import ProfileState as P


def _text(name: str, max_length: int = 300, **props) -> rx.Component:
    return field(f"profile.{name}", name, required=False, error=P.errors.get(name, ""),
                 max_length=max_length, default_value=P.values.get(name, ""), **props)  # fmt: skip


def organisation_page() -> rx.Component:
    return page_shell(
        rx.vstack(
            rx.heading(t("profile.title"), size="7", as_="h1"),
            rx.text(t("profile.lead"), size="2", color_scheme="gray"),
            rx.cond(P.missing != "",
                    rx.callout(P.missing, icon="triangle-alert", color_scheme="amber",
                               id="profile-missing", width="100%")),  # fmt: skip
            error_callout(P.action_error),
            notice_callout(P.notice),
            form(
                rx.vstack(
                    _text("name_kk"), _text("name_ru"), _text("name_en"),
                    _text("bin", 12, input_mode="numeric"),
                    textarea_field("profile.address", "address", max_length=500,
                                   default_value=P.values.get("address", ""),
                                   error=P.errors.get("address", "")),
                    _text("dp_email", 254, type_="email"),
                    rx.vstack(
                        rx.el.label(rx.text(t("profile.responsible_user_id"), as_="span",
                                 size="2", weight="medium"), html_for="responsible_user_id"),
                        rx.el.select(
                            rx.el.option(t("profile.none"), value=""),
                            rx.foreach(P.people,
                                       lambda p: rx.el.option(p["label"], value=p["id"])),
                            name="responsible_user_id", id="responsible_user_id",
                            default_value=P.values.get("responsible_user_id", ""),
                            class_name="dpa-select",
                        ),
                        rx.cond(P.errors.get("responsible_user_id", "") != "",
                                rx.text(P.errors.get("responsible_user_id", ""), size="1",
                                        color_scheme="red", role="alert")),
                        spacing="1", width="100%",
                    ),
                    _text("responsible_contact"), _text("authority_name"),
                    textarea_field("profile.authority_contact", "authority_contact",
                                   max_length=500,
                                   default_value=P.values.get("authority_contact", ""),
                                   error=P.errors.get("authority_contact", "")),
                    rx.button(t("profile.save"), type="submit", id="profile-save"),
                    spacing="3", width="100%", max_width="640px",
                ),
                on_submit=P.save,
                key=P.values.get("bin", "") + P.values.get("dp_email", ""),
            ),  # fmt: skip
            spacing="4",
            align="start",
            width="100%",
        )
    )
