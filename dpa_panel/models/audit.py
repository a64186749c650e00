"""Append-only, hash-chained audit events (policy clauses 4.2, 4.5)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, Index, Text, text
from sqlmodel import Field, SQLModel

from dpa_panel.models.subject import _in
from dpa_panel.models.types import UTCDateTime, utcnow
from dpa_panel.models.vocab import ACTOR_TYPES

#: Audit actions counted by the per-address rate limit of the public form
#: (``services.submission``).
RATE_LIMITED_ACTIONS = ("application.submitted", "application.duplicate_refused")
#: The rate limit's condition, one text for the partial index and the query that uses it (a
#: planner uses a partial index only when it can prove the query implies the index's
#: condition; the same literal text is proof on both engines, whatever the plan).
RATE_LIMITED_SQL = "action IN ({})".format(", ".join(f"'{a}'" for a in RATE_LIMITED_ACTIONS))


class AuditEvent(SQLModel, table=True):
    """Who did what to which entity, when and from where; ``hash`` chains to ``prev_hash``."""

    __tablename__ = "audit_event"
    __table_args__ = (
        CheckConstraint(_in("actor_type", ACTOR_TYPES), name="ck_audit_actor_type"),
        Index("ix_audit_occurred", "occurred_at"),
        Index("ix_audit_actor", "actor_id", "occurred_at"),
        Index("ix_audit_actor_type", "actor_type", "occurred_at"),
        Index("ix_audit_action", "action", "occurred_at"),
        Index("ix_audit_entity", "entity_type", "entity_id"),
        # The public form's rate limit (migration 0022, decision 19-submit-3).
        Index("ix_audit_rate_limit", "client_ip", "occurred_at",
              postgresql_where=text(RATE_LIMITED_SQL), sqlite_where=text(RATE_LIMITED_SQL)),
    )

    id: int | None = Field(default=None, primary_key=True)
    occurred_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    actor_type: str = Field(max_length=8)
    actor_id: int | None = Field(default=None)
    action: str = Field(max_length=64)
    entity_type: str = Field(default="", max_length=32)
    entity_id: str = Field(default="", max_length=64)
    client_ip: str = Field(default="", max_length=64)
    details: str = Field(default="{}", sa_column=Column(Text, nullable=False, server_default="{}"))
    # NULL only on PostgreSQL, while the event waits for the linker (services/audit.py).
    prev_hash: str | None = Field(default=None, max_length=64, nullable=True)
    # Not indexed: nothing looks an event up by hash (migration 0021, decision 19-audit-8).
    hash: str | None = Field(default=None, max_length=64, nullable=True)


class AuditChainHead(SQLModel, table=True):
    """The single row that serialises appends and remembers the newest link of the chain.

    Every append first updates this row (taking its lock on both engines), so concurrent
    writers queue up instead of forking the chain; ``last_hash`` also reveals a deleted tail.
    """

    __tablename__ = "audit_chain_head"

    id: int = Field(default=1, primary_key=True)
    last_event_id: int = Field(default=0)
    last_hash: str = Field(max_length=64)
    event_count: int = Field(default=0)
