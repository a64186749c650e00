"""Outgoing e-mail waiting to be delivered (``services.outbox``): nothing is lost while the
mail server is down; each message is retried with back-off until it is sent or given up."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, Index, Text
from sqlmodel import Field, SQLModel

from dpa_panel.models.subject import _in
from dpa_panel.models.types import UTCDateTime, utcnow
from dpa_panel.models.vocab import OUTBOX_STATUSES


class OutboxMessage(SQLModel, table=True):
    """One e-mail. ``dedupe_key`` (unique) makes a producer idempotent: the same reminder is
    queued once however often ``dpa-panel notify`` runs."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        CheckConstraint(_in("status", OUTBOX_STATUSES), name="ck_outbox_status"),
        Index("ix_outbox_due", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    #: What produced it (e.g. ``request_reminder``), shown on the settings page.
    purpose: str = Field(max_length=32)
    dedupe_key: str | None = Field(default=None, max_length=200, unique=True)
    recipient: str = Field(max_length=300)
    recipient_user_id: int | None = Field(default=None, foreign_key="staff_user.id")
    subject: str = Field(max_length=300)
    body: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    status: str = Field(default="pending", max_length=8)
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    last_error: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
