"""Staff accounts and server-side login sessions (policy clauses 4.2, 4.5)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, Index, Text
from sqlmodel import Field, SQLModel

from dpa_panel.models.subject import _in
from dpa_panel.models.types import UTCDateTime, utcnow
from dpa_panel.models.vocab import ROLES


class StaffUser(SQLModel, table=True):
    """A person who logs in to the panel. One role per account."""

    __tablename__ = "staff_user"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="ck_staff_role"),)

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    full_name: str = Field(default="", max_length=200)
    role: str = Field(max_length=12)
    password_hash: str = Field(max_length=255)
    is_active: bool = Field(default=True)
    must_change_password: bool = Field(default=False)
    failed_attempts: int = Field(default=0)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    password_changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: Where the panel's reminders to this person go (``services.notify``); empty = none.
    email: str = Field(default="", max_length=254, sa_column_kwargs={"server_default": ""})
    #: The language the person reads the panel in; their e-mails are written in it too.
    language: str = Field(default="kk", max_length=2, sa_column_kwargs={"server_default": "kk"})


class LoginSession(SQLModel, table=True):
    """A login; only the SHA-256 of the bearer token is stored."""

    __tablename__ = "login_session"
    __table_args__ = (Index("ix_login_session_user", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="staff_user.id", nullable=False)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    client_ip: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=300)


class OneTimeTicket(SQLModel, table=True):
    """A short-lived, single-use ticket that turns a websocket action into an HTTP response.

    ``login``: exchanged at ``/api/auth/complete`` for an HttpOnly session cookie.
    ``download``: exchanged at ``/api/download/<ticket>`` for a streamed export. Only the
    SHA-256 of the ticket is stored; ``params`` is JSON (e.g. the export's filters).

    Binding (issue 15): a login ticket carries ``binding_hash``, the hash of the browser's
    ``dpa_browser`` cookie seen by the tab that logged in, and is redeemed only by a request
    carrying the same cookie; a download ticket carries ``login_session_id``, the session that
    asked, and is redeemed only by that session. A request that does not match neither
    redeems nor uses up the ticket.
    """

    __tablename__ = "one_time_ticket"
    __table_args__ = (Index("ix_ticket_expires", "expires_at"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_hash: str = Field(max_length=64, unique=True)
    purpose: str = Field(max_length=16)
    user_id: int = Field(foreign_key="staff_user.id", nullable=False)
    params: str = Field(default="{}", sa_column=Column(Text, nullable=False, server_default="{}"))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    binding_hash: str | None = Field(default=None, max_length=64)
    login_session_id: int | None = Field(default=None, foreign_key="login_session.id")
