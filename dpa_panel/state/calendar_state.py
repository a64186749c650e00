"""``/calendar``: the Kazakh public holidays and the request deadlines computed from them.

Admins extend the holiday table per year (new holidays, decreed weekend transfers) and set the
working-day period of each request kind; both are audited by the services.
"""

from __future__ import annotations

from datetime import date

import reflex as rx

from dpa_panel.db import session_scope
from dpa_panel.i18n import tr
from dpa_panel.i18n.dates import format_entry_date, parse_date
from dpa_panel.i18n.formatting import format_date
from dpa_panel.models.requests import Holiday
from dpa_panel.models.types import utcnow
from dpa_panel.services import calendar, calendar_labels, requests
from dpa_panel.services.errors import ServiceError
from dpa_panel.state import confirming
from dpa_panel.state.actions import run_action
from dpa_panel.state.auth_state import AuthState
from dpa_panel.state.guard import requires

MANAGE = "calendar.manage"


class CalendarState(AuthState):
    year: str = ""
    holidays: list[dict[str, str]] = []
    missing_next: bool = False
    deadlines: list[dict[str, str]] = []
    notice: str = ""
    action_error: str = ""
    #: The question before removing an entry, naming its date and name (``state/confirming``).
    confirm_open: bool = False
    confirm_title: str = ""
    confirm_text: str = ""
    confirm_token: str = ""
    _pending: str = ""

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
                    "name": calendar_labels.holiday_name(self.locale, h.name),
                    "kind": h.kind,
                    "tone": "green" if h.kind == "working_day" else "blue",
                    "source": calendar_labels.source_text(self.locale, h.source),
                    "unconfirmed": "" if h.confirmed else "1",
                    "stored": "1" if h.stored else "",
                    "replaces": format_entry_date(h.replaces),
                }
                for h in calendar.year_days(session, year)
            ]
            self.missing_next = not calendar.has_year(session, utcnow().year + 1)
            self.deadlines = [
                {
                    "kind": d.kind,
                    "days": str(d.working_days),
                    "from": d.counted_from,
                    "source": calendar_labels.source_text(self.locale, d.source),
                    "pause": "1" if d.pause_stops_clock else "",
                }
                for d in requests.list_deadlines(session)
            ]

    def _act(self, fn, notice_key: str) -> None:
        def work(session, actor):
            try:
                fn(session, actor)
            except ValueError as err:  # a date the form could not parse
                raise ServiceError("date.bad") from err

        run_action(self, work, notice_key)

    @requires(MANAGE)
    def load(self):
        self.year = str(utcnow().year)
        confirming.forget(self)
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
        kind = str(form_data.get("kind", "") or "holiday")
        confirmed = not str(form_data.get("movable", "") or "")

        def add(s, a):
            day = parse_date(raw)
            if day is None:
                raise ServiceError("date.bad")
            calendar.add_holiday(s, a, day, name, source, kind=kind, confirmed=confirmed)

        self._act(add, "calendar.holiday_added")

    @requires(MANAGE)
    def confirm_holiday(self, form_data: dict):
        day = str(form_data.get("day", ""))
        source = str(form_data.get("source", ""))[:300]
        self._act(
            lambda s, a: calendar.confirm_holiday(s, a, date.fromisoformat(day), source),
            "calendar.confirmed",
        )

    @requires(MANAGE)
    def ask_remove_holiday(self, day: str):
        """Ask before removing a stored entry, naming its date and name."""
        self.notice = self.action_error = ""
        confirming.forget(self)
        try:
            when = date.fromisoformat(str(day))
        except ValueError:
            self.action_error = tr(self.locale, "date.bad")
            return
        with session_scope() as session:
            entry = session.get(Holiday, when)
            name = entry.name if entry is not None else ""
        if entry is None:
            self.action_error = tr(self.locale, "holiday.not_found")
            return
        confirming.ask(
            self, f"remove:{when.isoformat()}", tr(self.locale, "confirm.holiday.title"),
            tr(self.locale, "confirm.holiday.text", day=format_date(when, self.locale, "full"),
               name=name),
        )  # fmt: skip

    @requires(MANAGE)
    def cancel_confirm(self):
        confirming.forget(self)

    @requires(MANAGE)
    def remove_holiday(self, token: str):
        """Remove the entry the question named (``remove:<ISO date>``)."""
        if not confirming.take(self, token):
            return
        day = confirming.parts(token, 2)[1]
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
                pause_stops_clock=bool(form_data.get("pause_stops_clock")),
            ),
            "calendar.deadline_saved",
        )  # fmt: skip
