"""Streamed downloads: what each download ticket kind produces and who may fetch it.

A guarded event handler issues a single-use ticket (``services.auth.issue_ticket``) with the
export's parameters and writes the audit event; the browser then fetches
``/api/download/<ticket>`` (see ``dpa_panel.api``), which re-checks the session and the
permission and streams the file in batches, so a large export never sits in memory whole.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from dpa_panel.db import session_scope
from dpa_panel.models import StaffUser
from dpa_panel.services import audit


@dataclass(frozen=True)
class Export:
    permission: str
    media_type: str
    filename: Callable[[dict], str]
    stream: Callable[[dict], Iterator[bytes]]


def audit_filter_from_params(params: dict) -> audit.AuditFilter:
    def _date(value):
        return date.fromisoformat(value) if value else None

    actor_id = params.get("actor_id")
    return audit.AuditFilter(
        actor_id=int(actor_id) if actor_id not in (None, "") else None,
        actor_type=params.get("actor_type", ""),
        action=params.get("action", ""),
        entity_type=params.get("entity_type", ""),
        entity_id=params.get("entity_id", ""),
        date_from=_date(params.get("date_from")),
        date_to=_date(params.get("date_to")),
    )


def _stream_audit_csv(params: dict) -> Iterator[bytes]:
    flt = audit_filter_from_params(params)
    yield "\ufeff".encode()  # BOM: spreadsheet programs then read the Cyrillic correctly
    with session_scope() as session:
        usernames = dict(session.execute(select(StaffUser.id, StaffUser.username)).all())
        buffer = io.StringIO()
        batch = []
        header = True
        for event in audit.iter_events(session, flt):
            batch.append(event)
            if len(batch) >= 2000:
                audit.write_csv(batch, buffer, usernames, header=header)
                header = False
                yield buffer.getvalue().encode("utf-8")
                buffer.seek(0)
                buffer.truncate()
                batch = []
        if batch or header:
            audit.write_csv(batch, buffer, usernames, header=header)
            yield buffer.getvalue().encode("utf-8")


EXPORTS: dict[str, Export] = {
    "audit_csv": Export(
        permission="audit.export",
        media_type="text/csv; charset=utf-8",
        filename=lambda params: f"audit-{date.today().isoformat()}.csv",
        stream=_stream_audit_csv,
    ),
}
