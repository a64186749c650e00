"""``/admin/import``: bring an association's existing spreadsheet into the panel (issue 21).

Upload → the columns recognised (each correctable) → counts and every refused cell with its
reason → "Import", which asks first, naming the file and the number of rows."""

from __future__ import annotations

import reflex as rx

from dpa_panel.components.confirm import confirm_dialog
from dpa_panel.components.forms import error_callout, notice_callout
from dpa_panel.components.i18n import t
from dpa_panel.components.layout import page_shell
from dpa_panel.components.listing import labelled
from dpa_panel.state.import_state import UPLOAD_ID
from dpa_panel.state.import_state import ImportState as S


def _kind_and_sheet() -> rx.Component:
    return rx.grid(
        rx.vstack(
            rx.el.label(rx.text(t("import.kind"), as_="span", size="2",
                    weight="medium"), html_for="import-kind"),  # fmt: skip
            rx.el.select(
                rx.el.option(t("import.kind.members"), value="members"),
                rx.el.option(t("import.kind.applications"), value="applications"),
                id="import-kind",
                value=S.kind,
                on_change=S.set_kind,
                class_name="dpa-select",
            ),
            spacing="1",
            width="100%",
        ),
        labelled(
            "import.sheet",
            rx.input(
                id="import-sheet", value=S.sheet_name, on_change=S.set_sheet_name.debounce(400),
                max_length=100, width="100%", aria_label=t("import.sheet"),
            ),
        ),  # fmt: skip
        columns=rx.breakpoints(initial="1", md="2"),
        spacing="3",
        width="100%",
    )


def _named_upload(*children, **props) -> rx.Component:
    """``rx.upload`` whose hidden file input carries the choose button's text as its name
    (axe: every control has an accessible name; the input is not otherwise reachable)."""
    upload = rx.upload(*children, **props)
    zone = upload.children[0]
    zone.children[0].custom_attrs["aria-label"] = t("import.choose")
    return upload


def upload_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            _kind_and_sheet(),
            _named_upload(
                rx.vstack(
                    rx.button(t("import.choose"), type="button", variant="soft",
                              id="import-choose"),  # fmt: skip
                    rx.text(t("import.chosen"), " ", rx.selected_files(UPLOAD_ID).join(", "),
                            size="1", id="import-chosen"),  # fmt: skip
                    align="center",
                    spacing="2",
                ),
                id=UPLOAD_ID,
                max_files=1,
                multiple=False,
                accept={
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": [".xlsx"],
                    "text/csv": [".csv"],
                },
                border="1px dashed var(--gray-8)",
                padding="1em",
                width="100%",
            ),
            rx.button(
                t("import.read"), id="import-read",
                on_click=S.handle_upload(rx.upload_files(upload_id=UPLOAD_ID)),
            ),  # fmt: skip
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _column(c: rx.Var) -> rx.Component:
    select_id = "map-" + c["index"].to(str)
    return rx.table.row(
        rx.table.cell(rx.el.label(c["header"], html_for=select_id)),
        rx.table.cell(
            rx.el.select(
                rx.foreach(
                    S.field_options,
                    lambda o: rx.el.option(o["label"], value=o["value"]),
                ),
                id=select_id,
                value=c["field"],
                on_change=lambda value: S.set_field(c["index"], value),
                class_name="dpa-select",
            )
        ),
    )


def mapping_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(t("import.mapping"), size="4", as_="h2"),
            rx.text(t("import.mapping_hint"), size="1", color_scheme="gray"),
            rx.box(
                rx.table.root(
                    rx.table.header(rx.table.row(
                        rx.table.column_header_cell(t("import.column")),
                        rx.table.column_header_cell(t("import.maps_to")),
                    )),  # fmt: skip
                    rx.table.body(rx.foreach(S.columns, _column)),
                    size="1",
                    id="import-mapping",
                ),
                overflow_x="auto",
                width="100%",
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
    )


#: The field column is left out on a phone: the file's column name says where the cell is.
_WIDE_ONLY = rx.breakpoints(initial="none", md="table-cell")


def _problem(p: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(p["row"]),
        rx.table.cell(p["column"]),
        rx.table.cell(p["field"], display=_WIDE_ONLY),
        rx.table.cell(p["reason"], min_width="12em"),
    )


def preview_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(t("import.preview"), size="4", as_="h2"),
            rx.data_list.root(
                rx.foreach(
                    S.counts,
                    lambda c: rx.data_list.item(
                        rx.data_list.label(c["label"]),
                        rx.data_list.value(c["value"], id="count-" + c["key"].to(str)),
                    ),
                ),
                size="1",
            ),
            rx.cond(S.formulas_note != "", rx.text(S.formulas_note, size="1")),
            rx.heading(t("import.refused_rows"), size="3", as_="h3"),
            rx.cond(
                S.problems.length() > 0,
                rx.box(
                    rx.table.root(
                        rx.table.header(rx.table.row(
                            rx.table.column_header_cell(t("import.report.row")),
                            rx.table.column_header_cell(t("import.report.column")),
                            rx.table.column_header_cell(t("import.report.field"),
                                                        display=_WIDE_ONLY),
                            rx.table.column_header_cell(t("import.report.reason")),
                        )),  # fmt: skip
                        rx.table.body(rx.foreach(S.problems, _problem)),
                        size="1",
                        id="import-problems",
                    ),
                    overflow_x="auto",
                    width="100%",
                ),
                rx.text(t("import.no_refusals"), size="2", id="import-no-problems"),
            ),
            rx.cond(S.problems_more != "", rx.text(S.problems_more, size="1")),
            rx.hstack(
                rx.button(t("import.download_report"), variant="soft", id="import-report",
                          on_click=S.download_report),  # fmt: skip
                rx.cond(
                    S.can_confirm & ~S.confirming,
                    rx.button(t("import.confirm"), id="import-confirm", on_click=S.ask_confirm),
                ),
                spacing="2",
                wrap="wrap",
            ),
            confirm_dialog(
                S.confirming, t("import.confirm_title"), S.confirm_text,
                confirm_key="import.confirm", cancel_key="import.cancel",
                on_confirm=S.confirm, on_cancel=S.cancel_confirm,
                text_id="import-confirm-text", yes_id="import-do", no_id="import-cancel",
            ),  # fmt: skip
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def reconsent_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(t("import.reconsent_hint"), size="1", color_scheme="gray"),
            rx.hstack(
                rx.button(t("import.reconsent"), variant="soft", id="import-reconsent",
                          on_click=S.download_reconsent),  # fmt: skip
                rx.cond(
                    ~S.inviting,
                    rx.button(t("import.invite"), variant="soft", id="import-invite",
                              on_click=S.ask_invite),  # fmt: skip
                ),
                spacing="2",
                wrap="wrap",
            ),
            rx.text(t("import.invite_hint"), size="1", color_scheme="gray"),
            confirm_dialog(
                S.inviting, t("import.invite_confirm_title"), S.invite_text,
                confirm_key="import.invite", cancel_key="import.cancel",
                on_confirm=S.invite, on_cancel=S.cancel_invite,
                text_id="import-invite-text", yes_id="import-invite-do",
                no_id="import-invite-cancel",
            ),  # fmt: skip
            spacing="2",
        ),
        width="100%",
    )


def import_page() -> rx.Component:
    return page_shell(
        rx.vstack(
            rx.heading(t("import.title"), size="7", as_="h1"),
            rx.text(t("import.lead"), size="2", color_scheme="gray"),
            upload_card(),
            error_callout(S.error, "import-error"),
            notice_callout(S.notice, "import-notice"),
            rx.cond(S.has_file, rx.fragment(mapping_card(), preview_card())),
            reconsent_card(),
            spacing="4",
            width="100%",
            align="start",
        ),
    )
