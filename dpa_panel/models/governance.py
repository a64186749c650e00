"""Governance records of issue 17: the organisation's profile (who the operator is, where
people write to, who is responsible) and the personal-data breach register."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from dpa_panel.models.subject import _in
from dpa_panel.models.types import UTCDateTime, utcnow
from dpa_panel.models.vocab import (
    BREACH_AUTHORITY_CHANNELS,
    BREACH_STATUSES,
    BREACH_SUBJECT_CHANNELS,
)


def _text(**kw) -> Column:
    return Column(Text, nullable=False, server_default="", **kw)


class OrganisationProfile(SQLModel, table=True):
    """The one row (``id = 1``) describing the operator: shown on ``/privacy``, ``/apply``,
    in the footer and in every generated document; it fills policy placeholders."""

    __tablename__ = "organisation_profile"
    __table_args__ = (CheckConstraint("id = 1", name="ck_organisation_profile_single"),)

    id: int = Field(default=1, primary_key=True)
    name_kk: str = Field(default="", max_length=300)
    name_ru: str = Field(default="", max_length=300)
    name_en: str = Field(default="", max_length=300)
    bin: str = Field(default="", max_length=12, description="business identification number")
    address: str = Field(default="", max_length=500)
    #: Where data-protection requests and withdrawals go (policy clause 7.1).
    dp_email: str = Field(default="", max_length=254)
    #: The person responsible for organising processing (an account) and how to reach them.
    responsible_user_id: int | None = Field(default=None, foreign_key="staff_user.id")
    responsible_contact: str = Field(default="", max_length=300)
    authority_name: str = Field(default="", max_length=300)
    authority_contact: str = Field(default="", max_length=500)
    updated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_by_id: int | None = Field(default=None, foreign_key="staff_user.id")


class Breach(SQLModel, table=True):
    """One personal-data breach (incident) and its notification to the authorised body."""

    __tablename__ = "breach"
    __table_args__ = (
        CheckConstraint(_in("status", BREACH_STATUSES), name="ck_breach_status"),
        CheckConstraint(
            "authority_channel = '' OR " + _in("authority_channel", BREACH_AUTHORITY_CHANNELS),
            name="ck_breach_authority_channel",
        ),
        Index("ix_breach_status_due", "status", "due_date"),
    )

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=20, unique=True)
    detected_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    detected_by: str = Field(max_length=200)
    description: str = Field(sa_column=_text())
    data_categories: str = Field(default="", max_length=500)
    #: Estimated number of affected people when they are not (all) known by name.
    subjects_estimate: int | None = Field(default=None)
    systems: str = Field(default="", max_length=500)
    cause: str = Field(default="", sa_column=_text())
    containment: str = Field(default="", sa_column=_text())
    risk_assessment: str = Field(default="", sa_column=_text())
    #: The last day (Almaty) to notify the authorised body.
    due_date: date
    status: str = Field(default="open", max_length=8)
    authority_notified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    authority_channel: str = Field(default="", max_length=16)
    authority_reference: str = Field(default="", max_length=200)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    lessons_learned: str = Field(default="", sa_column=_text())
    created_by_id: int | None = Field(default=None, foreign_key="staff_user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class BreachSubject(SQLModel, table=True):
    """A data subject the breach touched, and when and how they were told."""

    __tablename__ = "breach_subject"
    __table_args__ = (
        UniqueConstraint("breach_id", "subject_id", name="uq_breach_subject"),
        CheckConstraint(
            "notified_channel = '' OR " + _in("notified_channel", BREACH_SUBJECT_CHANNELS),
            name="ck_breach_subject_channel",
        ),
        Index("ix_breach_subject_subject", "subject_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    breach_id: int = Field(foreign_key="breach.id", nullable=False)
    subject_id: int = Field(foreign_key="data_subject.id", nullable=False)
    added_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    notified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    notified_channel: str = Field(default="", max_length=8)
    notified_by_id: int | None = Field(default=None, foreign_key="staff_user.id")


class DataInventory(SQLModel, table=True):
    """An approved edition of the list of personal data and the processing register (issue 17):
    the content generated from the schema and settings, its SHA-256, and who approved it
    (the person responsible for organising processing) and when."""

    __tablename__ = "data_inventory"

    id: int | None = Field(default=None, primary_key=True)
    version: int = Field(unique=True)
    content: str = Field(sa_column=Column(Text, nullable=False))
    sha256: str = Field(max_length=64)
    approved_by_id: int = Field(foreign_key="staff_user.id", nullable=False)
    approved_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
