"""The data subject's own side (issue 20): one-time e-mail codes, subject sessions and
access packages released by the officer.

None of these tables stores an e-mail address, a code or a session token: addresses, codes
and tokens are kept as ``services.auth.token_hash`` digests (HMAC with ``DPA_SECRET_KEY``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from dpa_panel.models.types import UTCDateTime, utcnow


class SubjectCode(SQLModel, table=True):
    """A 6-digit code sent to an address typed on /my (``services.subject_access``).

    A row is written for every accepted request, known address or not (``subject_id`` NULL
    for an unknown one: nothing is mailed and no code can open it), so the work done and the
    reply do not tell whether an address is known.
    """

    __tablename__ = "subject_code"
    __table_args__ = (
        Index("ix_subject_code_email", "email_hash", "created_at"),
        # the sweep deletes a destroyed subject's codes by subject (migration 0017)
        Index("ix_subject_code_subject", "subject_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    email_hash: str = Field(max_length=64)
    subject_id: int | None = Field(default=None, foreign_key="data_subject.id")
    code_hash: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    attempts: int = Field(default=0)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SubjectSession(SQLModel, table=True):
    """A data subject's own short session (never a staff session).

    Created by a valid code with a 60-second ``ticket_hash`` bound to the browser (its
    ``dpa_browser`` cookie); ``POST /api/my/complete`` exchanges the ticket for the
    ``dpa_subject`` cookie whose digest is ``token_hash``. 15 minutes idle end it.
    """

    __tablename__ = "subject_session"

    id: int | None = Field(default=None, primary_key=True)
    subject_id: int = Field(foreign_key="data_subject.id", nullable=False, index=True)
    ticket_hash: str | None = Field(default=None, max_length=64, unique=True)
    ticket_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    browser_hash: str = Field(default="", max_length=64)
    token_hash: str | None = Field(default=None, max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AccessPackage(SQLModel, table=True):
    """The subject report of one online access request, reviewed by the officer before the
    person may download it (7 days after release). ``report`` is the JSON snapshot the officer
    previewed: the person gets exactly what was reviewed."""

    __tablename__ = "access_package"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="subject_request.id", nullable=False, unique=True)
    subject_id: int = Field(foreign_key="data_subject.id", nullable=False, index=True)
    report: str = Field(sa_column=Column(Text, nullable=False))
    prepared_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    released_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    released_by_id: int | None = Field(default=None, foreign_key="staff_user.id")
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    downloads: int = Field(default=0)
