"""The data subject: a person whose data the association holds (policy clause 2.1)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, Index, Text
from sqlmodel import Field, SQLModel

from dpa_panel.models.types import UTCDateTime, utcnow
from dpa_panel.models.vocab import (
    EDUCATION_LEVELS,
    POSITION_LEVELS,
    SUBJECT_STATUSES,
    WORKPLACE_CATEGORIES,
)


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


class DataSubject(SQLModel, table=True):
    """Clause 2.1 categories; coded ``*_level``/``*_category`` columns feed statistics."""

    __tablename__ = "data_subject"
    __table_args__ = (
        CheckConstraint(_in("status", SUBJECT_STATUSES), name="ck_subject_status"),
        CheckConstraint(_in("education_level", EDUCATION_LEVELS), name="ck_subject_education"),
        CheckConstraint(
            _in("workplace_category", WORKPLACE_CATEGORIES), name="ck_subject_workplace_cat"
        ),
        CheckConstraint(_in("position_level", POSITION_LEVELS), name="ck_subject_position_lvl"),
        Index("ix_subject_surname", "surname"),
        Index("ix_subject_email", "email"),
        Index("ix_subject_status", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    surname: str = Field(max_length=100)
    first_name: str = Field(max_length=100)
    patronymic: str | None = Field(default=None, max_length=100)
    phone: str = Field(max_length=16, description="E.164, e.g. +77011234567")
    email: str = Field(max_length=254)
    workplace: str = Field(max_length=200)
    workplace_category: str = Field(default="other", max_length=20)
    position: str = Field(max_length=200)
    position_level: str = Field(default="other", max_length=20)
    education_level: str = Field(default="other", max_length=20)
    education: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    experience_years: int | None = Field(default=None, ge=0, le=80)
    experience: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    other_info: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    language: str = Field(default="kk", max_length=2, description="language the subject uses")
    status: str = Field(default="active", max_length=12)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
