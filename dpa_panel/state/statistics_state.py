"""``/statistics``: the board's anonymised statistics, read from published releases only.

Nothing here computes a figure from live data: the state reads the stored, published columns
of frozen releases (``services.stats_releases.board_cells``), so a board member's browser
receives release periods, category codes' labels, published counts and the "hidden" mark —
never a true value, and never anything that changes before the next release. The filter form
chooses a release and the kind of period (month, quarter, year).
"""

from __future__ import annotations

import reflex as rx

from dpa_panel.db import session_scope
from dpa_panel.i18n import tr
from dpa_panel.i18n.formatting import format_datetime
from dpa_panel.services import audit, auth, statistics
from dpa_panel.services import stats_releases as releases
from dpa_panel.services.permissions import has_permission
from dpa_panel.services.statistics import BODY_TYPES
from dpa_panel.services.stats_release_data import ALL, CONSENT_PURPOSES, DIMENSION_TABLES
from dpa_panel.state.auth_state import AuthState
from dpa_panel.state.guard import (
    actor_for,
    current_identity,
    requires,
    start_download,
)

READ = "stats.read"
PREVIEW = "stats.preview"
SCOPES = ("month", "quarter", "year")
#: How many periods a series shows, per scope.
SERIES_LENGTH = {"month": 12, "quarter": 8, "year": 5}
#: Flow tables drawn as a series of periods: table -> columns (in the release's cells).
SERIES = {
    "applications": ("submitted", "approved", "rejected", "decisions"),
    "decision_time": ("median_days",),
    "memberships": ("joined", "left"),
    "withdrawals": (*CONSENT_PURPOSES, "total"),
    "requests": ("received", "answered_on_time", "answered_late"),
    "destructions": ("due", "done"),
    "disclosures": (*BODY_TYPES, "total"),
}  # fmt: skip
#: Stock tables at the end of the release's month: table -> (vocabulary of rows, columns).
STOCKS = {
    **{table: (dim, ("members",)) for dim, table in DIMENSION_TABLES.items()},
    "consents": ("consents.short", ("with_consent", "without_consent", "share_pct")),
}
CHARTS = (*SERIES, *STOCKS)
#: Shown where a release has no such column (a rare body type folded into another).
FOLDED = "—"


def _period_kind(period: str) -> str:
    if "-Q" in period:
        return "quarter"
    return "month" if "-" in period else "year"


def _row_label(locale: str, vocabulary: str, code: str) -> str:
    if vocabulary == "consents.short":
        return (tr(locale, f"consents.short_{code}") if code != "statistics"
                else tr(locale, "stats.statistics_short"))  # fmt: skip
    return tr(locale, f"{vocabulary}.{code}")


#: Row order of the stock tables: their vocabularies' order.
ROW_ORDER = {
    **{table: list(statistics.DIMENSIONS[dim]) for dim, table in DIMENSION_TABLES.items()},
    "consents": list(CONSENT_PURPOSES),
}


def release_view(cells: list[tuple], scope: str, period: str, locale: str) -> tuple[dict, dict]:
    """The page's tables (text, the hidden mark for a hidden value) and chart rows (a hidden
    value is ``None``: a gap) from stored shown cells ``(table, period, row, col, value)``."""
    hidden = tr(locale, "stats_rel.hidden_mark")
    values: dict[tuple[str, str, str, str], int | None] = {
        (t, p, r, c): v for t, p, r, c, v in cells
    }

    def text(value) -> str:
        return hidden if value is None else str(value)

    shown: dict[str, list] = {}
    plotted: dict[str, list] = {}
    for table, columns in SERIES.items():
        kept = {p for t, p, _r, _c in values if t == table and _period_kind(p) == scope}
        shown[table], plotted[table] = [], []
        for label in sorted(kept)[-SERIES_LENGTH[scope] :]:
            row_shown: dict[str, str] = {"label": label}
            row_plot: dict[str, int | float | str | None] = {"label": label}
            for col in columns:
                key = (table, label, ALL, col)
                row_shown[col] = text(values[key]) if key in values else FOLDED
                row_plot[col] = values.get(key)
            shown[table].append(row_shown)
            plotted[table].append(row_plot)
    for table, (vocabulary, columns) in STOCKS.items():
        present = {r for t, p, r, _c in values if t == table and p == period}
        shown[table], plotted[table] = [], []
        for row in [r for r in ROW_ORDER[table] if r in present]:
            label = _row_label(locale, vocabulary, row)
            row_shown = {"label": label}
            row_plot: dict[str, int | float | str | None] = {"label": label}
            for col in columns:
                if col == "share_pct":
                    with_c = values.get((table, period, row, "with_consent"))
                    without = values.get((table, period, row, "without_consent"))
                    value = (None if with_c is None or without is None or with_c + without == 0
                             else int(with_c * 100 / (with_c + without) + 0.5))  # fmt: skip
                else:
                    value = values.get((table, period, row, col))
                row_shown[col], row_plot[col] = text(value), value
            shown[table].append(row_shown)
            plotted[table].append(row_plot)
    return shown, plotted


class StatisticsState(AuthState):
    releases: list[dict[str, str]] = []
    release_id: str = ""
    scope: str = "month"
    release_period: str = ""
    published_at: str = ""
    k: int = 5
    can_preview: bool = False
    tables: dict[str, list[dict[str, str]]] = {c: [] for c in CHARTS}
    charts: dict[str, list[dict[str, int | float | str | None]]] = {c: [] for c in CHARTS}

    @rx.var
    def has_release(self) -> bool:
        return bool(self.release_period)

    def _refresh(self) -> None:
        self.can_preview = has_permission(current_identity().role, PREVIEW)
        with session_scope() as session:
            listed = releases.releases(session)
            self.releases = [{"id": str(r.id), "label": r.period} for r in listed]
            chosen = next((r for r in listed if str(r.id) == self.release_id), None)
            chosen = chosen or (listed[0] if listed else None)
            if chosen is None:
                self.release_id, self.release_period, self.published_at = "", "", ""
                self.tables = {c: [] for c in CHARTS}
                self.charts = {c: [] for c in CHARTS}
                return
            self.release_id, self.release_period, self.k = str(chosen.id), chosen.period, chosen.k
            self.published_at = format_datetime(chosen.published_at, self.locale)
            cells = releases.board_cells(session, chosen.period)
        shown, plotted = release_view(cells, self.scope, self.release_period, self.locale)
        self.tables, self.charts = shown, plotted

    @requires(READ)
    def load(self):
        self.release_id = ""
        self.scope = "month"
        self._refresh()

    @requires(READ)
    def choose_release(self, form_data: dict):
        release = str(form_data.get("release", "") or "")
        scope = str(form_data.get("scope", "") or "")
        self.release_id = release if release in {r["id"] for r in self.releases} else ""
        self.scope = scope if scope in SCOPES else "month"
        self._refresh()

    @requires(READ)
    def download(self, fmt: str):
        """The shown release, every cell (value or hidden), as JSON or CSV."""
        if not self.release_id or fmt not in ("json", "csv"):
            return None
        ident = current_identity()
        params = {"kind": f"stats_release_{fmt}", "release_id": self.release_id,
                  "language": self.locale}  # fmt: skip
        with session_scope() as session:
            audit.record(session, actor_for(self), "stats.release_downloaded", "stats_release",
                         self.release_id, {"format": fmt})  # fmt: skip
            ticket = auth.download_ticket(session, ident, params)
        return start_download(f"/api/download/{ticket}")


class StatsPreviewState(AuthState):
    """``/statistics/preview``: the next release as it would be published, and what it hides
    (compliance and admin only: it shows the true values of the hidden cells)."""

    period: str = ""
    k: int = 5
    summary: list[dict[str, str]] = []
    hidden_cells: list[dict[str, str]] = []
    message: str = ""

    @requires(PREVIEW)
    def load(self):
        from dpa_panel.services.errors import ServiceError
        from dpa_panel.services.stats_audit import AuditTimeout
        from dpa_panel.services.stats_release_data import month_label

        self.period, self.summary, self.hidden_cells, self.message = "", [], [], ""
        try:
            with session_scope() as session:
                cand = releases.preview(session)
                if cand is None:
                    self.message = tr(self.locale, "stats_rel.nothing_due")
                    return
                audit.record(session, actor_for(self), "stats.release_previewed", "stats_release",
                             month_label(cand.period), {"hidden": len(cand.hidden)})  # fmt: skip
        except AuditTimeout:
            self.message = tr(self.locale, "stats.release_audit_timeout", period="")
            return
        except ServiceError as exc:
            self.message = tr(self.locale, exc.key, **exc.params)
            return
        self.period, self.k = month_label(cand.period), cand.k
        choices = cand.choices()
        self.summary = [
            {"label": tr(self.locale, f"stats_rel.reason_{reason}"), "value": str(n)}
            for reason, n in choices["hidden"].items()
        ] + [
            {"label": tr(self.locale, "stats_rel.audit_rounds"),
             "value": str(choices["audit"]["rounds"])},
            {"label": tr(self.locale, "stats_rel.audit_seconds"),
             "value": str(choices["audit"]["seconds"])},
        ]  # fmt: skip
        values = {cell.key: cell.value for cell in cand.snap.cells}
        self.hidden_cells = [
            {
                "table": tr(self.locale, f"stats_rel.table_{key[0]}"),
                "period": key[1],
                "cell": self._cell_label(key),
                "value": str(values[key]),
                "reason": tr(self.locale, f"stats_rel.reason_{cand.reasons.get(key, 'primary')}"),
            }
            for key in sorted(cand.hidden)
        ]

    def _cell_label(self, key) -> str:
        table, _period, row, col = key
        column = tr(self.locale, f"stats_rel.col_{col}") if col not in BODY_TYPES else tr(
            self.locale, f"disclosure.body_type.{col}")  # fmt: skip
        if row == ALL:
            return column
        vocabulary = STOCKS.get(table, ("", ()))[0]
        if vocabulary == "consents.short":
            name = (tr(self.locale, f"consents.short_{row}") if row != "statistics"
                    else tr(self.locale, "stats.statistics_short"))  # fmt: skip
        else:
            name = tr(self.locale, f"{vocabulary}.{row}")
        return f"{name}: {column}"
