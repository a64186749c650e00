"""Login throttling counters and two-factor login (issue 15, NIST SP 800-63B §5.2.2, RFC 6238).

``LoginThrottle`` rows count failed logins per *source address*, per *account and source*, and
per *account* (a high global ceiling), so every worker sees the same counters. Keys are stored
only as ``services.auth.token_hash`` digests: the table names neither addresses nor typed
usernames. ``user_id`` is set for rows that belong to a known account (admin "clear limits").

``TwoFactor`` holds one account's TOTP secret, encrypted (``services.two_factor``), the last
accepted time step (a code is accepted once) and when the enrolment was confirmed;
``RecoveryCode`` holds SHA-256 digests of its single-use recovery codes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from dpa_panel.models.types import UTCDateTime, utcnow


class LoginThrottle(SQLModel, table=True):
    __tablename__ = "login_throttle"
    __table_args__ = (Index("ix_login_throttle_user", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    key_hash: str = Field(max_length=64, unique=True)
    scope: str = Field(max_length=8)
    user_id: int | None = Field(default=None, foreign_key="staff_user.id")
    failures: int = Field(default=0)
    blocked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_failure_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_success_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class TwoFactor(SQLModel, table=True):
    __tablename__ = "two_factor"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="staff_user.id", unique=True, nullable=False)
    secret_enc: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_step: int | None = Field(default=None)


class RecoveryCode(SQLModel, table=True):
    __tablename__ = "recovery_code"
    __table_args__ = (Index("ix_recovery_code_user", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="staff_user.id", nullable=False)
    code_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
