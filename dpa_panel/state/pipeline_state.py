"""``/applications``: the staff pipeline as a board (columns per status) or a table.

Lists are filtered, sorted and paginated in SQL by ``services.applications``; the state keeps
only the visible page (and, on the board, the first cards of each column). Rows contain
applicants' names and e-mails, so every listing is audited and only roles with
``applications.read`` can load them.
"""

from __future__ import annotations

import reflex as rx

from dpa_panel.db import session_scope
from dpa_panel.i18n import tr
from dpa_panel.i18n.formatting import format_date
from dpa_panel.models.vocab import APPLICATION_STATUSES
from dpa_panel.services import applications, audit
from dpa_panel.state.auth_state import AuthState
from dpa_panel.state.guard import actor_for, requires
from dpa_panel.state.paging import (
    PAGE_SIZE,
    capped_summary,
    date_range_error,
    form_filters,
    optional_date,
    page_count,
    page_summary,
    turn_page,
)

READ = "applications.read"
#: Cards per board column at first, and how many more "show more" adds (issue 18: a column
#: scrolls within itself and the page stays short; the rest come from SQL on request).
BOARD_CARDS = 8
BOARD_MORE = 12
BOARD_MAX = 100
SORTS = ("submitted_desc", "submitted_asc", "surname", "status")


def _row_dict(row: applications.ApplicationRow, locale: str) -> dict[str, str]:
    name = " ".join(p for p in (row.surname, row.first_name, row.patronymic) if p)
    return {
        "id": str(row.id),
        "reference": row.reference,
        "submitted": format_date(row.submitted_at, locale, "medium"),
        "status": row.status,
        "name": name,
        "email": row.email,
        "workplace": row.workplace,
        "assignee": row.assignee_username or "",
    }


class PipelineState(AuthState):
    view: str = "board"
    rows: list[dict[str, str]] = []
    total: int = 0
    #: The search stopped counting at ``total`` (``applications.Total.more``): "more than".
    total_more: bool = False
    page: int = 1
    # Every status is present from the start: the board indexes them before the first load.
    counts: dict[str, int] = {s: 0 for s in APPLICATION_STATUSES}
    columns: dict[str, list[dict[str, str]]] = {s: [] for s in APPLICATION_STATUSES}
    filters: dict[str, str] = {}
    #: Cards loaded per column (``show_more`` raises one column's number).
    limits: dict[str, int] = {s: BOARD_CARDS for s in APPLICATION_STATUSES}
    staff: list[dict[str, str]] = []
    filter_error: str = ""
    #: Phones: the filter form is folded away until asked for (wider screens always show it).
    filters_open: bool = False

    def _clear_on_denial(self):
        self.rows, self.total, self.total_more = [], 0, False
        self.counts = {s: 0 for s in APPLICATION_STATUSES}
        self.columns = {s: [] for s in APPLICATION_STATUSES}

    @rx.var
    def page_count(self) -> int:
        return page_count(self.total)

    @rx.var
    def summary(self) -> str:
        if self.total_more:
            return capped_summary(self.locale, self.total, self.page)
        return page_summary(self.locale, self.total, self.page)

    def _query(self) -> applications.ApplicationQuery:
        f = self.filters
        assignee = f.get("assignee", "")
        return applications.ApplicationQuery(
            search=f.get("search", ""),
            status=f.get("status", "") if f.get("status", "") in APPLICATION_STATUSES else "",
            assignee_id=int(assignee) if assignee.isdigit() else None,
            unassigned=assignee == "none",
            date_from=optional_date(f.get("date_from")),
            date_to=optional_date(f.get("date_to")),
            sort=f.get("sort", "submitted_desc") if f.get("sort") in SORTS else "submitted_desc",
            page=self.page,
            page_size=PAGE_SIZE,
        )

    def _refresh(self) -> None:
        q = self._query()
        with session_scope() as session:
            self.counts = applications.status_counts(session, q)
            if self.view == "board":
                columns = applications.board_columns(
                    session, q, per_column=BOARD_CARDS, limits=self.limits
                )
                self.columns = {
                    status: [_row_dict(r, self.locale) for r in columns.get(status, [])]
                    for status in APPLICATION_STATUSES
                }
                shown = sum(len(v) for v in self.columns.values())
            else:
                rows, total = applications.list_applications(session, q)
                self.total, self.total_more = int(total), getattr(total, "more", False)
                self.rows = [_row_dict(r, self.locale) for r in rows]
                shown = len(rows)
            audit.record(
                session,
                actor_for(self),
                "application.list",
                "membership_application",
                "",
                {
                    "view": self.view,
                    # Filter names and codes only: a search term is often a person's name.
                    "filters": sorted(self.filters),
                    "status": self.filters.get("status", ""),
                    "page": self.page,
                    "rows": shown,
                },
            )

    @requires(READ)
    def load(self):
        self.page, self.filter_error = 1, ""
        self.limits = {s: BOARD_CARDS for s in APPLICATION_STATUSES}
        with session_scope() as session:
            self.staff = [
                {"value": str(uid), "label": name}
                for uid, name in applications.staff_choices(session)
            ]
        self._refresh()

    @requires(READ)
    def switch_view(self, view: str | list[str]):
        self.view = "table" if view in ("table", ["table"]) else "board"
        self.page = 1
        self._refresh()

    @requires(READ)
    def apply_filters(self, form_data: dict):
        wanted = form_filters(
            form_data, ("search", "status", "assignee", "date_from", "date_to", "sort")
        )
        error = date_range_error(wanted)
        self.filter_error = tr(self.locale, error) if error else ""
        if error:
            return
        self.filters = wanted
        self.page = 1
        self.limits = {s: BOARD_CARDS for s in APPLICATION_STATUSES}
        self.filters_open = False
        self._refresh()

    @requires(READ)
    def show_more(self, status: str):
        """One more batch of a board column's cards (read from SQL, audited with the rest)."""
        if status not in APPLICATION_STATUSES or self.view != "board":
            return
        self.limits = {**self.limits, status: min(BOARD_MAX, self.limits[status] + BOARD_MORE)}
        self._refresh()

    @requires(READ)
    def toggle_filters(self):
        self.filters_open = not self.filters_open

    @requires(READ)
    def next_page(self):
        turn_page(self, +1, self._refresh)

    @requires(READ)
    def previous_page(self):
        turn_page(self, -1, self._refresh)
