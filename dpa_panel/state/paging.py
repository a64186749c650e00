"""Paging shared by the list pages (pipeline, register, consents, retention, audit).

The arithmetic and the "N in all · page x of y" line live here once; each state keeps its own
``next_page``/``previous_page`` handlers because each needs its own ``@requires`` permission.
"""

from __future__ import annotations

from collections.abc import Callable

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


def turn_page(state, step: int, reload: Callable[[], None]) -> None:
    """Move ``state.page`` by ``step`` within 1..page_count and reload, or do nothing."""
    target = state.page + step
    if 1 <= target <= page_count(state.total):
        state.page = target
        reload()
