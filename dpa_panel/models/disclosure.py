"""The disclosure register (policy clause 5): official requests of state bodies (5.2) and
transfers to third parties on the subject's written consent (5.1).

The register keeps what was asked, what was picked (field names per subject, never values),
who approved, and the SHA-256 of the package that was sent. The package itself is not kept.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from dpa_panel.models.subject import _in
from dpa_panel.models.types import UTCDateTime, keep_derived_keys, month_key_field, utcnow
from dpa_panel.models.vocab import (
    DISCLOSURE_BODY_TYPES,
    DISCLOSURE_CHANNELS_IN,
    DISCLOSURE_CHANNELS_OUT,
    DISCLOSURE_EVENT_KINDS,
    DISCLOSURE_FORMATS,
    DISCLOSURE_KINDS,
    DISCLOSURE_STATUSES,
)


class Disclosure(SQLModel, table=True):
    """One request to disclose personal data, from receipt to disclosure or refusal."""

    __tablename__ = "disclosure"
    __table_args__ = (
        CheckConstraint(_in("kind", DISCLOSURE_KINDS), name="ck_disclosure_kind"),
        CheckConstraint(_in("status", DISCLOSURE_STATUSES), name="ck_disclosure_status"),
        CheckConstraint(
            _in("received_via", DISCLOSURE_CHANNELS_IN), name="ck_disclosure_received_via"
        ),
        CheckConstraint(
            "sent_via = '' OR " + _in("sent_via", DISCLOSURE_CHANNELS_OUT),
            name="ck_disclosure_sent_via",
        ),
        CheckConstraint(
            "package_format = '' OR " + _in("package_format", DISCLOSURE_FORMATS),
            name="ck_disclosure_package_format",
        ),
        # A coded type of body (the board chart); a transfer to a third party is exactly the
        # kind whose type is ``third_party``.
        CheckConstraint(
            _in("body_type", DISCLOSURE_BODY_TYPES)
            + " AND ((kind = 'third_party') = (body_type = 'third_party'))",
            name="ck_disclosure_body_type",
        ),
        # The register page: newest requests first, optionally of one status or kind.
        Index("ix_disclosure_request_date", "request_date", "id"),
        Index("ix_disclosure_status_date", "status", "request_date"),
        Index("ix_disclosure_kind_date", "kind", "request_date"),
        # The board chart "disclosures per quarter by type of body": index-only GROUP BY.
        Index("ix_stats_disclosure_disclosed", "status", "kind", "disclosed_month", "body_type"),
    )

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=24, unique=True, description="DR-<year>-<6 digits>")
    kind: str = Field(max_length=16)
    status: str = Field(default="received", max_length=16)
    body_name: str = Field(max_length=300, description="requesting body or third party")
    body_department: str = Field(default="", max_length=300)
    body_type: str = Field(
        default="other_state",
        max_length=24,
        sa_column_kwargs={"server_default": "other_state"},
        description="DISCLOSURE_BODY_TYPES code (board statistics)",
    )
    body_search: str = Field(
        default="",
        sa_column=Column(Text, nullable=False, server_default=""),
        description="fold_for_search(body_name + department), for the register filter",
    )
    request_number: str = Field(max_length=100)
    request_date: date
    received_via: str = Field(max_length=16)
    legal_basis: str = Field(sa_column=Column(Text, nullable=False))
    legal_article: str = Field(default="", max_length=200)
    answer_due_on: date
    recipient: str = Field(
        default="", max_length=300, description="third_party: who receives the data"
    )
    requested_categories: str = Field(
        default="[]", sa_column=Column(Text, nullable=False), description="JSON list of codes"
    )
    justifications: str = Field(
        default="{}",
        sa_column=Column(Text, nullable=False),
        description="JSON object category -> why it is needed (minimisation, clause 5.2)",
    )
    refusal_reason: str = Field(
        default="", sa_column=Column(Text, nullable=False, server_default="")
    )
    created_by_id: int | None = Field(default=None, foreign_key="staff_user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    decided_by_id: int | None = Field(default=None, foreign_key="staff_user.id")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    disclosed_by_id: int | None = Field(default=None, foreign_key="staff_user.id")
    disclosed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_via: str = Field(default="", max_length=16)
    package_format: str = Field(default="", max_length=8)
    package_sha256: str = Field(default="", max_length=64)
    package_rows: int = Field(default=0)
    package_fields: str = Field(
        default="[]",
        sa_column=Column(Text, nullable=False),
        description="JSON list of the field names the package contained",
    )
    operator: str | None = Field(
        default=None,
        sa_column=Column(Text, nullable=True),
        description="JSON [[label, value], ...]: the operator block (organisation profile) "
        "frozen at disclosure and printed in the package; NULL for packages sent before "
        "issue 17, which rebuild without it",
    )
    #: Stored key for the board statistics: the Almaty month of ``disclosed_at``.
    disclosed_month: int | None = month_key_field("disclosed_at")


#: Any ORM insert or update refreshes the stored statistics key.
keep_derived_keys(Disclosure)


class DisclosureSubject(SQLModel, table=True):
    """A subject concerned by a disclosure and the fields picked for them (names only)."""

    __tablename__ = "disclosure_subject"
    __table_args__ = (
        UniqueConstraint("disclosure_id", "subject_id", name="uq_disclosure_subject"),
        Index("ix_disclosure_subject_subject", "subject_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    disclosure_id: int = Field(foreign_key="disclosure.id", nullable=False)
    subject_id: int = Field(foreign_key="data_subject.id", nullable=False)
    fields: str = Field(
        default="[]", sa_column=Column(Text, nullable=False), description="JSON list"
    )
    consent_id: int | None = Field(
        default=None,
        foreign_key="consent.id",
        description="third_party: the written consent the transfer rests on (clause 5.1)",
    )


class DisclosureEvent(SQLModel, table=True):
    """One entry of a disclosure's timeline (status changes, selection edits)."""

    __tablename__ = "disclosure_event"
    __table_args__ = (
        CheckConstraint(_in("kind", DISCLOSURE_EVENT_KINDS), name="ck_disclosure_event_kind"),
        Index("ix_disclosure_event_disclosure", "disclosure_id", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    disclosure_id: int = Field(foreign_key="disclosure.id", nullable=False)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    actor_id: int | None = Field(default=None, foreign_key="staff_user.id")
    kind: str = Field(max_length=16)
    from_status: str = Field(default="", max_length=16)
    to_status: str = Field(default="", max_length=16)
    note: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
