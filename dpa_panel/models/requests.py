"""Data-subject requests (policy clause 6) and the calendar that sets their deadlines."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy import CheckConstraint, Column, Index, Text, event
from sqlmodel import Field, SQLModel

from dpa_panel.models.subject import _in, fold_for_search
from dpa_panel.models.types import UTCDateTime, keep_derived_keys, month_key_field, utcnow
from dpa_panel.models.vocab import (
    CALENDAR_ENTRY_KINDS,
    REQUEST_CHANNELS,
    REQUEST_EVENT_KINDS,
    REQUEST_KINDS,
    REQUEST_STATUSES,
)


class Holiday(SQLModel, table=True):
    """One entry of the Kazakhstan working-day calendar (admins extend it per year).

    ``kind`` (``vocab.CALENDAR_ENTRY_KINDS``): a public ``holiday`` (a Saturday/Sunday one moves
    the day off to the next working day, computed by ``services.calendar``), a ``religious``
    day off the transfer rule leaves alone, a decreed weekday ``day_off``, or a decreed weekend
    ``working_day``. ``confirmed`` is false for a movable date (Kurban Ait) until the
    government publishes it.
    """

    __tablename__ = "holiday"
    __table_args__ = (CheckConstraint(_in("kind", CALENDAR_ENTRY_KINDS), name="ck_holiday_kind"),)

    day: date = Field(primary_key=True)
    name: str = Field(max_length=200, description="e.g. 'Наурыз мейрамы'")
    source: str = Field(default="", max_length=300, description="law or decree that sets it")
    kind: str = Field(
        default="holiday", max_length=16, sa_column_kwargs={"server_default": "holiday"}
    )
    confirmed: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})


class RequestDeadline(SQLModel, table=True):
    """How many working days the panel gives each request kind (configurable, with a source)."""

    __tablename__ = "request_deadline"

    kind: str = Field(primary_key=True, max_length=16)
    working_days: int = Field(ge=0, le=60)
    counted_from: str = Field(
        default="received", max_length=20, description="'received' or 'identity_verified'"
    )
    source: str = Field(default="", max_length=300)
    #: Whether the days a request spends paused (waiting for the requester) extend its due
    #: date. Default no: see docs/decisions.md.
    pause_stops_clock: bool = Field(
        default=False, sa_column_kwargs={"server_default": sa.false()}
    )


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
        Index("ix_request_received", "received_at", "id"),
        # The register's status views with a received-date range (counts without the rows).
        Index("ix_request_status_received", "status", "received_at"),
        Index("ix_request_assignee_status", "assignee_id", "status"),
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
    #: Set while the request waits (e.g. for the requester's identity proof); the reason and
    #: the resumption are in ``request_event``.
    paused_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    pause_reason: str = Field(default="", max_length=300, sa_column_kwargs={"server_default": ""})
    #: Search copy: reference, requester and contact in lower case (the register's search).
    search_text: str = Field(default="", max_length=700, sa_column_kwargs={"server_default": ""})


class RequestEvent(SQLModel, table=True):
    """One entry of a request's history: who did what, when (``vocab.REQUEST_EVENT_KINDS``).

    ``text`` holds what the person wrote (a pause reason, a note); ``data`` is JSON of codes
    (statuses, account ids, dates) that the page turns into words in the reader's language.
    """

    __tablename__ = "request_event"
    __table_args__ = (
        CheckConstraint(_in("kind", REQUEST_EVENT_KINDS), name="ck_request_event_kind"),
        Index("ix_request_event_request", "request_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="subject_request.id", nullable=False)
    kind: str = Field(max_length=20)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    actor_id: int | None = Field(default=None, foreign_key="staff_user.id")
    text: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    data: str = Field(default="{}", sa_column=Column(Text, nullable=False, server_default="{}"))


#: Any ORM insert or update refreshes the stored statistics key.
keep_derived_keys(SubjectRequest)


def compose_request_search_text(request) -> str:
    """``subject_request.search_text``: reference, requester and contact, folded, one a line."""
    return "\n".join(
        fold_for_search(getattr(request, name, "") or "")
        for name in ("reference", "requester", "contact")
    )


@event.listens_for(SubjectRequest, "before_insert")
@event.listens_for(SubjectRequest, "before_update")
def _keep_search_text(_mapper, _connection, target: SubjectRequest) -> None:
    target.search_text = compose_request_search_text(target)
