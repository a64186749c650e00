"""retention rules, legal holds, destruction acts, materialised destruction dates

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08 00:00:00.000000

Seeds one retention rule per consent-based purpose (policy clauses 4.4 and 7.2; statistics
has none) and backfills ``data_subject.retention_*`` with ``services.retention``.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel

import dpa_panel.models.types
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UTC = dpa_panel.models.types.UTCDateTime(timezone=True)

_C44 = (
    "Privacy policy clause 4.4: kept no longer than 5 years after the purpose of collection "
    "is achieved (5 x 365 + 1 leap day = 1826 days)"
)
_C72 = (
    "Privacy policy clauses 4.4 and 7.2: kept until consent is withdrawn; after a withdrawal "
    "destroyed without delay when no other purpose still holds"
)

#: purpose, ending event, period days, source
RULE_ROWS = [
    ("application_review", "application_closed", 1826, _C44),
    ("member_register", "membership_ended", 1826, _C44),
    ("informing", "consent_withdrawn", 0, _C72),
    ("feedback", "consent_withdrawn", 0, _C72),
]


def upgrade() -> None:
    op.create_table(
        "retention_rule",
        sa.Column("purpose_code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("ending_event", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("period_days", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), server_default="", nullable=False),
        sa.Column("updated_at", _UTC, nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "ending_event IN ('application_closed', 'membership_ended', 'consent_withdrawn')",
            name="ck_retention_ending_event",
        ),
        sa.CheckConstraint("period_days >= 0 AND period_days <= 3650", name="ck_retention_period"),
        sa.ForeignKeyConstraint(["purpose_code"], ["purpose.code"]),
        sa.ForeignKeyConstraint(["updated_by_id"], ["staff_user.id"]),
        sa.PrimaryKeyConstraint("purpose_code"),
    )
    op.create_table(
        "legal_hold",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("placed_at", _UTC, nullable=False),
        sa.Column("placed_by_id", sa.Integer(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("lifted_at", _UTC, nullable=True),
        sa.Column("lifted_by_id", sa.Integer(), nullable=True),
        sa.Column("lift_reason", sa.Text(), server_default="", nullable=False),
        sa.Column("source_ref", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.ForeignKeyConstraint(["subject_id"], ["data_subject.id"]),
        sa.ForeignKeyConstraint(["placed_by_id"], ["staff_user.id"]),
        sa.ForeignKeyConstraint(["lifted_by_id"], ["staff_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("legal_hold", schema=None) as batch_op:
        batch_op.create_index("ix_legal_hold_subject", ["subject_id", "lifted_at"], unique=False)

    op.create_table(
        "destruction_act",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("subject_ref", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("categories", sa.Text(), nullable=False),
        sa.Column("rule", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("due_at", _UTC, nullable=False),
        sa.Column("destroyed_at", _UTC, nullable=False),
        sa.Column("actor_type", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("batch_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["staff_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reference"),
    )
    with op.batch_alter_table("destruction_act", schema=None) as batch_op:
        batch_op.create_index("ix_destruction_act_destroyed", ["destroyed_at"], unique=False)
        batch_op.create_index("ix_destruction_act_subject", ["subject_ref"], unique=False)

    with op.batch_alter_table("data_subject", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retention_due_at", _UTC, nullable=True))
        batch_op.add_column(
            sa.Column("retention_purpose", sa.String(length=32), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("retention_event", sa.String(length=24), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("retention_event_at", _UTC, nullable=True))
        batch_op.create_index("ix_subject_retention_due", ["retention_due_at"], unique=False)

    rule = sa.table(
        "retention_rule",
        sa.column("purpose_code", sa.String),
        sa.column("ending_event", sa.String),
        sa.column("period_days", sa.Integer),
        sa.column("source", sa.Text),
        sa.column("updated_at", _UTC),
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        rule,
        [
            {"purpose_code": p, "ending_event": e, "period_days": d, "source": s, "updated_at": now}
            for p, e, d, s in RULE_ROWS
        ],
    )
    _backfill()


def _backfill() -> None:
    """Compute every existing subject's destruction date (the same code the services use)."""
    from sqlmodel import Session

    from dpa_panel.services import retention

    with Session(bind=op.get_bind()) as session:
        retention.recompute_all(session)
        session.flush()


def downgrade() -> None:
    with op.batch_alter_table("data_subject", schema=None) as batch_op:
        batch_op.drop_index("ix_subject_retention_due")
        batch_op.drop_column("retention_event_at")
        batch_op.drop_column("retention_event")
        batch_op.drop_column("retention_purpose")
        batch_op.drop_column("retention_due_at")
    with op.batch_alter_table("destruction_act", schema=None) as batch_op:
        batch_op.drop_index("ix_destruction_act_subject")
        batch_op.drop_index("ix_destruction_act_destroyed")
    op.drop_table("destruction_act")
    with op.batch_alter_table("legal_hold", schema=None) as batch_op:
        batch_op.drop_index("ix_legal_hold_subject")
    op.drop_table("legal_hold")
    op.drop_table("retention_rule")
