"""``/calendar``: the Kazakh public holidays and the request deadlines computed from them.

Admins extend the holiday table per year (new holidays, decreed weekend transfers) and set the
working-day period of each request kind; both are audited by the services.
"""

from __future__ import annotations

from datetime import date

import reflex as rx

from dpa_panel.db import session_scope
from dpa_panel.i18n.formatting import format_date
from dpa_panel.models.types import utcnow
from dpa_panel.services import calendar, requests
from dpa_panel.services.errors import ServiceError
from dpa_panel.state.actions import run_action
from dpa_panel.state.auth_state import AuthState
from dpa_panel.state.guard import requires

MANAGE = "calendar.manage"


class CalendarState(AuthState):
    year: str = ""
    holidays: list[dict[str, str]] = []
    deadlines: list[dict[str, str]] = []
    notice: str = ""
    action_error: str = ""

    @rx.var
    def years(self) -> list[str]:
        now = utcnow().year
        return [str(y) for y in range(2025, now + 3)]

    def _reload(self) -> None:
        year = int(self.year) if self.year.isdigit() else utcnow().year
        with session_scope() as session:
            self.holidays = [
                {
                    "day": h.day.isoformat(),
                    "shown": format_date(h.day, self.locale, "full"),
                    "name": h.name,
                    "source": h.source,
                }
                for h in calendar.list_holidays(session, year)
            ]
            self.deadlines = [
                {
                    "kind": d.kind,
                    "days": str(d.working_days),
                    "from": d.counted_from,
                    "source": d.source,
                }
                for d in requests.list_deadlines(session)
            ]

    def _act(self, fn, notice_key: str) -> None:
        def work(session, actor):
            try:
                fn(session, actor)
            except ValueError as err:  # a date the form could not parse
                raise ServiceError("audit.bad_date") from err

        run_action(self, work, notice_key)

    @requires(MANAGE)
    def load(self):
        self.year = str(utcnow().year)
        self.notice = self.action_error = ""
        self._reload()

    @requires(MANAGE)
    def choose_year(self, form_data: dict):
        year = str(form_data.get("year", ""))
        self.year = year if year in self.years else str(utcnow().year)
        self._reload()

    @requires(MANAGE)
    def add_holiday(self, form_data: dict):
        raw = str(form_data.get("day", "")).strip()
        name = str(form_data.get("name", ""))[:200]
        source = str(form_data.get("source", ""))[:300]
        self._act(
            lambda s, a: calendar.add_holiday(s, a, date.fromisoformat(raw), name, source),
            "calendar.holiday_added",
        )

    @requires(MANAGE)
    def remove_holiday(self, day: str):
        self._act(
            lambda s, a: calendar.remove_holiday(s, a, date.fromisoformat(day)),
            "calendar.holiday_removed",
        )

    @requires(MANAGE)
    def set_deadline(self, form_data: dict):
        kind = str(form_data.get("kind", ""))
        raw_days = str(form_data.get("days", "")).strip()
        self._act(
            lambda s, a: requests.set_deadline(
                s, a, kind,
                working_days=int(raw_days) if raw_days.isdigit() else -1,
                counted_from=str(form_data.get("from", "")),
                source=str(form_data.get("source", ""))[:300],
            ),
            "calendar.deadline_saved",
        )  # fmt: skip
