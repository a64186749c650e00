"""``/breaches`` and ``/breaches/[breach_id]``: the personal-data breach register (issue 17),
and the countdown shown on the compliance officer's home page."""

from __future__ import annotations

import reflex as rx

from dpa_panel.components.confirm import confirm_dialog
from dpa_panel.components.export_about import about_link
from dpa_panel.components.forms import error_callout, field, form, notice_callout, textarea_field
from dpa_panel.components.i18n import t
from dpa_panel.components.layout import back_link, page_shell
from dpa_panel.components.listing import data_table
from dpa_panel.models.vocab import BREACH_AUTHORITY_CHANNELS
from dpa_panel.state.app_state import AppState
from dpa_panel.state.breaches_state import BreachAlertState, BreachDetailState, BreachesState

B, D = BreachesState, BreachDetailState


def _countdown_item(c: rx.Var) -> rx.Component:
    return rx.link(
        rx.badge(c["text"], color_scheme=c["tone"].to(str), size="2"),
        href="/breaches/" + c["id"].to(str),
    )


def countdown_box(rows: rx.Var, element_id: str) -> rx.Component:
    """Open breaches the authorised body has not been told about, with the time left."""
    return rx.cond(
        rows.length() > 0,
        rx.callout(
            rx.vstack(
                rx.text(t("breach.countdown_title"), weight="bold"),
                rx.foreach(rows, _countdown_item),
                spacing="1",
            ),
            icon="siren", color_scheme="red", id=element_id, width="100%", role="status",
        ),
    )  # fmt: skip


def breach_alert() -> rx.Component:
    """For the compliance home page (``/requests``): breach countdowns and whether the list
    of personal data needs re-approval."""
    return rx.fragment(
        countdown_box(BreachAlertState.countdowns, "breach-countdown-home"),
        rx.cond(
            BreachAlertState.inventory_stale,
            rx.callout(rx.link(t("inventory.needs_approval"), href="/inventory"),
                       icon="triangle-alert", color_scheme="amber", width="100%",
                       id="inventory-needs-approval-home"),
        ),
    )  # fmt: skip


def _row(r: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(r["reference"], href="/breaches/" + r["id"].to(str)),
                      white_space="nowrap"),
        rx.table.cell(r["detected"], white_space="nowrap"),
        rx.table.cell(r["due"], white_space="nowrap"),
        rx.table.cell(r["notified"], white_space="nowrap"),
        rx.table.cell(rx.badge(r["status"], color_scheme=r["tone"].to(str))),
    )  # fmt: skip


def _time_field(label_key: str, name: str, error) -> rx.Component:
    return field(label_key, name, required=False, error=error,
                 placeholder=AppState.t["breach.time_placeholder"].to(str), max_length=16,
                 hint_key="breach.time_placeholder")  # fmt: skip


def _record_form() -> rx.Component:
    def text(name: str, max_length: int = 500) -> rx.Component:
        return field(f"breach.field.{name}", name, required=False,
                     error=B.errors.get(name, ""), max_length=max_length)  # fmt: skip

    def area(name: str) -> rx.Component:
        return textarea_field(f"breach.field.{name}", name, error=B.errors.get(name, ""),
                              max_length=5000)  # fmt: skip

    return rx.card(
        form(
            rx.vstack(
                rx.heading(t("breach.new"), size="4", as_="h2"),
                _time_field("breach.field.detected_at", "detected_at",
                            B.errors.get("detected_at", "")),
                text("detected_by", 200), area("description"), text("data_categories"),
                text("subjects_estimate", 8), text("systems"), area("cause"),
                area("containment"), area("risk_assessment"),
                rx.button(t("breach.record"), type="submit", id="breach-record"),
                spacing="2", width="100%",
            ),
            on_submit=B.record,
        ),
        width="100%", max_width="720px",
    )  # fmt: skip


def breaches_page() -> rx.Component:
    return page_shell(
        rx.vstack(
            rx.heading(t("breach.title"), size="7", as_="h1"),
            rx.text(B.lead, size="2", color_scheme="gray"),
            countdown_box(B.countdowns, "breach-countdown"),
            error_callout(B.action_error),
            notice_callout(B.notice),
            rx.hstack(
                *[rx.button(t(f"breach.export_{f}"), variant="soft", size="1",
                            on_click=B.export(f), id=f"breach-export-{f}")
                  for f in ("csv", "xlsx", "pdf")],
                about_link("breaches_csv"),
                spacing="2",
            ),  # fmt: skip
            rx.cond(
                B.rows.length() > 0,
                data_table(("breach.field.reference", "breach.field.detected_at",
                            "breach.field.due_date", "breach.field.authority_notified_at",
                            "breach.field.status"), B.rows, _row, "breach-table"),
                rx.text(t("breach.empty")),
            ),  # fmt: skip
            rx.cond(B.can_manage, _record_form(), rx.text(t("breach.read_only"), size="2")),
            spacing="4",
            align="start",
            width="100%",
        )
    )


def _fact(key: str) -> rx.Component:
    return rx.cond(
        D.facts.get(key, "") != "",
        rx.data_list.item(rx.data_list.label(t(f"breach.field.{key}")),
                          rx.data_list.value(rx.text(D.facts.get(key, ""),
                                                      white_space="pre-wrap"))),
    )  # fmt: skip


def _subject(p: rx.Var) -> rx.Component:
    sid = p["id"].to(str)
    return rx.table.row(
        rx.table.cell(rx.link("#", sid, href="/subjects/" + sid)),
        rx.table.cell(p["name"]),
        rx.table.cell(
            rx.cond(
                p["notified"] != "",
                rx.text(p["notified"], size="1"),
                rx.cond(
                    D.can_manage & (D.facts.get("status", "") == "open"),
                    rx.hstack(
                        rx.cond(p["has_email"] != "",
                                rx.button(t("breach.notify_email"), size="1",
                                          on_click=D.ask_email(sid), id="notify-email-" + sid,
                                          aria_label=t("breach.notify_email") + " " +
                                          p["name"].to(str))),
                        rx.button(t("breach.notify_letter"), size="1", variant="soft",
                                  on_click=D.notify_letter(sid), id="notify-letter-" + sid,
                                  aria_label=t("breach.notify_letter") + " " + p["name"].to(str)),
                        spacing="1", wrap="wrap",
                    ),
                    rx.text(t("breach.not_notified"), size="1"),
                ),
            ),
        ),
        rx.table.cell(rx.cond(D.can_manage,
                              rx.button(t("breach.letter_pdf"), size="1", variant="outline",
                                        on_click=D.download_letter(sid), id="letter-pdf-" + sid,
                                        aria_label=t("breach.letter_pdf") + " " +
                                        p["name"].to(str)))),
    )  # fmt: skip


def _confirm_box() -> rx.Component:
    return confirm_dialog(
        D.confirm_text != "", t("confirm.title"), D.confirm_text,
        confirm_key="breach.confirm", cancel_key="breach.cancel",
        on_confirm=D.confirm, on_cancel=D.cancel,
    )  # fmt: skip


def _manage_cards() -> rx.Component:
    open_ = D.facts.get("status", "") == "open"
    notification = rx.card(
        form(
            rx.vstack(
                rx.heading(t("breach.notify_authority"), size="4", as_="h2"),
                _time_field("breach.sent_at", "sent_at", D.errors.get("sent_at", "")),
                rx.el.label(rx.text(t("breach.field.authority_channel"), as_="span",
                        size="2", weight="medium"), html_for="channel"),
                rx.el.select(
                    *[rx.el.option(t(f"breach.channel.{c}"), value=c)
                      for c in BREACH_AUTHORITY_CHANNELS],
                    name="channel", id="channel", class_name="dpa-select",
                ),
                field("breach.field.authority_reference", "reference", required=False,
                      max_length=200, error=D.errors.get("reference", "")),
                rx.button(t("breach.notify_authority"), type="submit", id="authority-save"),
                spacing="2", width="100%",
            ),
            on_submit=D.record_notification,
        ),
        width="100%",
    )  # fmt: skip
    add = rx.card(
        form(
            rx.hstack(
                field("breach.subject_id", "subject_id", required=False, max_length=12,
                      input_mode="numeric"),
                rx.button(t("breach.add_subject"), type="submit", id="subject-add"),
                align="end", spacing="2", width="100%",
            ),
            on_submit=D.add_subject, reset_on_submit=True,
        ),
        width="100%",
    )  # fmt: skip
    def edit_text(name: str, max_length: int = 500) -> rx.Component:
        return field(f"breach.field.{name}", name, required=False, max_length=max_length,
                     default_value=D.facts.get(name, ""),
                     error=D.errors.get(name, ""))  # fmt: skip

    def edit_area(name: str) -> rx.Component:
        return textarea_field(f"breach.field.{name}", name, max_length=5000,
                              default_value=D.facts.get(name, ""),
                              error=D.errors.get(name, ""))  # fmt: skip

    edit = rx.card(
        form(
            rx.vstack(
                rx.heading(t("breach.edit"), size="4", as_="h2"),
                edit_area("description"), edit_text("data_categories"),
                edit_text("subjects_estimate", 8), edit_text("systems"), edit_area("cause"),
                edit_area("containment"), edit_area("risk_assessment"),
                rx.button(t("breach.save"), type="submit", id="breach-update"),
                spacing="2", width="100%",
            ),
            on_submit=D.update,
            key=D.facts.get("reference", "") + D.notice,
        ),
        width="100%",
    )  # fmt: skip
    close = rx.card(
        form(
            rx.vstack(
                textarea_field("breach.field.lessons_learned", "lessons", max_length=5000,
                               error=D.errors.get("lessons_learned", "")),
                rx.button(t("breach.close"), type="submit", variant="soft", color_scheme="red",
                          id="breach-close"),
                spacing="2", width="100%",
            ),
            on_submit=D.ask_close,
        ),
        width="100%",
    )  # fmt: skip
    return rx.cond(
        D.can_manage & open_,
        rx.vstack(
            rx.cond(D.facts.get("authority_notified_at", "") == "", notification),
            add, edit, close, spacing="3", width="100%",
        ),
    )  # fmt: skip


def breach_detail_page() -> rx.Component:
    return page_shell(
        rx.vstack(
            back_link("nav.breaches", "/breaches"),
            rx.heading(D.facts.get("reference", ""), size="7", as_="h1", id="breach-reference"),
            error_callout(D.action_error),
            notice_callout(D.notice),
            _confirm_box(),
            rx.cond(D.facts.get("countdown", "") != "",
                    rx.callout(D.facts.get("countdown", ""), icon="siren",
                               color_scheme=D.facts.get("tone", "amber"),
                               id="breach-countdown", width="100%")),
            rx.badge(D.facts.get("status_label", ""), size="2"),
            rx.data_list.root(
                *[_fact(k) for k in (
                    "detected_at", "detected_by", "description", "data_categories",
                    "subjects_estimate", "systems", "cause", "containment", "risk_assessment",
                    "due_date", "authority_notified_at", "authority_channel",
                    "authority_reference", "closed_at", "lessons_learned")],
                orientation=rx.breakpoints(initial="vertical", sm="horizontal"),
            ),
            rx.hstack(
                rx.button(t("breach.notice_pdf_kk"), variant="soft",
                          on_click=D.download_notice("kk"), id="notice-pdf-kk"),
                rx.button(t("breach.notice_pdf_ru"), variant="soft",
                          on_click=D.download_notice("ru"), id="notice-pdf-ru"),
                spacing="2", wrap="wrap",
            ),
            rx.heading(t("breach.subjects_title"), size="5", as_="h2"),
            rx.cond(
                D.subjects.length() > 0,
                data_table(("breach.subject_id", "breach.subjects_title",
                            "breach.field.status", "breach.letter_pdf"), D.subjects, _subject,
                           "breach-subjects"),
                rx.text(t("breach.no_subjects")),
            ),
            _manage_cards(),
            spacing="4", align="start", width="100%",
        )
    )  # fmt: skip
