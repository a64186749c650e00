"""Purposes, policy versions and the consent ledger (policy clauses 2.2, 3, 7, 8)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Column, Index, String, Text
from sqlmodel import Field, SQLModel

from dpa_panel.models.subject import _in
from dpa_panel.models.types import UTCDateTime, keep_derived_keys, month_key_field, utcnow
from dpa_panel.models.vocab import CONSENT_CHANNELS, CONSENT_WITHDRAWAL_CHANNELS


class Purpose(SQLModel, table=True):
    """A purpose of processing; rows are seeded by the first migration (clause 3)."""

    __tablename__ = "purpose"

    code: str = Field(primary_key=True, max_length=32)
    sort_order: int
    identifiable: bool = Field(description="False for statistics: anonymised data only")
    asked_on_form: bool = Field(description="whether the public form asks for this consent")
    required_on_form: bool = Field(default=False)


class PolicyVersion(SQLModel, table=True):
    """An edition of the privacy policy; Kazakh is authoritative, ``sha256`` is of its text."""

    __tablename__ = "policy_version"

    id: int | None = Field(default=None, primary_key=True)
    label: str = Field(max_length=20, unique=True)
    effective_date: date
    text_kk: str = Field(sa_column=Column(Text, nullable=False))
    text_ru: str = Field(sa_column=Column(Text, nullable=False))
    text_en: str = Field(sa_column=Column(Text, nullable=False))
    sha256: str = Field(max_length=64, description="SHA-256 of text_kk (authoritative)")
    sha256_ru: str = Field(max_length=64)
    sha256_en: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class Consent(SQLModel, table=True):
    """One consent for one subject and purpose, with the evidence of how it was given.

    Append-only: a withdrawal fills the ``withdrawn_*`` fields once and never clears them; a
    renewed consent is a new row.
    """

    __tablename__ = "consent"
    __table_args__ = (
        CheckConstraint(_in("channel", CONSENT_CHANNELS), name="ck_consent_channel"),
        CheckConstraint(
            "withdrawal_channel IS NULL OR "
            + _in("withdrawal_channel", CONSENT_WITHDRAWAL_CHANNELS),
            name="ck_consent_withdrawal_channel",
        ),
        Index("ix_consent_subject_purpose", "subject_id", "purpose_code"),
        Index("ix_consent_purpose_withdrawn", "purpose_code", "withdrawn_at"),
        # Board statistics: subjects with a consent in force per purpose, index-only.
        Index(
            "ix_stats_consent_stock",
            "purpose_code",
            "subject_id",
            "granted_month",
            "withdrawn_month",
        ),
        # Board statistics: withdrawals per month and purpose (stored month key), index-only.
        Index("ix_stats_consent_withdrawn", "withdrawn_month", "purpose_code"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subject_id: int = Field(foreign_key="data_subject.id", nullable=False)
    purpose_code: str = Field(foreign_key="purpose.code", max_length=32)
    granted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    policy_version_id: int = Field(foreign_key="policy_version.id", nullable=False)
    channel: str = Field(max_length=12)
    language: str = Field(max_length=2)
    consent_text: str = Field(sa_column=Column(Text, nullable=False))
    consent_text_sha256: str = Field(max_length=64)
    evidence_ref: str = Field(default="", max_length=200)
    evidence_received_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    evidence_text: str = Field(
        default="", sa_column=Column(Text, nullable=False, server_default="")
    )
    recorded_by_id: int | None = Field(default=None, foreign_key="staff_user.id")
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    withdrawal_channel: str | None = Field(default=None, max_length=12)
    withdrawal_evidence: str = Field(
        default="", sa_column=Column(Text, nullable=False, server_default="")
    )
    withdrawal_recorded_by_id: int | None = Field(default=None, foreign_key="staff_user.id")
    withdrawal_retained_ground: str = Field(
        default="",
        sa_column=Column(Text, nullable=False, server_default=""),
        description="law or obligation that keeps the data despite the withdrawal (Art. 8)",
    )
    recipient: str = Field(
        default="",
        sa_column=Column(String(300), nullable=False, server_default=""),
        description="purpose 'transfer' (clause 5.1): the third party the subject agreed to",
    )
    #: Stored keys for the board statistics: the Almaty months of ``granted_at`` and
    #: ``withdrawn_at``.
    granted_month: int | None = month_key_field("granted_at")
    withdrawn_month: int | None = month_key_field("withdrawn_at")


#: Any ORM insert or update refreshes the stored statistics keys.
keep_derived_keys(Consent)
