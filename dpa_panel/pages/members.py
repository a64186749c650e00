"""``/members`` (the register) and ``/members/[member_id]`` (one member, register actions)."""

from __future__ import annotations

import reflex as rx

from dpa_panel.components.filters import folding_filters
from dpa_panel.components.forms import error_callout, form, notice_callout
from dpa_panel.components.i18n import t
from dpa_panel.components.layout import back_link, page_shell
from dpa_panel.components.listing import labelled, pager
from dpa_panel.components.status import member_badge
from dpa_panel.models.vocab import MEMBER_STATUSES
from dpa_panel.state.app_state import AppState
from dpa_panel.state.members_state import MemberDetailState as D
from dpa_panel.state.members_state import MembersState as M

SORT_KEYS = ("number", "since_desc", "surname")


def filter_form() -> rx.Component:
    return form(
        rx.grid(
            labelled(
                "pipeline.search",
                rx.input(
                    name="search",
                    id="members-search",
                    max_length=100,
                    width="100%",
                    placeholder=t("members.search_hint"),
                ),
            ),  # fmt: skip
            labelled(
                "pipeline.status",
                rx.el.select(
                    rx.el.option(t("audit.any"), value=""),
                    *[rx.el.option(t(f"member_status.{s}"), value=s) for s in MEMBER_STATUSES],
                    name="status",
                    id="members-status",
                    class_name="dpa-select",
                ),
            ),
            labelled(
                "pipeline.sort",
                rx.el.select(
                    *[rx.el.option(t(f"members.sort_{k}"), value=k) for k in SORT_KEYS],
                    name="sort",
                    class_name="dpa-select",
                ),
            ),
            columns=rx.breakpoints(initial="1", sm="3"),
            spacing="3",
            width="100%",
        ),
        rx.button(t("audit.apply"), type="submit", margin_top="12px", id="members-apply"),
        on_submit=M.apply_filters,
        reset_on_submit=False,
        width="100%",
    )


def _counts() -> rx.Component:
    return rx.hstack(
        *[
            rx.hstack(
                member_badge(rx.Var.create(s)),
                rx.text(M.counts[s].to(int), weight="bold"),
                spacing="1",
                align="center",
            )
            for s in MEMBER_STATUSES
        ],  # fmt: skip
        spacing="4",
        wrap="wrap",
    )


def _row(r: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.link(r["number"], href="/members/" + r["id"].to(str)), white_space="nowrap"
        ),
        rx.table.cell(r["name"]),
        rx.table.cell(r["email"]),
        rx.table.cell(r["workplace"]),
        rx.table.cell(r["since"], white_space="nowrap"),
        rx.table.cell(member_badge(r["status"])),
    )


def _phone_row(r: rx.Var) -> rx.Component:
    return rx.link(
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.code(r["number"]), rx.spacer(), member_badge(r["status"]), width="100%"
                ),
                rx.text(r["name"], weight="medium", size="2"),
                rx.text(r["workplace"], size="1", color_scheme="gray"),
                spacing="1",
            ),
            width="100%",
        ),
        href="/members/" + r["id"].to(str),
        underline="none",
        color="inherit",
        width="100%",
    )


def members_page() -> rx.Component:
    headers = ("members.number", "pipeline.name", "subject.email", "subject.workplace",
               "members.since", "pipeline.status")  # fmt: skip
    return page_shell(
        rx.vstack(
            rx.heading(t("members.title"), size="7", as_="h1"),
            _counts(),
            folding_filters(filter_form(), M.filters_open, M.toggle_filters, "members"),
            pager(M, "members"),
            rx.desktop_only(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(*[rx.table.column_header_cell(t(k)) for k in headers])
                    ),
                    rx.table.body(rx.foreach(M.rows, _row)),
                    size="1",
                    id="members-table",
                ),
                width="100%",
            ),
            rx.mobile_and_tablet(
                rx.vstack(rx.foreach(M.rows, _phone_row), spacing="2", width="100%"), width="100%"
            ),
            spacing="4",
            width="100%",
            align="start",
        ),
    )


def _fact(label_key: str, value) -> rx.Component:
    return rx.data_list.item(rx.data_list.label(t(label_key)), rx.data_list.value(value))


def register_actions() -> rx.Component:
    return rx.card(
        form(
            rx.vstack(
                rx.heading(t("members.actions"), size="4", as_="h2"),
                rx.el.select(
                    rx.foreach(
                        D.allowed,
                        lambda s: rx.el.option(
                            AppState.t["members.action_" + s.to(str)].to(str), value=s
                        ),
                    ),
                    name="action",
                    id="member-action",
                    aria_label=t("members.actions"),
                    class_name="dpa-select",
                ),
                rx.text_area(
                    name="reason",
                    id="member-reason",
                    rows="3",
                    max_length=2000,
                    width="100%",
                    placeholder=t("members.reason_hint"),
                ),  # fmt: skip
                rx.text(t("members.end_note"), size="1", color_scheme="gray"),
                rx.button(t("detail.apply_step"), type="submit", id="member-apply"),
                spacing="2",
                width="100%",
            ),
            on_submit=D.change,
            reset_on_submit=True,
        ),
        width="100%",
    )


def member_detail_page() -> rx.Component:
    return page_shell(
        rx.vstack(
            back_link("members.title", "/members"),
            rx.cond(
                D.not_found,
                rx.callout(t("detail.not_found"), icon="triangle-alert", color_scheme="red"),
                rx.vstack(
                    rx.hstack(
                        rx.heading(D.member["number"], size="7", as_="h1", id="member-number"),
                        member_badge(D.member["status"]),
                        align="center",
                        wrap="wrap",
                    ),
                    notice_callout(D.notice, "member-notice"),
                    error_callout(D.action_error, "member-error"),
                    rx.card(
                        rx.data_list.root(
                            _fact("pipeline.name", D.subject["name"]),
                            _fact("subject.phone", D.subject["phone"]),
                            _fact("subject.email", D.subject["email"]),
                            _fact("subject.workplace", D.subject["workplace"]),
                            _fact("subject.position", D.subject["position"]),
                            _fact("members.since", D.member["since"]),
                            _fact("members.ended", D.member["ended"]),
                            _fact(
                                "pipeline.reference",
                                rx.link(
                                    D.member["reference"],
                                    href="/applications/" + D.member["application_id"].to(str),
                                ),
                            ),  # fmt: skip
                            orientation=rx.breakpoints(initial="vertical", sm="horizontal"),
                        ),
                        width="100%",
                    ),
                    rx.cond(D.can_write & (D.allowed.length() > 0), register_actions()),
                    spacing="4",
                    width="100%",
                ),
            ),
            spacing="3",
            width="100%",
            max_width="800px",
        ),
    )
