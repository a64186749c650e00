"""Data-subject requests (policy clause 6) and the calendar that sets their deadlines."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Column, Index, Text
from sqlmodel import Field, SQLModel

from dpa_panel.models.subject import _in
from dpa_panel.models.types import UTCDateTime, keep_derived_keys, month_key_field, utcnow
from dpa_panel.models.vocab import REQUEST_CHANNELS, REQUEST_KINDS, REQUEST_STATUSES


class Holiday(SQLModel, table=True):
    """A non-working day in Kazakhstan besides Saturdays and Sundays (admins extend per year)."""

    __tablename__ = "holiday"

    day: date = Field(primary_key=True)
    name: str = Field(max_length=200, description="e.g. 'Наурыз мейрамы'")
    source: str = Field(default="", max_length=300, description="law or decree that sets it")


class RequestDeadline(SQLModel, table=True):
    """How many working days the panel gives each request kind (configurable, with a source)."""

    __tablename__ = "request_deadline"

    kind: str = Field(primary_key=True, max_length=16)
    working_days: int = Field(ge=0, le=60)
    counted_from: str = Field(
        default="received", max_length=20, description="'received' or 'identity_verified'"
    )
    source: str = Field(default="", max_length=300)


class SubjectRequest(SQLModel, table=True):
    """One request from a data subject: access, rectification, blocking, destruction,
    consent withdrawal, or a complaint/other."""

    __tablename__ = "subject_request"
    __table_args__ = (
        CheckConstraint(_in("kind", REQUEST_KINDS), name="ck_request_kind"),
        CheckConstraint(_in("status", REQUEST_STATUSES), name="ck_request_status"),
        CheckConstraint(_in("channel", REQUEST_CHANNELS), name="ck_request_channel"),
        Index("ix_request_status_due", "status", "due_date"),
        Index("ix_request_subject", "subject_id"),
        # Board statistics: requests per month received (stored month key).
        Index("ix_stats_request_received", "received_month", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=24, unique=True)
    kind: str = Field(max_length=16)
    subject_id: int | None = Field(default=None, foreign_key="data_subject.id")
    requester: str = Field(default="", max_length=300, description="as the request names them")
    contact: str = Field(default="", max_length=300)
    received_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    channel: str = Field(max_length=12)
    purpose_code: str | None = Field(default=None, foreign_key="purpose.code", max_length=32)
    identity_verified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    identity_verified_by_id: int | None = Field(default=None, foreign_key="staff_user.id")
    identity_method: str = Field(default="", max_length=300)
    due_date: date
    status: str = Field(default="received", max_length=16)
    assignee_id: int | None = Field(default=None, foreign_key="staff_user.id")
    details: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    notes: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    answer: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    refusal_reason: str = Field(
        default="", sa_column=Column(Text, nullable=False, server_default="")
    )
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_by_id: int | None = Field(default=None, foreign_key="staff_user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    #: Stored key for the board statistics: the Almaty month of ``received_at``.
    received_month: int | None = month_key_field("received_at")


#: Any ORM insert or update refreshes the stored statistics key.
keep_derived_keys(SubjectRequest)
