"""Paging and filter-form parsing shared by the list pages (pipeline, register, consents,
retention, audit, disclosures).

The arithmetic and the "N in all · page x of y" line live here once; each state keeps its own
``next_page``/``previous_page`` handlers because each needs its own ``@requires`` permission.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date

from dpa_panel.i18n import tr
from dpa_panel.i18n.formatting import format_number

PAGE_SIZE = 50


def page_count(total: int, page_size: int = PAGE_SIZE) -> int:
    """At least one page, even when nothing matches."""
    return max(1, -(-total // page_size))


def page_summary(locale: str, total: int, page: int, key: str = "pipeline.summary") -> str:
    return tr(
        locale,
        key,
        total=format_number(total, locale),
        page=page,
        pages=page_count(total),
    )


def capped_summary(locale: str, total: int, page: int) -> str:
    """The summary of a count that stopped at ``total`` ("more than ``total - 1``"): no page
    count, because the last page is not known; ``page_count(total)`` still opens the next."""
    return tr(locale, "search.summary_more", total=format_number(total - 1, locale), page=page)


def turn_page(state, step: int, reload: Callable[[], None]) -> None:
    """Move ``state.page`` by ``step`` within 1..page_count and reload, or do nothing."""
    target = state.page + step
    if 1 <= target <= page_count(state.total):
        state.page = target
        reload()


def form_filters(form_data: dict, keys: Iterable[str], limit: int = 100) -> dict[str, str]:
    """A filter form's non-empty values for ``keys``, trimmed and cut to ``limit`` characters
    (what a list state keeps in ``filters``)."""
    return {
        key: value for key in keys if (value := str(form_data.get(key, "") or "").strip()[:limit])
    }


def optional_date(value: object) -> date | None:
    """An ISO date from a filter field; empty means no bound. Raises ``ValueError``."""
    text = str(value or "").strip()
    return date.fromisoformat(text) if text else None


def date_range_error(filters: dict[str, str]) -> str:
    """The catalog key of what is wrong with ``date_from``/``date_to``, or ``""``."""
    try:
        start, end = optional_date(filters.get("date_from")), optional_date(filters.get("date_to"))
    except ValueError:
        return "audit.bad_date"
    if start and end and start > end:
        return "audit.bad_range"
    return ""
