"""``/applications/[app_id]``: applicant data, consents, timeline and the staff actions."""

from __future__ import annotations

import reflex as rx

from dpa_panel.components.forms import error_callout, form, notice_callout
from dpa_panel.components.i18n import t
from dpa_panel.components.layout import page_shell
from dpa_panel.components.status import application_badge, member_badge
from dpa_panel.models.vocab import EDUCATION_LEVELS, POSITION_LEVELS, WORKPLACE_CATEGORIES
from dpa_panel.state.app_state import AppState
from dpa_panel.state.application_detail_state import ApplicationDetailState as S

TEXT_FIELDS = (
    ("subject.surname", "surname"),
    ("subject.first_name", "first_name"),
    ("subject.patronymic", "patronymic"),
    ("subject.phone", "phone"),
    ("subject.email", "email"),
    ("subject.workplace", "workplace"),
    ("subject.position", "position"),
    ("subject.experience_years", "experience_years"),
    ("subject.education", "education"),
    ("subject.experience", "experience"),
    ("subject.other_info", "other_info"),
)
CODED_FIELDS = (
    ("subject.workplace_category", "workplace_category", "workplace_category"),
    ("subject.position_level", "position_level", "position_level"),
    ("subject.education_level", "education_level", "education_level"),
)


def _label_of(vocabulary: str, code: rx.Var) -> rx.Var:
    return AppState.t[f"{vocabulary}." + code.to(str)].to(str)


def _item(label_key: str, value) -> rx.Component:
    return rx.data_list.item(
        rx.data_list.label(t(label_key), min_width="140px"),
        rx.data_list.value(rx.text(value, white_space="pre-wrap", word_break="break-word")),
    )


def applicant_card() -> rx.Component:
    items = [_item(k, S.subject[n]) for k, n in TEXT_FIELDS]
    items += [_item(k, _label_of(v, S.subject[n])) for k, n, v in CODED_FIELDS]
    return rx.card(
        rx.vstack(
            rx.heading(t("detail.applicant"), size="4", as_="h2"),
            rx.data_list.root(
                *items, orientation=rx.breakpoints(initial="vertical", sm="horizontal")
            ),
            spacing="3",
        ),
        width="100%",
        id="applicant-card",
    )


def _consent(c: rx.Var) -> rx.Component:
    return rx.box(
        rx.hstack(
            rx.text(_label_of("purpose", c["purpose"]), weight="medium", size="2"),
            rx.cond(
                c["withdrawn"] != "",
                rx.badge(t("detail.consent_withdrawn"), color_scheme="red"),
                rx.badge(t("detail.consent_granted"), color_scheme="green"),
            ),
            wrap="wrap",
        ),
        rx.text(
            c["granted"],
            " · ",
            _label_of("consent_channel", c["channel"]),
            " · ",
            t("privacy.version"),
            " ",
            c["version"],
            " · ",
            _label_of("locale", c["language"]),
            size="1",
            color_scheme="gray",
        ),  # fmt: skip
        rx.cond(
            c["withdrawn"] != "",
            rx.text(t("detail.withdrawn_at"), " ", c["withdrawn"], size="1", color_scheme="red"),
        ),
        rx.text(c["text"], size="1", font_style="italic"),
        padding_y="6px",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        width="100%",
    )


def consents_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(t("detail.consents"), size="4", as_="h2"),
            rx.foreach(S.consents, _consent),
            spacing="2",
            width="100%",
        ),
        width="100%",
        id="consents-card",
    )


def _event(e: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.box(
            width="8px",
            height="8px",
            border_radius="4px",
            background=rx.color("teal", 9),
            margin_top="6px",
            flex_shrink="0",
        ),  # fmt: skip
        rx.vstack(
            rx.text(
                e["when"],
                " · ",
                e["who"],
                " · ",
                e["what"],
                size="1",
                color_scheme="gray",
            ),  # fmt: skip
            rx.cond(
                e["to"] != "",
                rx.hstack(
                    rx.cond(e["from"] != "", application_badge(e["from"])),
                    rx.cond(e["from"] != "", rx.icon("arrow-right", size=14)),
                    application_badge(e["to"]),
                    align="center",
                ),
            ),
            rx.cond(e["text"] != "", rx.text(e["text"], size="2", white_space="pre-wrap")),
            spacing="1",
        ),
        align="start",
        spacing="2",
        width="100%",
    )


def timeline_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(t("detail.timeline"), size="4", as_="h2"),
            rx.foreach(S.timeline, _event),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id="timeline-card",
    )


def decision_card() -> rx.Component:
    return rx.card(
        form(
            rx.vstack(
                rx.heading(t("detail.next_step"), size="4", as_="h2"),
                rx.el.select(
                    rx.foreach(
                        S.allowed,
                        lambda s: rx.el.option(_label_of("application_status", s), value=s),
                    ),
                    name="to_status",
                    id="to-status",
                    aria_label=t("detail.next_step"),
                    class_name="dpa-select",
                ),
                rx.text_area(
                    name="reason",
                    id="reason",
                    aria_label=t("detail.reason_hint"),
                    placeholder=t("detail.reason_hint"),
                    max_length=2000,
                    rows="3",
                    width="100%",
                ),
                rx.button(t("detail.apply_step"), type="submit", id="apply-step"),
                spacing="2",
                width="100%",
            ),
            on_submit=S.change_status,
            reset_on_submit=True,
        ),
        width="100%",
    )


def assign_card() -> rx.Component:
    return rx.card(
        form(
            rx.vstack(
                rx.heading(t("detail.assign"), size="4", as_="h2"),
                rx.el.select(
                    rx.el.option(t("pipeline.unassigned"), value=""),
                    rx.foreach(S.staff, lambda s: rx.el.option(s["label"], value=s["value"])),
                    name="assignee",
                    id="assignee",
                    aria_label=t("detail.assign"),
                    class_name="dpa-select",
                    default_value=S.app["assignee_id"],
                ),
                rx.button(t("detail.assign_save"), type="submit", variant="soft", id="assign-save"),
                spacing="2",
                width="100%",
            ),
            on_submit=S.assign,
            key=S.app["assignee_id"],
        ),
        width="100%",
    )


def note_card() -> rx.Component:
    return rx.card(
        form(
            rx.vstack(
                rx.heading(t("detail.note"), size="4", as_="h2"),
                rx.text_area(name="note", id="note", max_length=2000, rows="3", width="100%",
                             aria_label=t("detail.note")),
                rx.button(t("detail.note_add"), type="submit", variant="soft", id="note-add"),
                spacing="2",
                width="100%",
            ),
            on_submit=S.add_note,
            reset_on_submit=True,
        ),
        width="100%",
    )


def _edit_input(label_key: str, name: str) -> rx.Component:
    return rx.vstack(
        rx.el.label(rx.text(t(label_key), as_="span", size="1", weight="medium"),
                    html_for=f"edit-{name}"),  # fmt: skip
        rx.input(name=name, id=f"edit-{name}", default_value=S.subject[name], width="100%"),
        rx.cond(S.edit_errors[name], rx.text(S.edit_errors[name], size="1", color_scheme="red")),
        spacing="1",
        width="100%",
    )


def _edit_select(label_key: str, name: str, vocabulary: str, codes) -> rx.Component:
    return rx.vstack(
        rx.el.label(rx.text(t(label_key), as_="span", size="1", weight="medium"),
                    html_for=f"edit-{name}"),  # fmt: skip
        rx.el.select(
            *[rx.el.option(t(f"{vocabulary}.{c}"), value=c) for c in codes],
            name=name,
            id=f"edit-{name}",
            default_value=S.subject[name],
            class_name="dpa-select",
        ),
        spacing="1",
        width="100%",
    )


def edit_card() -> rx.Component:
    return rx.card(
        rx.accordion.root(
            rx.accordion.item(
                header=t("detail.edit"),
                content=form(
                    rx.vstack(
                        rx.text(t("detail.edit_note"), size="1", color_scheme="gray"),
                        *[_edit_input(k, n) for k, n in TEXT_FIELDS],
                        _edit_select(
                            "subject.workplace_category",
                            "workplace_category",
                            "workplace_category",
                            WORKPLACE_CATEGORIES,
                        ),
                        _edit_select(
                            "subject.position_level",
                            "position_level",
                            "position_level",
                            POSITION_LEVELS,
                        ),
                        _edit_select(
                            "subject.education_level",
                            "education_level",
                            "education_level",
                            EDUCATION_LEVELS,
                        ),
                        rx.button(t("detail.save"), type="submit", id="edit-save"),
                        spacing="2",
                        width="100%",
                    ),  # fmt: skip
                    on_submit=S.save_edits,
                    key=S.subject["id"],
                ),
                value="edit",
            ),
            collapsible=True,
            type="single",
            variant="ghost",
            width="100%",
        ),
        width="100%",
    )


def member_card() -> rx.Component:
    return rx.cond(
        S.member.contains("number"),
        rx.card(
            rx.vstack(
                rx.heading(t("detail.member"), size="4", as_="h2"),
                rx.hstack(
                    rx.link(
                        S.member["number"],
                        href="/members/" + S.member["id"].to(str),
                        id="member-link",
                    ),
                    member_badge(S.member["status"]),
                    align="center",
                ),  # fmt: skip
                rx.text(t("members.since"), ": ", S.member["since"], size="2"),
                spacing="2",
            ),
            width="100%",
        ),
    )


def detail_page() -> rx.Component:
    return page_shell(
        rx.vstack(
            rx.link(
                rx.icon("arrow-left", size=14), t("pipeline.title"), href="/applications", size="2"
            ),  # fmt: skip
            rx.cond(
                S.not_found,
                rx.callout(t("detail.not_found"), icon="triangle-alert", color_scheme="red"),
                rx.vstack(
                    rx.hstack(
                        rx.heading(S.app["reference"], size="7", as_="h1", id="detail-reference"),
                        application_badge(S.app["status"]),
                        align="center",
                        wrap="wrap",
                    ),
                    rx.text(
                        t("pipeline.submitted"),
                        ": ",
                        S.app["submitted"],
                        rx.cond(
                            S.app["assignee"] != "",
                            rx.text(
                                " · ", t("pipeline.assignee"), ": ", S.app["assignee"], as_="span"
                            ),
                        ),
                        size="2",
                        color_scheme="gray",
                    ),  # fmt: skip
                    rx.cond(
                        S.app["reason"] != "",
                        rx.callout(S.app["reason"], icon="message-square-text", size="1"),
                    ),
                    notice_callout(S.notice, "detail-notice"),
                    error_callout(S.action_error, "detail-error"),
                    rx.grid(
                        rx.vstack(
                            applicant_card(),
                            consents_card(),
                            timeline_card(),
                            spacing="4",
                            width="100%",
                        ),  # fmt: skip
                        rx.vstack(
                            member_card(),
                            rx.cond(
                                S.can_write,
                                rx.vstack(
                                    rx.cond(S.allowed.length() > 0, decision_card()),
                                    assign_card(),
                                    note_card(),
                                    edit_card(),
                                    spacing="4",
                                    width="100%",
                                ),  # fmt: skip
                                rx.callout(t("detail.read_only"), icon="eye", size="1"),
                            ),
                            spacing="4",
                            width="100%",
                        ),
                        columns=rx.breakpoints(initial="1", md="2"),
                        spacing="4",
                        width="100%",
                    ),
                    spacing="3",
                    width="100%",
                ),
            ),
            spacing="3",
            width="100%",
        ),
    )
