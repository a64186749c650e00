"""Dates typed into and shown by the casework forms: one format, DD.MM.YYYY, in every UI
language (the Kazakh and Russian convention; English pages of a Kazakhstan panel follow it),
with the placeholder spelled in the reader's language (``date.placeholder``) and one message
for a date that does not parse (``date.bad``, which names the format).

A browser date picker shows the browser's own format (mm/dd/yyyy in an English browser), so
these forms use a text field instead. ISO ``YYYY-MM-DD`` is still accepted (pasted values,
old links).
"""

from __future__ import annotations

import re
from datetime import date, datetime

DATE_FORMAT = "%d.%m.%Y"
_DOTTED = re.compile(r"^(\d{1,2})[./](\d{1,2})[./](\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def format_entry_date(value: date | None) -> str:
    """``20.03.2026``; empty for None."""
    return value.strftime(DATE_FORMAT) if value else ""


def format_entry_datetime(value: datetime | None) -> str:
    """``20.03.2026 12:00`` in Almaty time; empty for None."""
    if value is None:
        return ""
    from dpa_panel.i18n.formatting import to_local

    return to_local(value).strftime(DATE_FORMAT + " %H:%M")


def parse_date(text: str) -> date | None:
    """A date typed as DD.MM.YYYY (or ISO); None when empty. ``ValueError`` otherwise."""
    text = str(text or "").strip()
    if not text:
        return None
    match = _DOTTED.match(text)
    if match:
        day, month, year = (int(g) for g in match.groups())
        return date(year, month, day)
    match = _ISO.match(text)
    if match:
        year, month, day = (int(g) for g in match.groups())
        return date(year, month, day)
    raise ValueError(f"not a DD.MM.YYYY date: {text!r}")
