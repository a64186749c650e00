"""Which edition of the privacy policy is in force, and reading editions for display."""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session, select

from dpa_panel.models import PolicyVersion


def list_editions(session: Session) -> list[PolicyVersion]:
    """All editions, newest effective date first."""
    stmt = select(PolicyVersion).order_by(
        PolicyVersion.effective_date.desc(), PolicyVersion.id.desc()
    )
    return list(session.exec(stmt))


def _latest_on(on: date, *columns):
    """The edition with the latest effective date on or before ``on`` (clause 8.2): a SELECT
    of ``columns`` (the model, or some of its columns) of that one row."""
    return (
        sa_select(*columns)
        .where(PolicyVersion.effective_date <= on)
        .order_by(PolicyVersion.effective_date.desc(), PolicyVersion.id.desc())
        .limit(1)
    )


def edition_in_force(session: Session, on: date) -> PolicyVersion | None:
    """The edition with the latest effective date on or before ``on`` (clause 8.2)."""
    return session.scalars(_latest_on(on, PolicyVersion)).first()


class EditionRef(NamedTuple):
    """What a consent records of the edition in force: its id and label."""

    id: int
    label: str


_REF_IN_FORCE = _latest_on(bindparam("on"), PolicyVersion.id, PolicyVersion.label)


def edition_ref_in_force(session: Session, on: date) -> EditionRef | None:
    """``edition_in_force`` without the three policy texts (issue 19: the public form needs
    only the id and label, and the texts were most of the bytes read per submission); a
    statement built once, run through Core (the form and every submission call it)."""
    row = session.connection().execute(_REF_IN_FORCE, {"on": on}).first()
    return None if row is None else EditionRef(*row)


def edition_by_label(session: Session, label: str) -> PolicyVersion | None:
    return session.exec(select(PolicyVersion).where(PolicyVersion.label == label)).first()
