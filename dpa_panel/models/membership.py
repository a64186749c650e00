"""Membership applications and the member register (policy clause 3, first two purposes)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Column, Index, Text
from sqlmodel import Field, SQLModel

from dpa_panel.models.subject import _in
from dpa_panel.models.types import (
    UTCDateTime,
    keep_derived_keys,
    month_key_field,
    utcnow,
    whole_days,
)
from dpa_panel.models.vocab import (
    APPLICATION_EVENT_KINDS,
    APPLICATION_STATUSES,
    MEMBER_STATUSES,
)


class MembershipApplication(SQLModel, table=True):
    """A membership application. ``closed_at``: when its purpose ended (rejected, withdrawn)."""

    __tablename__ = "membership_application"
    __table_args__ = (
        CheckConstraint(_in("status", APPLICATION_STATUSES), name="ck_application_status"),
        # subject_id rides along so that lists can check "subject is active" from the index.
        Index("ix_application_status_submitted", "status", "submitted_at", "subject_id"),
        Index("ix_application_submitted", "submitted_at", "subject_id"),
        # Searches start from the matching subjects: status and date come with the lookup.
        Index("ix_application_subject", "subject_id", "status", "submitted_at"),
        Index("ix_application_assignee", "assignee_id"),
        # Board statistics (stored Almaty month keys): applications per month and outcome,
        # decisions per month with their duration, each an index-only GROUP BY.
        Index("ix_stats_application_submitted", "submitted_month", "status"),
        Index("ix_stats_application_decided", "decided_month", "decision_days", "decision"),
    )

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=24, unique=True, description="quoted by the applicant")
    subject_id: int = Field(foreign_key="data_subject.id", nullable=False)
    submitted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    status: str = Field(default="submitted", max_length=16)
    assignee_id: int | None = Field(default=None, foreign_key="staff_user.id")
    decision: str | None = Field(default=None, max_length=16)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    language: str = Field(default="kk", max_length=2)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    #: Stored keys for the board statistics (``almaty_month``/``whole_days`` of the timestamps).
    submitted_month: int | None = month_key_field("submitted_at")
    decided_month: int | None = month_key_field("decided_at")
    decision_days: int | None = month_key_field(
        "submitted_at", fn=whole_days, extra=("decided_at",)
    )


#: Any ORM insert or update refreshes the stored statistics keys.
keep_derived_keys(MembershipApplication)


class Member(SQLModel, table=True):
    """A register entry; ``ended_at`` is when the member-register purpose was achieved."""

    __tablename__ = "member"
    __table_args__ = (
        CheckConstraint(_in("status", MEMBER_STATUSES), name="ck_member_status"),
        Index("ix_member_status", "status"),
        # Board statistics: members in force per category (covering the subject join) and
        # new/ended memberships per month (stored month keys, index-only).
        Index("ix_stats_member_subject", "subject_id", "since_month", "ended_month"),
        Index("ix_stats_member_since", "since_month"),
        Index("ix_stats_member_ended", "ended_month"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subject_id: int = Field(foreign_key="data_subject.id", unique=True, nullable=False)
    application_id: int | None = Field(default=None, foreign_key="membership_application.id")
    membership_number: str = Field(max_length=20, unique=True)
    since: date
    status: str = Field(default="active", max_length=12)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: Why the latest suspension/reinstatement/end happened (free text: personal data).
    status_reason: str = Field(
        default="", sa_column=Column(Text, nullable=False, server_default="")
    )
    status_changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: Stored keys for the board statistics: the month of ``since`` (a date) and the Almaty
    #: month of ``ended_at``.
    since_month: int | None = month_key_field("since")
    ended_month: int | None = month_key_field("ended_at")


keep_derived_keys(Member)


class ApplicationEvent(SQLModel, table=True):
    """One entry of an application's timeline: submitted, status change, assignment, note, edit.

    ``text`` is the reason of a status change, the question asked, the note itself, the
    assignee's username or the names of edited fields. Notes and reasons are free text about a
    person, i.e. personal data: they are destroyed with the application.
    """

    __tablename__ = "application_event"
    __table_args__ = (
        CheckConstraint(_in("kind", APPLICATION_EVENT_KINDS), name="ck_application_event_kind"),
        Index("ix_application_event_application", "application_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="membership_application.id", nullable=False)
    occurred_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    actor_id: int | None = Field(default=None, foreign_key="staff_user.id")
    kind: str = Field(max_length=16)
    from_status: str | None = Field(default=None, max_length=16)
    to_status: str | None = Field(default=None, max_length=16)
    text: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
