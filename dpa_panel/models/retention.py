"""Retention rules, legal holds and destruction acts (policy clauses 4.4 and 7.2)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Column, Index, Text
from sqlmodel import Field, SQLModel

from dpa_panel.models.subject import _in
from dpa_panel.models.types import UTCDateTime, keep_derived_keys, month_key_field, utcnow

#: What ends a purpose, i.e. starts its retention period.
ENDING_EVENTS = ("application_closed", "membership_ended", "consent_withdrawn")


class RetentionRule(SQLModel, table=True):
    """How long a consent-based purpose keeps a subject's data after its ending event.

    Statistics has no rule: it only ever reads anonymised remnants and never extends retention.
    """

    __tablename__ = "retention_rule"
    __table_args__ = (
        CheckConstraint(_in("ending_event", ENDING_EVENTS), name="ck_retention_ending_event"),
        CheckConstraint("period_days >= 0 AND period_days <= 3650", name="ck_retention_period"),
    )

    purpose_code: str = Field(foreign_key="purpose.code", primary_key=True, max_length=32)
    ending_event: str = Field(max_length=24)
    period_days: int
    source: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_by_id: int | None = Field(default=None, foreign_key="staff_user.id")


class LegalHold(SQLModel, table=True):
    """A legal obligation to keep a subject's data: the sweep never destroys while it holds.

    In force while ``lifted_at`` is empty and ``ends_on`` is empty or not yet past (the hold
    covers the whole of ``ends_on``, Asia/Almaty).
    """

    __tablename__ = "legal_hold"
    __table_args__ = (Index("ix_legal_hold_subject", "subject_id", "lifted_at"),)

    id: int | None = Field(default=None, primary_key=True)
    subject_id: int = Field(foreign_key="data_subject.id", nullable=False)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    placed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    placed_by_id: int | None = Field(default=None, foreign_key="staff_user.id")
    ends_on: date | None = None
    lifted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    lifted_by_id: int | None = Field(default=None, foreign_key="staff_user.id")
    lift_reason: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    source_ref: str = Field(default="", max_length=60, description="e.g. 'disclosure:12'")


class DestructionAct(SQLModel, table=True):
    """The record that a subject's personal data was destroyed (no personal values in it)."""

    __tablename__ = "destruction_act"
    __table_args__ = (
        Index("ix_destruction_act_destroyed", "destroyed_at"),
        # Board statistics: destructions per month (stored month key).
        Index("ix_stats_destruction_act_month", "destroyed_month"),
        Index("ix_destruction_act_subject", "subject_ref"),
    )

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=24, unique=True, description="D-<year>-<6 digits>")
    subject_ref: str = Field(max_length=24, description="the subject id as text")
    categories: str = Field(sa_column=Column(Text, nullable=False), description="JSON list")
    rule: str = Field(max_length=80, description="<purpose>:<ending event>")
    due_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    destroyed_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    actor_type: str = Field(max_length=12)
    actor_id: int | None = Field(default=None, foreign_key="staff_user.id")
    digest: str = Field(max_length=64, description="SHA-256 of the act's canonical JSON")
    batch_id: str = Field(default="", max_length=40, description="the sweep run")
    #: Stored key for the board statistics: the Almaty month of ``destroyed_at``.
    destroyed_month: int | None = month_key_field("destroyed_at")


#: Any ORM insert or update refreshes the stored statistics key.
keep_derived_keys(DestructionAct)
