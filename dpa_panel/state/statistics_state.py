"""``/statistics``: the board's anonymised aggregate charts (clause 3, last purpose).

Only the output of ``services.statistics`` (counts already suppressed below k, codes of
coarse categories, month/quarter labels) ever enters this state, so nothing a board member's
browser receives can identify a person. Downloads rebuild the same tables on the server.
"""

from __future__ import annotations

import reflex as rx

from dpa_panel.db import session_scope
from dpa_panel.i18n import tr
from dpa_panel.models.types import utcnow
from dpa_panel.services import audit, auth, statistics
from dpa_panel.state.auth_state import AuthState
from dpa_panel.state.guard import actor_for, current_identity, hard_navigate, requires

READ = "stats.read"
FIRST_YEAR = 2025  # policy edition v1 took effect on 2025-05-27
#: Row-label column of each table, and the vocabulary that translates its codes (if any).
LABELS = {
    "applications_per_month": ("period", None),
    "application_funnel": ("stage", "stats.stage"),
    "decision_time_per_quarter": ("period", None),
    "members_by_workplace_category": ("category", "workplace_category"),
    "members_by_position_level": ("category", "position_level"),
    "members_by_education_level": ("category", "education_level"),
    "memberships_per_quarter": ("period", None),
    "consent_rates": ("purpose", "consents.short"),
    "withdrawals_per_month": ("period", None),
    "requests_per_month": ("period", None),
    "destructions_per_quarter": ("period", None),
    "disclosures_per_quarter": ("period", None),
}
CHARTS = tuple(LABELS)
#: Columns a table may leave out (a rare body type folded into ``other_state``): shown as a
#: dash in the page's table so every row has every column the page renders.
OPTIONAL_COLUMNS = {"disclosures_per_quarter": statistics.BODY_TYPES}
FOLDED = "—"


class StatisticsState(AuthState):
    year: str = ""
    quarter: str = ""
    k: int = 5
    tables: dict[str, list[dict[str, str]]] = {c: [] for c in CHARTS}
    charts: dict[str, list[dict[str, int | float | str | None]]] = {c: [] for c in CHARTS}

    @rx.var
    def years(self) -> list[str]:
        return [str(y) for y in range(FIRST_YEAR, utcnow().year + 1)]

    def _label(self, chart: str, code: str) -> str:
        _column, vocabulary = LABELS[chart]
        if code == "total":
            return tr(self.locale, "stats.total")
        if vocabulary is None:
            return code
        if vocabulary == "consents.short":
            return (
                tr(self.locale, f"consents.short_{code}")
                if code != "statistics"
                else tr(self.locale, "stats.statistics_short")
            )
        return tr(self.locale, f"{vocabulary}.{code}")

    def _refresh(self) -> None:
        flt = statistics.filter_from_strings(self.year, self.quarter)
        self.k = statistics.effective_k()
        with session_scope() as session:
            tables = statistics.dashboard(session, flt, self.k)
        shown, plotted = {}, {}
        for chart in CHARTS:
            column, _vocabulary = LABELS[chart]
            rows = tables.get(chart, [])
            optional = dict.fromkeys(OPTIONAL_COLUMNS.get(chart, ()), FOLDED)
            shown[chart] = [
                {
                    key: str(value)
                    for key, value in {
                        **optional,
                        **row,
                        "label": self._label(chart, str(row[column])),
                    }.items()
                }
                for row in rows
            ]
            plotted[chart] = [
                {
                    **{
                        key: (value if isinstance(value, int | float) else None)
                        for key, value in row.items()
                    },
                    "label": self._label(chart, str(row[column])),
                }
                for row in rows
                if row[column] != "total"
            ]
        self.tables, self.charts = shown, plotted

    @requires(READ)
    def load(self):
        self.year = str(utcnow().year)
        self.quarter = ""
        self._refresh()

    @requires(READ)
    def choose_period(self, form_data: dict):
        year = str(form_data.get("year", "") or "")
        quarter = str(form_data.get("quarter", "") or "")
        self.year = year if year in self.years else ""
        self.quarter = quarter if quarter in ("1", "2", "3", "4") and self.year else ""
        self._refresh()

    @requires(READ)
    def download(self, chart: str, fmt: str):
        """Exactly the anonymised numbers of one chart, as CSV or XLSX."""
        if chart not in CHARTS:
            return None
        ident = current_identity()
        params = {
            "kind": "stats_xlsx" if fmt == "xlsx" else "stats_csv",
            "chart": chart,
            "year": self.year,
            "quarter": self.quarter,
        }
        with session_scope() as session:
            audit.record(session, actor_for(self), "stats.downloaded", "statistics", chart,
                         {"format": fmt, "year": self.year, "quarter": self.quarter})  # fmt: skip
            ticket = auth.download_ticket(session, ident, params)
        return hard_navigate(f"/api/download/{ticket}")
