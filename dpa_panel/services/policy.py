"""Which edition of the privacy policy is in force, and reading editions for display."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from dpa_panel.models import PolicyVersion


def list_editions(session: Session) -> list[PolicyVersion]:
    """All editions, newest effective date first."""
    stmt = select(PolicyVersion).order_by(
        PolicyVersion.effective_date.desc(), PolicyVersion.id.desc()
    )
    return list(session.exec(stmt))


def edition_in_force(session: Session, on: date) -> PolicyVersion | None:
    """The edition with the latest effective date on or before ``on`` (clause 8.2)."""
    stmt = (
        select(PolicyVersion)
        .where(PolicyVersion.effective_date <= on)
        .order_by(PolicyVersion.effective_date.desc(), PolicyVersion.id.desc())
        .limit(1)
    )
    return session.exec(stmt).first()


def edition_by_label(session: Session, label: str) -> PolicyVersion | None:
    return session.exec(select(PolicyVersion).where(PolicyVersion.label == label)).first()
