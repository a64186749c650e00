"""Destruction acts (policy clause 4.4): listing, CSV and the signed PDF register.

Split from ``services.retention`` (issue 19); ``retention.list_acts`` etc. still work.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import UTC, date, timedelta
from typing import TextIO

from sqlalchemy import func, select
from sqlmodel import Session

from dpa_panel.models import DestructionAct
from dpa_panel.services import tabular
from dpa_panel.services.retention import MAX_PAGE_SIZE, local_midnight_utc


def _act_conditions(date_from: date | None, date_to: date | None) -> list:
    out = []
    if date_from is not None:
        out.append(DestructionAct.destroyed_at >= local_midnight_utc(date_from))
    if date_to is not None:
        out.append(DestructionAct.destroyed_at < local_midnight_utc(date_to + timedelta(days=1)))
    return out


def list_acts(
    session: Session,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    page: int = 1,
    page_size: int = 50,
) -> tuple[list[DestructionAct], int]:
    """Destruction acts, newest first, with the total (Almaty dates, inclusive)."""
    page = max(1, int(page))
    page_size = max(1, min(MAX_PAGE_SIZE, int(page_size)))
    cond = _act_conditions(date_from, date_to)
    total = session.scalar(select(func.count()).select_from(DestructionAct).where(*cond)) or 0
    rows = session.scalars(
        select(DestructionAct)
        .where(*cond)
        .order_by(DestructionAct.destroyed_at.desc(), DestructionAct.id.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    return list(rows), int(total)


def iter_acts(
    session: Session, *, date_from: date | None = None, date_to: date | None = None,
    batch: int = 2000,
) -> Iterator[DestructionAct]:  # fmt: skip
    """Every act in the range, oldest first, streamed in keyset batches."""
    cond = _act_conditions(date_from, date_to)
    last = 0
    while True:
        rows = session.scalars(
            select(DestructionAct)
            .where(*cond, DestructionAct.id > last)
            .order_by(DestructionAct.id)
            .limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].id


ACT_COLUMNS = (
    "reference", "subject_ref", "categories", "rule", "due_at", "destroyed_at", "actor_type",
    "actor_id", "batch_id", "digest",
)  # fmt: skip


def act_row(act: DestructionAct) -> list:
    """One act as a row of ``ACT_COLUMNS`` (UTC ISO times, categories joined by ``;``)."""
    return [
        act.reference,
        act.subject_ref,
        ";".join(json.loads(act.categories)),
        act.rule,
        act.due_at.astimezone(UTC).isoformat(timespec="seconds"),
        act.destroyed_at.astimezone(UTC).isoformat(timespec="seconds"),
        act.actor_type,
        "" if act.actor_id is None else act.actor_id,
        act.batch_id,
        act.digest,
    ]


def acts_csv(rows: Iterable[DestructionAct], out: TextIO, *, header: bool = True) -> int:
    """Write acts as CSV through the panel's one writer (``services.tabular``); returns the
    row count."""
    writer = tabular.CsvWriter(out, ACT_COLUMNS if header else None)
    return writer.rows(act_row(act) for act in rows)


def acts_pdf(
    acts: Iterable[DestructionAct], language: str = "kk", operator: Iterable[str] = ()
) -> bytes:
    """The acts as a PDF for the officer or auditor in ``language``, grouped by sweep run with
    a signature line per run, headed by the ``operator`` lines (issue 17); ids and digests in
    the technical-evidence appendix (``services.documents.destruction_act``, issue 18)."""
    from dpa_panel.services.documents import destruction_act

    return destruction_act.acts_pdf(acts, language, operator)
