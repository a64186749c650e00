"""The data subject: a person whose data the association holds (policy clause 2.1)."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import CheckConstraint, Column, Index, String, Text, event, text
from sqlmodel import Field, SQLModel

from dpa_panel.models.types import UTCDateTime, keep_derived_keys, month_key_field, utcnow
from dpa_panel.models.vocab import (
    EDUCATION_LEVELS,
    POSITION_LEVELS,
    SUBJECT_STATUSES,
    WORKPLACE_CATEGORIES,
)

#: The subject columns the staff search looks into ("contains", case-insensitive).
SEARCH_FIELDS = ("surname", "first_name", "patronymic", "email", "workplace")


def fold_for_search(value: str | None) -> str:
    """Case- and form-insensitive spelling used on both sides of a staff search.

    NFC + ``casefold`` (Python knows Kazakh and Russian letters; SQLite's ``LIKE``/``lower``
    only know ASCII, and PostgreSQL's depend on the server locale), and ``ё`` -> ``е``, because
    people type Фёдоров and Федоров alike.
    """
    if not value:
        return ""
    return unicodedata.normalize("NFC", value).casefold().replace("ё", "е")


def compose_search_text(values: Mapping[str, object]) -> str:
    """``data_subject.search_text`` for a subject's values (a model, a row mapping or a dict).

    One folded line per searched field; a search term never contains a newline, so a match
    cannot straddle two fields.
    """
    get = values.get if isinstance(values, Mapping) else lambda k: getattr(values, k, None)
    return "\n".join(fold_for_search(str(get(name) or "")) for name in SEARCH_FIELDS)


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
        # The privacy centre finds a person by address, case-insensitively (issue 20).
        Index("ix_subject_email_lower", text("lower(email)")),
        Index("ix_subject_status", "status"),
        # The retention countdown: a range scan in due order (services/retention.py).
        Index("ix_subject_retention_due", "retention_due_at"),
        # Board statistics (services/statistics.py, stored Almaty month keys): the category
        # table is an index-only scan in group order; "destructions due" per month, index-only.
        Index(
            "ix_stats_subject_category",
            "workplace_category",
            "position_level",
            "education_level",
            "created_month",
            "id",
        ),
        Index("ix_stats_subject_destruction_due", "destruction_due_month"),
        # Staff search ("contains" on the folded text). PostgreSQL: a trigram GIN index
        # (pg_trgm), so LIKE '%term%' is an index search. SQLite ignores the postgresql_*
        # options and builds a plain B-tree, which is still the narrowest thing to scan for a
        # match (a covering index: search_text + rowid) instead of the wide table.
        Index(
            "ix_subject_search",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
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
    search_text: str = Field(
        default="",
        sa_column=Column(Text, nullable=False, server_default=""),
        description="compose_search_text(...) of the searched fields; kept by the services",
    )
    blocked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    blocked_reason: str = Field(
        default="", sa_column=Column(Text, nullable=False, server_default="")
    )
    destruction_due_at: datetime | None = Field(
        default=None,
        sa_type=UTCDateTime,
        description="set when no lawful purpose remains; the retention sweep destroys",
    )
    #: Materialised ``services.retention.destruction_date`` (recomputed by the services
    #: whenever a relevant event happens): when the data is due for destruction, which
    #: purpose's rule decides it and the event that started its period. NULL = not due
    #: (a purpose is ongoing) or destroyed. Holds and blocks are NOT folded in (they are
    #: read live, since a hold can expire by the calendar).
    retention_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    retention_purpose: str = Field(
        default="", sa_column=Column(String(32), nullable=False, server_default="")
    )
    retention_event: str = Field(
        default="", sa_column=Column(String(24), nullable=False, server_default="")
    )
    retention_event_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    #: Stored keys for the board statistics: the Almaty months of ``created_at`` and
    #: ``destruction_due_at``.
    created_month: int | None = month_key_field("created_at")
    destruction_due_month: int | None = month_key_field("destruction_due_at")


@event.listens_for(DataSubject, "before_insert")
@event.listens_for(DataSubject, "before_update")
def _keep_search_text(_mapper, _connection, target: DataSubject) -> None:
    """Safety net: any ORM insert or update of a subject refreshes ``search_text``.

    (Bulk Core inserts — the demo seed, migrations — compute it themselves.)
    """
    target.search_text = compose_search_text(target)


#: Any ORM insert or update refreshes the stored statistics keys.
keep_derived_keys(DataSubject)
