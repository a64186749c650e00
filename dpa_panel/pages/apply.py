"""``/apply``: the public membership application with per-purpose consent (clauses 2.1–2.2)."""

from __future__ import annotations

import reflex as rx

from dpa_panel.components.forms import (
    described,
    error_callout,
    field,
    form,
    select_field,
    textarea_field,
)
from dpa_panel.components.i18n import t
from dpa_panel.components.layout import page_shell
from dpa_panel.models.vocab import EDUCATION_LEVELS, POSITION_LEVELS, WORKPLACE_CATEGORIES
from dpa_panel.state.app_state import AppState
from dpa_panel.state.apply_state import CONSENT_PURPOSES, HONEYPOT, ApplyState
from dpa_panel.state.org_state import OrgFooterState


def _err(name: str) -> rx.Var:
    return ApplyState.errors[name]


def _text(label_key: str, name: str, *, required: bool = False, **props) -> rx.Component:
    return field(
        label_key,
        name,
        required=False,
        mark_required=required,
        error=_err(name),
        **props,
    )


def _choices(vocabulary: str, codes: tuple[str, ...]) -> list[tuple[str, rx.Var]]:
    return [(code, t(f"{vocabulary}.{code}")) for code in codes]


def _section(title_key: str, *children: rx.Component) -> rx.Component:
    return rx.vstack(
        rx.heading(t(title_key), size="4", as_="h2"),
        rx.grid(*children, columns=rx.breakpoints(initial="1", md="2"), spacing="4", width="100%"),
        spacing="3",
        width="100%",
    )


def consent_box(purpose: str) -> rx.Component:
    """A native checkbox with the exact sentence that will be stored as consent evidence."""
    box_id = f"consent_{purpose}"
    return rx.vstack(
        rx.hstack(
            rx.el.input(type="checkbox", name=box_id, id=box_id, class_name="dpa-checkbox",
                        **described(box_id, error=_err(box_id))),
            rx.el.label(
                rx.text(
                    ApplyState.sentences[AppState.lang][purpose].to(str),
                    rx.cond(
                        purpose == "application_review",
                        rx.text(" *", as_="span", color_scheme="red", aria_hidden="true"),
                    ),
                    size="2",
                ),
                rx.text(t(f"apply.consent_note.{purpose}"), size="1", color_scheme="gray"),
                html_for=box_id,
            ),
            align="start",
            spacing="3",
        ),
        _error_line(box_id),
        spacing="1",
        width="100%",
    )


def _error_line(name: str) -> rx.Component:
    return rx.cond(
        _err(name), rx.text(_err(name), size="1", color_scheme="red", id=f"{name}-error")
    )


def honeypot() -> rx.Component:
    """Invisible to people, tempting to bots; anything typed here refuses the submission."""
    return rx.el.div(
        rx.el.label(t("apply.honeypot_label"), html_for=HONEYPOT),
        rx.el.input(type="text", name=HONEYPOT, id=HONEYPOT, tab_index=-1, auto_complete="off"),
        aria_hidden="true",
        class_name="dpa-honeypot",
    )


def application_form() -> rx.Component:
    return form(
        rx.vstack(
            error_callout(ApplyState.form_error, "form-error"),
            _section(
                "apply.section_person",
                _text(
                    "subject.surname",
                    "surname",
                    required=True,
                    max_length=100,
                    autocomplete="family-name",
                ),
                _text(
                    "subject.first_name",
                    "first_name",
                    required=True,
                    max_length=100,
                    autocomplete="given-name",
                ),
                _text(
                    "subject.patronymic",
                    "patronymic",
                    max_length=100,
                    autocomplete="additional-name",
                ),
                _text(
                    "subject.phone",
                    "phone",
                    required=True,
                    type_="tel",
                    max_length=32,
                    autocomplete="tel",
                    hint_key="apply.phone_hint",
                    input_mode="tel",
                ),
                _text(
                    "subject.email",
                    "email",
                    required=True,
                    type_="email",
                    max_length=254,
                    autocomplete="email",
                ),
            ),
            _section(
                "apply.section_work",
                _text(
                    "subject.workplace",
                    "workplace",
                    required=True,
                    max_length=200,
                    autocomplete="organization",
                ),
                select_field(
                    "subject.workplace_category",
                    "workplace_category",
                    _choices("workplace_category", WORKPLACE_CATEGORIES),
                    "media",
                    error=_err("workplace_category"),
                ),
                _text(
                    "subject.position",
                    "position",
                    required=True,
                    max_length=200,
                    autocomplete="organization-title",
                ),
                select_field(
                    "subject.position_level",
                    "position_level",
                    _choices("position_level", POSITION_LEVELS),
                    "specialist",
                    error=_err("position_level"),
                ),
            ),
            _section(
                "apply.section_education",
                select_field(
                    "subject.education_level",
                    "education_level",
                    _choices("education_level", EDUCATION_LEVELS),
                    "bachelor",
                    error=_err("education_level"),
                ),
                _text(
                    "subject.experience_years",
                    "experience_years",
                    type_="number",
                    max_length=2,
                    min="0",
                    max="80",
                    input_mode="numeric",
                ),
                textarea_field(
                    "subject.education", "education", max_length=1000, error=_err("education")
                ),
                textarea_field(
                    "subject.experience", "experience", max_length=2000, error=_err("experience")
                ),
            ),
            textarea_field(
                "subject.other_info",
                "other_info",
                max_length=2000,
                error=_err("other_info"),
                hint_key="apply.other_hint",
            ),
            rx.vstack(
                rx.heading(t("apply.section_consent"), size="4", as_="h2"),
                rx.text(
                    t("apply.consent_lead"),
                    " ",
                    rx.link(t("apply.policy_link"), href=ApplyState.policy_href, is_external=True),
                    size="2",
                ),
                rx.cond(OrgFooterState.write_to != "",
                        rx.text(OrgFooterState.write_to, size="2", id="apply-email")),
                *[consent_box(p) for p in CONSENT_PURPOSES],
                rx.text(t("apply.statistics_note"), size="1", color_scheme="gray"),
                spacing="3",
                width="100%",
            ),
            honeypot(),
            rx.button(t("apply.submit"), type="submit", size="3", id="apply-submit"),
            spacing="6",
            width="100%",
            align="start",
        ),
        on_submit=ApplyState.submit,
        reset_on_submit=False,
        # The server validates and answers in the visitor's language; the browser's own
        # checks (e.g. of type="email") would block the form with messages we do not control.
        no_validate=True,
        width="100%",
    )


def done_panel() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.icon("circle-check", size=40, color=rx.color("green", 9)),
            rx.heading(t("apply.done_title"), size="6", as_="h2"),
            rx.text(t("apply.done_text")),
            rx.heading(ApplyState.reference, size="7", id="apply-reference", as_="p"),
            rx.text(t("apply.done_withdraw"), size="2", color_scheme="gray"),
            rx.cond(OrgFooterState.write_to != "",
                    rx.text(OrgFooterState.write_to, size="2", id="apply-done-email")),
            rx.button(t("apply.again"), variant="soft", on_click=ApplyState.start_over),
            spacing="3",
            align="center",
            text_align="center",
        ),
        id="apply-done",
        width="100%",
        max_width="640px",
        margin_x="auto",
    )


def apply_page() -> rx.Component:
    return page_shell(
        rx.cond(
            ApplyState.reference != "",
            done_panel(),
            rx.vstack(
                rx.heading(t("apply.title"), size="7", as_="h1"),
                rx.text(t("apply.lead"), color_scheme="gray", max_width="70ch"),
                rx.text(t("apply.required_note"), size="1", color_scheme="gray"),
                application_form(),
                spacing="4",
                width="100%",
                max_width="900px",
            ),
        ),
    )
