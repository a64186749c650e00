"""``/subjects/[subject_id]``: consent history and the compliance actions on one subject."""

from __future__ import annotations

import reflex as rx

from dpa_panel.components.forms import error_callout, form, notice_callout
from dpa_panel.components.i18n import t
from dpa_panel.components.layout import back_link, page_shell
from dpa_panel.components.listing import data_table, labelled
from dpa_panel.components.status import disclosure_badge
from dpa_panel.i18n import LOCALES
from dpa_panel.models.vocab import CONSENT_CHANNELS
from dpa_panel.pages.consents import state_badge
from dpa_panel.services.disclosures import TRANSFER_PURPOSE
from dpa_panel.state.app_state import AppState
from dpa_panel.state.subject_state import SENTENCE_PURPOSES
from dpa_panel.state.subject_state import SubjectState as S


def _select(name: str, options: list[tuple[str, rx.Var]], element_id: str) -> rx.Component:
    return rx.el.select(
        *[rx.el.option(label, value=value) for value, label in options],
        name=name,
        id=element_id,
        class_name="dpa-select",
    )


def _purposes() -> list[tuple[str, rx.Var]]:
    return [(p, t(f"purpose.{p}")) for p in SENTENCE_PURPOSES]


def _channels(exclude_web: bool = True) -> list[tuple[str, rx.Var]]:
    return [
        (c, t(f"consent_channel.{c}"))
        for c in CONSENT_CHANNELS
        if not (exclude_web and c == "web_form")
    ]


def _history_row(h: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(AppState.t["purpose." + h["purpose"].to(str)].to(str)),
        rx.table.cell(h["granted"], white_space="nowrap"),
        rx.table.cell(AppState.t["consent_channel." + h["channel"].to(str)].to(str)),
        rx.table.cell(h["version"]),
        rx.table.cell(h["language"]),
        rx.table.cell(h["evidence"]),
        rx.table.cell(
            rx.cond(
                h["withdrawn"] != "",
                rx.text(h["withdrawn"], color_scheme="red", size="2"),
                rx.badge(t("consent_state.granted"), color_scheme="green"),
            ),
            rx.cond(h["ground"] != "", rx.text(h["ground"], size="1", color_scheme="gray")),
        ),
    )


def consent_form() -> rx.Component:
    return rx.card(
        form(
            rx.vstack(
                rx.heading(t("subject.record_consent"), size="4", as_="h2"),
                labelled(
                    "consents.purpose",
                    _select(
                        "purpose",
                        [*_purposes(), (TRANSFER_PURPOSE, t(f"purpose.{TRANSFER_PURPOSE}"))],
                        "consent-form-purpose",
                    ),
                ),
                labelled(
                    "subject.transfer_recipient",
                    rx.input(name="recipient", id="consent-form-recipient", width="100%"),
                ),
                labelled(
                    "consents.channel", _select("channel", _channels(), "consent-form-channel")
                ),
                labelled(
                    "locale.label",
                    _select(
                        "language", [(c, t(f"locale.{c}")) for c in LOCALES], "consent-form-lang"
                    ),
                ),
                labelled("consents.evidence_ref", rx.input(name="evidence_ref", width="100%")),
                labelled(
                    "consents.evidence_received",
                    rx.input(name="evidence_received", type="date", width="100%"),
                ),
                labelled(
                    "consents.evidence_text", rx.text_area(name="evidence_text", width="100%")
                ),
                rx.button(t("subject.record_consent"), type="submit", id="record-consent"),
                spacing="2",
                width="100%",
            ),
            on_submit=S.record_consent,
            reset_on_submit=True,
        ),
        width="100%",
    )


def withdrawal_form() -> rx.Component:
    return rx.card(
        form(
            rx.vstack(
                rx.heading(t("subject.record_withdrawal"), size="4", as_="h2"),
                rx.text(t("subject.withdrawal_note"), size="1", color_scheme="gray"),
                labelled("consents.purpose", _select("purpose", _purposes(), "withdraw-purpose")),
                labelled(
                    "consents.channel",
                    _select("channel", _channels(exclude_web=False), "withdraw-channel"),
                ),
                labelled(
                    "subject.withdrawal_evidence",
                    rx.text_area(name="evidence", id="withdraw-evidence", width="100%"),
                ),
                labelled(
                    "subject.retained_ground",
                    rx.text_area(
                        name="retained_ground",
                        id="withdraw-ground",
                        width="100%",
                        placeholder=t("subject.retained_ground_hint"),
                    ),
                ),  # fmt: skip
                rx.button(
                    t("subject.record_withdrawal"),
                    type="submit",
                    color_scheme="red",
                    id="record-withdrawal",
                ),  # fmt: skip
                spacing="2",
                width="100%",
            ),
            on_submit=S.withdraw,
            reset_on_submit=True,
        ),
        width="100%",
    )


def _reason_form(title_key: str, handler, button_id: str, color: str = "gray") -> rx.Component:
    return form(
        rx.vstack(
            rx.text(t(title_key), weight="medium", size="2"),
            rx.input(
                name="reason",
                placeholder=t("subject.reason"),
                width="100%",
                id=f"{button_id}-reason",
            ),
            rx.button(
                t(title_key), type="submit", variant="soft", color_scheme=color, id=button_id
            ),
            spacing="2",
            width="100%",
        ),
        on_submit=handler,
        reset_on_submit=True,
        width="100%",
    )


def protection_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(t("subject.protection"), size="4", as_="h2"),
            rx.cond(
                S.subject["status"] == "blocked",
                _reason_form("subject.unblock", S.unblock, "unblock-subject"),
                _reason_form("subject.block", S.block, "block-subject", "red"),
            ),
            rx.separator(),
            _reason_form(
                "subject.schedule_destruction",
                S.schedule_destruction,
                "schedule-destruction",
                "red",
            ),
            rx.separator(),
            rx.text(t("subject.report"), weight="medium", size="2"),
            rx.hstack(
                rx.button(
                    t("subject.report_pdf"),
                    on_click=S.download_report("pdf"),
                    variant="soft",
                    id="report-pdf",
                ),
                rx.button(
                    t("subject.report_json"),
                    on_click=S.download_report("json"),
                    variant="soft",
                    id="report-json",
                ),
                spacing="2",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _hold(h: rx.Var) -> rx.Component:
    return form(
        rx.hstack(
            rx.text(h["placed"], " · ", h["reason"], size="2"),
            rx.el.input(type="hidden", name="hold_id", value=h["id"]),
            rx.input(name="reason", placeholder=t("subject.reason"), size="1"),
            rx.button(t("retention.lift_hold"), type="submit", size="1", variant="soft"),
            align="center",
            wrap="wrap",
            spacing="2",
        ),
        on_submit=S.lift_hold,
        reset_on_submit=True,
    )


def _subject_request(r: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(r["reference"], href="/requests/" + r["id"].to(str)),
                      white_space="nowrap"),
        rx.table.cell(AppState.t["request_kind." + r["kind"].to(str)].to(str)),
        rx.table.cell(AppState.t["request_status." + r["status"].to(str)].to(str)),
        rx.table.cell(r["received"], white_space="nowrap"),
        rx.table.cell(r["due"], white_space="nowrap"),
    )  # fmt: skip


def requests_card() -> rx.Component:
    """Every data-subject request linked to this person, open or closed (issue 16)."""
    return rx.card(
        rx.vstack(
            rx.heading(t("subject.requests"), size="4", as_="h2"),
            rx.cond(
                S.requests.length() > 0,
                data_table(
                    ("pipeline.reference", "requests.kind", "pipeline.status",
                     "requests.received_on", "requests.due"),
                    S.requests, _subject_request, "subject-requests",
                ),
                rx.text(t("subject.no_requests"), size="2", color_scheme="gray",
                        id="subject-no-requests"),
            ),  # fmt: skip
            spacing="2",
            width="100%",
        ),
        width="100%",
    )


def retention_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(t("retention.title"), size="4", as_="h2"),
            rx.cond(
                S.countdown.contains("due"),
                rx.text(
                    t("requests.due"),
                    ": ",
                    S.countdown["due"],
                    " · ",
                    AppState.t["retention.event." + S.countdown["event"].to(str)].to(str),
                    size="2",
                    id="subject-countdown",
                ),
                rx.text(t("retention.no_date"), size="2", id="subject-countdown"),
            ),  # fmt: skip
            rx.foreach(S.holds, _hold),
            form(
                rx.hstack(
                    rx.input(
                        name="reason",
                        placeholder=t("subject.reason"),
                        size="1",
                        id="subject-hold-reason",
                    ),
                    rx.button(
                        t("retention.place_hold"), type="submit", size="1", id="subject-hold"
                    ),
                    spacing="2",
                    wrap="wrap",
                ),
                on_submit=S.place_hold,
                reset_on_submit=True,
            ),  # fmt: skip
            spacing="2",
            width="100%",
        ),
        width="100%",
    )


def disclosures_card() -> rx.Component:
    """Every disclosure about this person (what was, or is to be, given to whom)."""

    def row(d: rx.Var) -> rx.Component:
        return rx.table.row(
            rx.table.cell(rx.link(d["reference"], href="/disclosures/" + d["id"].to(str))),
            rx.table.cell(AppState.t["disclosure.kind." + d["kind"].to(str)].to(str)),
            rx.table.cell(disclosure_badge(d["status"])),
            rx.table.cell(d["body"]),
            rx.table.cell(rx.text(d["fields"], size="1")),
            rx.table.cell(d["disclosed"], white_space="nowrap"),
        )

    return rx.card(
        rx.vstack(
            rx.heading(t("disclosure.about_subject"), size="4", as_="h2"),
            rx.cond(
                S.disclosures.length() > 0,
                data_table(
                    (
                        "pipeline.reference",
                        "disclosure.kind",
                        "pipeline.status",
                        "disclosure.body",
                        "disclosure.fields",
                        "disclosure.disclosed_at",
                    ),
                    S.disclosures,
                    row,
                    "subject-disclosures",
                ),
                rx.text(
                    t("disclosure.none_about_subject"),
                    size="2",
                    color_scheme="gray",
                    id="subject-disclosures-none",
                ),
            ),  # fmt: skip
            spacing="2",
            width="100%",
        ),
        width="100%",
    )


def subject_page() -> rx.Component:
    return page_shell(
        rx.vstack(
            back_link("consents.title", "/consents"),
            rx.cond(
                S.not_found,
                rx.callout(t("detail.not_found"), icon="triangle-alert", color_scheme="red"),
                rx.vstack(
                    rx.hstack(
                        rx.heading(S.subject["name"], size="7", as_="h1", id="subject-name"),
                        rx.cond(
                            S.subject["status"] == "blocked",
                            rx.badge(
                                t("subject_status.blocked"), color_scheme="red", id="blocked-badge"
                            ),
                        ),
                        align="center",
                        wrap="wrap",
                    ),
                    rx.text(
                        S.subject["email"], " · ", S.subject["phone"], size="2", color_scheme="gray"
                    ),
                    rx.cond(
                        S.subject["destruction_due"] != "",
                        rx.callout(
                            rx.text(
                                t("subject.destruction_due"), " ", S.subject["destruction_due"]
                            ),
                            icon="trash-2",
                            color_scheme="red",
                            size="1",
                        ),
                    ),  # fmt: skip
                    notice_callout(S.notice, "subject-notice"),
                    error_callout(S.action_error, "subject-error"),
                    rx.hstack(
                        *[
                            rx.hstack(
                                rx.text(t(f"consents.short_{p}"), size="2"),
                                state_badge(S.states[p]),
                                spacing="1",
                                align="center",
                                id=f"state-{p}",
                            )
                            for p in SENTENCE_PURPOSES
                        ],
                        spacing="4",
                        wrap="wrap",
                    ),  # fmt: skip
                    retention_card(),
                    requests_card(),
                    disclosures_card(),
                    rx.heading(t("subject.history"), size="4", as_="h2"),
                    data_table(
                        (
                            "consents.purpose",
                            "account.started",
                            "consents.channel",
                            "privacy.version",
                            "locale.label",
                            "consents.evidence_ref",
                            "consents.state",
                        ),
                        S.history,
                        _history_row,
                    ),  # fmt: skip
                    rx.grid(
                        consent_form(),
                        withdrawal_form(),
                        protection_card(),
                        columns=rx.breakpoints(initial="1", md="3"),
                        spacing="4",
                        width="100%",
                    ),  # fmt: skip
                    spacing="3",
                    width="100%",
                ),
            ),
            spacing="3",
            width="100%",
        ),
    )
