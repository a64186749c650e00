"""``/requests`` (the register of all requests: views, filters, search, exports, new request)
and ``/requests/[request_id]`` (facts, deadline with its citation, history, next steps)."""

from __future__ import annotations

import reflex as rx

from dpa_panel.components.access_package import access_package_card
from dpa_panel.components.export_about import about_link
from dpa_panel.components.filters import folding_filters
from dpa_panel.components.forms import error_callout, form, notice_callout
from dpa_panel.components.i18n import t
from dpa_panel.components.layout import back_link, page_shell
from dpa_panel.components.listing import data_table, labelled, pager
from dpa_panel.components.status import count_card
from dpa_panel.models.vocab import REQUEST_KINDS, STAFF_REQUEST_CHANNELS
from dpa_panel.pages.breaches import breach_alert
from dpa_panel.services.request_register import VIEWS
from dpa_panel.state.app_state import AppState
from dpa_panel.state.requests_state import RequestDetailState as D
from dpa_panel.state.requests_state import RequestsState as R


def _label(vocabulary: str, code: rx.Var) -> rx.Var:
    return AppState.t[f"{vocabulary}." + code.to(str)].to(str)


def _date_input(name: str, element_id: str, **props) -> rx.Component:
    """A text field for DD.MM.YYYY (a browser date picker would show its own format)."""
    return rx.input(
        name=name,
        id=element_id,
        width="100%",
        placeholder=t("date.placeholder"),
        input_mode="numeric",
        max_length=10,
        **props,
    )


SOLID, SOFT = "solid", "soft"  # button variants (identifiers, not text)


def _tab(view: str) -> rx.Component:
    return rx.button(
        t(f"register.view.{view}"),
        " ",
        rx.badge(R.counts[view], variant="surface", color_scheme="gray", radius="full"),
        on_click=R.show_view(view),
        variant=rx.cond(R.view == view, SOLID, SOFT),
        size="2",
        id=f"view-{view}",
        custom_attrs={"aria-pressed": (R.view == view).to(str)},
    )


def _row(r: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.link(r["reference"], href="/requests/" + r["id"].to(str)), white_space="nowrap"
        ),
        rx.table.cell(_label("request_kind", r["kind"])),
        rx.table.cell(
            _label("request_status", r["status"]),
            rx.cond(r["paused"] != "", rx.badge(t("requests.paused_badge"), margin_left="4px")),
        ),
        rx.table.cell(r["requester"]),
        rx.table.cell(r["received"], white_space="nowrap"),
        rx.table.cell(r["due"], white_space="nowrap"),
        rx.table.cell(
            rx.cond(
                r["closed"] != "",
                rx.badge(r["closed_on"], " ", r["outcome"], color_scheme=r["tone"].to(str)),
                rx.badge(
                    rx.cond(r["overdue"] != "", t("requests.overdue"), ""),
                    " ",
                    r["days_left"],
                    color_scheme=r["tone"].to(str),
                ),
            ),
            white_space="nowrap",
        ),
        rx.table.cell(r["assignee"]),
        id="request-" + r["reference"].to(str),
    )


def filter_form() -> rx.Component:
    return form(
        rx.grid(
            labelled(
                "register.search",
                rx.input(name="search", id="register-search", width="100%",
                         placeholder=t("register.search_hint"),
                         default_value=R.filters.get("search", "")),
            ),  # fmt: skip
            labelled(
                "requests.kind",
                rx.el.select(
                    rx.el.option(t("register.any"), value=""),
                    *[rx.el.option(t(f"request_kind.{k}"), value=k) for k in REQUEST_KINDS],
                    name="kind", id="register-kind", class_name="dpa-select",
                ),
            ),  # fmt: skip
            labelled(
                "requests.assignee",
                rx.el.select(
                    rx.el.option(t("register.any"), value=""),
                    rx.el.option(t("register.nobody"), value="none"),
                    rx.foreach(R.staff, lambda s: rx.el.option(s["label"], value=s["value"])),
                    name="assignee", id="register-assignee", class_name="dpa-select",
                ),
            ),  # fmt: skip
            labelled("register.received_from", _date_input("received_from", "register-from")),
            labelled("register.received_to", _date_input("received_to", "register-to")),
            labelled(
                "register.due_within",
                rx.input(name="due_within", id="register-due-within", type="number", min=0,
                         max=60, width="100%", placeholder="3"),
            ),  # fmt: skip
            columns=rx.breakpoints(initial="1", sm="2", md="3"),
            spacing="2",
            width="100%",
        ),
        rx.hstack(
            rx.button(t("audit.apply"), type="submit", id="register-apply"),
            rx.button(t("register.clear"), type="button", variant="soft",
                      on_click=R.clear_filters, id="register-clear"),  # fmt: skip
            rx.button(t("register.export_csv"), type="button", variant="outline",
                      on_click=R.export("csv"), id="register-csv"),  # fmt: skip
            rx.button(t("register.export_xlsx"), type="button", variant="outline",
                      on_click=R.export("xlsx"), id="register-xlsx"),  # fmt: skip
            about_link("requests_csv"),
            spacing="2",
            wrap="wrap",
            margin_top="8px",
        ),
        on_submit=R.apply_filters,
        reset_on_submit=False,
        width="100%",
    )


def register_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(t("register.title"), size="4", as_="h2"),
            rx.hstack(
                *[_tab(v) for v in VIEWS], spacing="2", wrap="wrap",
                custom_attrs={"role": "group", "aria-label": t("register.views")},
            ),  # fmt: skip
            rx.cond(
                R.view == "due_soon",
                rx.text(t("register.due_soon_until"), " ", R.due_soon_until, size="2",
                        color_scheme="gray", id="register-due-until"),
            ),  # fmt: skip
            folding_filters(filter_form(), R.filters_open, R.toggle_filters, "register"),
            error_callout(R.filter_error, "register-error"),
            rx.cond(
                R.total == 0,
                rx.callout(
                    AppState.t["register.empty." + R.view.to(str)].to(str),
                    icon="inbox",
                    color_scheme="gray",
                    id="register-empty",
                ),
                data_table(
                    (
                        "pipeline.reference", "requests.kind", "pipeline.status",
                        "requests.requester", "requests.received_on", "requests.due",
                        "requests.deadline", "requests.assignee",
                    ),
                    R.rows,
                    _row,
                    "requests-table",
                ),  # fmt: skip
            ),
            pager(R, "register"),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def new_request_form() -> rx.Component:
    return rx.card(
        form(
            rx.vstack(
                rx.heading(t("requests.new"), size="4", as_="h2"),
                rx.grid(
                    labelled(
                        "requests.kind",
                        rx.el.select(
                            *[rx.el.option(t(f"request_kind.{k}"), value=k) for k in REQUEST_KINDS],
                            name="kind",
                            id="new-kind",
                            class_name="dpa-select",
                        ),
                    ),
                    labelled(
                        "consents.channel",
                        rx.el.select(
                            *[
                                rx.el.option(t(f"request_channel.{c}"), value=c)
                                for c in STAFF_REQUEST_CHANNELS
                            ],
                            name="channel",
                            id="new-channel",
                            class_name="dpa-select",
                        ),
                    ),
                    labelled(
                        "requests.received_on",
                        _date_input("received_on", "new-received", default_value=R.today_text,
                                    key=R.today_text),
                    ),  # fmt: skip
                    labelled(
                        "requests.requester",
                        rx.input(name="requester", id="new-requester", width="100%"),
                    ),
                    labelled(
                        "requests.contact", rx.input(name="contact", id="new-contact", width="100%")
                    ),
                    labelled(
                        "requests.subject",
                        rx.input(
                            name="subject",
                            id="new-subject",
                            width="100%",
                            placeholder=t("requests.subject_hint"),
                        ),
                    ),
                    columns=rx.breakpoints(initial="1", md="3"),
                    spacing="3",
                    width="100%",
                ),  # fmt: skip
                labelled(
                    "requests.details", rx.text_area(name="details", id="new-details", width="100%")
                ),
                error_callout(R.form_error, "request-form-error"),
                rx.button(t("requests.create"), type="submit", id="request-create"),
                spacing="3",
                width="100%",
            ),
            on_submit=R.create,
            reset_on_submit=False,
        ),
        width="100%",
    )


def _count(key: str, label_key: str, color: str, value=None) -> rx.Component:
    shown = value if value is not None else R.counts[key]
    return count_card(t(label_key), shown, color, f"requests-{key}")


def requests_page() -> rx.Component:
    return page_shell(
        rx.vstack(
            rx.heading(t("requests.title"), size="7", as_="h1"),
            breach_alert(),  # issue 17: the one-working-day countdown of open breaches
            rx.grid(
                _count("open", "requests.open", "blue"),
                _count("overdue", "requests.overdue", "red"),
                _count("due_today", "requests.due_today", "amber"),
                _count("answered_on_time", "requests.on_time", "green", R.on_time_share),
                columns=rx.breakpoints(initial="2", md="4"),
                spacing="3",
                width="100%",
            ),
            register_card(),
            new_request_form(),
            spacing="4",
            width="100%",
            align="start",
        ),
    )


# --- one request -----------------------------------------------------------------------------


def _fact(label_key: str, value, element_id: str | None = None) -> rx.Component:
    return rx.data_list.item(
        rx.data_list.label(t(label_key)),
        rx.data_list.value(rx.text(value, white_space="pre-wrap", id=element_id)),
    )


def deadline_card() -> rx.Component:
    """The due date beside the rule that set it: period, start event, citation; once closed,
    the closing date and "answered on time" / "N working days late" instead of days left."""
    return rx.card(
        rx.vstack(
            rx.heading(t("requests.deadline"), size="4", as_="h2"),
            rx.data_list.root(
                _fact("requests.due", D.request["due"], "request-due"),
                rx.cond(
                    D.request["closed"] != "",
                    _fact("requests.closed_on", D.request["closed_on"], "request-closed-on"),
                    _fact("requests.days_left", D.request["days_left"], "request-days-left"),
                ),
                rx.cond(
                    D.request["outcome"] != "",
                    _fact("requests.outcome", D.request["outcome"], "request-outcome"),
                ),
                _fact("requests.rule",
                      rx.text(D.request["deadline_days"], " ", t("requests.working_days_from"),
                              " ", AppState.t["calendar.from_" + D.request["deadline_from"]
                                              .to(str)].to(str),
                              as_="span"),
                      "request-rule"),
                _fact("calendar.source", D.request["deadline_source"], "request-citation"),
                _fact("requests.pause_rule",
                      rx.cond(D.request["pause_stops_clock"] != "",
                              t("requests.pause_stops"), t("requests.pause_runs"))),
                orientation=rx.breakpoints(initial="vertical", sm="horizontal"),
            ),  # fmt: skip
            rx.cond(
                D.request["paused"] != "",
                rx.callout(
                    rx.text(t("requests.paused_since"), " ", D.request["paused_since"], ": ",
                            D.request["pause_reason"]),
                    icon="pause", color_scheme="amber", id="request-paused",
                ),
            ),  # fmt: skip
            spacing="2",
            width="100%",
        ),
        width="100%",
    )


def _history_item(e: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.text(
            rx.text(e["at"], as_="span", weight="medium"),
            " · ",
            rx.text(e["who"], as_="span", color_scheme="gray"),
            " — ",
            e["line"],
            size="2",
        ),
        rx.cond(e["text"] != "", rx.text(e["text"], size="2", white_space="pre-wrap",
                                         color_scheme="gray")),  # fmt: skip
        id="history-" + e["id"].to(str),
        custom_attrs={"data-kind": e["kind"]},
        margin_bottom="6px",
    )


def history_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(t("requests.history"), size="4", as_="h2"),
            rx.el.ol(rx.foreach(D.history, _history_item), id="request-history",
                     style={"paddingLeft": "1.2em", "margin": 0}),  # fmt: skip
            spacing="2",
            width="100%",
        ),
        width="100%",
    )


def verify_form() -> rx.Component:
    """The identity step: the request's own subject when it is linked to one."""
    return rx.card(
        form(
            rx.vstack(
                rx.heading(t("requests.verify"), size="4", as_="h2"),
                rx.cond(
                    D.request["subject_id"] != "",
                    rx.text(t("requests.verify_subject"), " ", D.request["subject_name"],
                            size="2", id="verify-linked-subject"),
                    labelled(
                        "requests.subject",
                        rx.input(name="subject", id="verify-subject", width="100%",
                                 placeholder=t("requests.subject_hint")),
                    ),
                ),  # fmt: skip
                labelled(
                    "requests.method",
                    rx.input(
                        name="method",
                        id="verify-method",
                        width="100%",
                        placeholder=t("requests.method_hint"),
                    ),
                ),
                rx.text(t("requests.method_note"), size="1", color_scheme="gray"),
                rx.button(t("requests.verify"), type="submit", id="verify-submit"),
                spacing="2",
                width="100%",
            ),  # fmt: skip
            on_submit=D.verify_identity,
            reset_on_submit=True,
        ),
        width="100%",
    )


def status_form() -> rx.Component:
    return rx.card(
        form(
            rx.vstack(
                rx.heading(t("detail.next_step"), size="4", as_="h2"),
                rx.el.select(
                    rx.foreach(
                        D.allowed, lambda s: rx.el.option(_label("request_status", s), value=s)
                    ),
                    name="to_status",
                    id="request-to-status",
                    class_name="dpa-select",
                    aria_label=t("detail.next_step"),
                ),
                rx.text_area(
                    name="text",
                    id="request-text",
                    rows="4",
                    width="100%",
                    placeholder=t("requests.answer_hint"),
                    aria_label=t("requests.answer"),
                ),  # fmt: skip
                rx.button(t("detail.apply_step"), type="submit", id="request-step"),
                spacing="2",
                width="100%",
            ),
            on_submit=D.change_status,
            reset_on_submit=True,
        ),
        width="100%",
    )


def _small_form(heading_key, name, input_id, button_key, button_id, handler, placeholder_key):
    return form(
        rx.vstack(
            rx.text(t(heading_key), size="2", weight="medium"),
            rx.input(name=name, id=input_id, width="100%", placeholder=t(placeholder_key),
                     aria_label=t(heading_key)),  # fmt: skip
            rx.button(t(button_key), type="submit", size="1", id=button_id),
            spacing="1",
            width="100%",
        ),
        on_submit=handler,
        reset_on_submit=True,
        width="100%",
    )


def casework_card() -> rx.Component:
    """Pause/resume, assignment, notes (open requests) and reopening (closed ones)."""
    return rx.card(
        rx.vstack(
            rx.heading(t("requests.casework"), size="4", as_="h2"),
            rx.cond(
                D.request["closed"] != "",
                _small_form("requests.reopen", "reason", "reopen-reason", "requests.reopen",
                            "reopen-submit", D.reopen, "requests.reason_hint"),
                rx.vstack(
                    rx.cond(
                        D.request["paused"] != "",
                        rx.button(t("requests.resume"), on_click=D.resume, size="1",
                                  id="resume-submit"),
                        _small_form("requests.pause", "reason", "pause-reason", "requests.pause",
                                    "pause-submit", D.pause, "requests.pause_hint"),
                    ),
                    form(
                        rx.vstack(
                            rx.text(t("requests.assignee"), size="2", weight="medium"),
                            rx.el.select(
                                rx.el.option(t("register.nobody"), value=""),
                                rx.foreach(D.staff, lambda s: rx.el.option(
                                    s["label"], value=s["value"])),
                                name="assignee", id="assign-select", class_name="dpa-select",
                                default_value=D.request["assignee"], key=D.request["assignee"],
                                aria_label=t("requests.assignee"),
                            ),
                            rx.button(t("requests.assign"), type="submit", size="1",
                                      id="assign-submit"),
                            spacing="1", width="100%",
                        ),
                        on_submit=D.assign, width="100%",
                    ),
                    _small_form("requests.note", "text", "note-text", "requests.add_note",
                                "note-submit", D.add_note, "requests.note_hint"),
                    spacing="3",
                    width="100%",
                ),
            ),  # fmt: skip
            spacing="2",
            width="100%",
        ),
        width="100%",
    )


def request_detail_page() -> rx.Component:
    return page_shell(
        rx.vstack(
            back_link("requests.title", "/requests"),
            rx.cond(
                D.not_found,
                rx.callout(t("detail.not_found"), icon="triangle-alert", color_scheme="red"),
                rx.vstack(
                    rx.hstack(
                        rx.heading(
                            D.request["reference"], size="7", as_="h1", id="request-reference"
                        ),
                        rx.badge(_label("request_kind", D.request["kind"])),
                        rx.badge(
                            _label("request_status", D.request["status"]),
                            color_scheme="blue",
                            id="request-status",
                        ),
                        align="center",
                        wrap="wrap",
                    ),  # fmt: skip
                    notice_callout(D.notice, "request-notice"),
                    error_callout(D.action_error, "request-error"),
                    rx.grid(
                        deadline_card(),
                        rx.card(
                            rx.data_list.root(
                                _fact("requests.received_on", D.request["received"]),
                                _fact("consents.channel",
                                      _label("request_channel", D.request["channel"])),
                                _fact("requests.requester", D.request["requester"]),
                                _fact("requests.contact", D.request["contact"]),
                                _fact("requests.details", D.request["details"]),
                                _fact("requests.verified", D.request["verified"]),
                                _fact("requests.method", D.request["method"]),
                                _fact("requests.answer", D.request["answer"]),
                                _fact("requests.refusal_reason", D.request["refusal_reason"]),
                                orientation=rx.breakpoints(initial="vertical", sm="horizontal"),
                            ),
                            width="100%",
                        ),
                        columns=rx.breakpoints(initial="1", md="2"),
                        spacing="4",
                        width="100%",
                    ),  # fmt: skip
                    rx.cond(
                        D.request["subject_id"] != "",
                        rx.link(
                            t("requests.open_subject"),
                            href="/subjects/" + D.request["subject_id"],
                            id="open-subject",
                        ),
                    ),  # fmt: skip
                    rx.grid(
                        rx.cond(D.request["verified"] == "",
                                rx.cond(D.allowed.contains("in_progress"), verify_form())),
                        rx.cond(D.allowed.length() > 0, status_form()),
                        casework_card(),
                        columns=rx.breakpoints(initial="1", md="2"),
                        spacing="4",
                        width="100%",
                    ),  # fmt: skip
                    access_package_card(),
                    history_card(),
                    spacing="3",
                    width="100%",
                ),
            ),
            spacing="3",
            width="100%",
            max_width="1000px",
        ),
    )
