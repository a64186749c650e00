"""disclosure register: authority requests and third-party transfers

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-15 00:00:00.000000

Policy clause 5: ``disclosure`` (the register), ``disclosure_subject`` (who is concerned and
which fields were picked), ``disclosure_event`` (the timeline). Written consents for
third-party transfers (clause 5.1) are consent rows of the new purpose ``transfer`` (seeded
here; not asked on the public form) with the new ``consent.recipient`` column.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import dpa_panel.models.types
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UTC = dpa_panel.models.types.UTCDateTime(timezone=True)
_CHANNELS = "'post', 'email', 'courier', 'in_person', 'e_government', 'other'"


def _s(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "disclosure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", _s(24), nullable=False),
        sa.Column("kind", _s(16), nullable=False),
        sa.Column("status", _s(16), nullable=False),
        sa.Column("body_name", _s(300), nullable=False),
        sa.Column("body_department", _s(300), nullable=False),
        sa.Column("body_search", sa.Text(), server_default="", nullable=False),
        sa.Column("request_number", _s(100), nullable=False),
        sa.Column("request_date", sa.Date(), nullable=False),
        sa.Column("received_via", _s(16), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("legal_article", _s(200), nullable=False),
        sa.Column("answer_due_on", sa.Date(), nullable=False),
        sa.Column("recipient", _s(300), nullable=False),
        sa.Column("requested_categories", sa.Text(), nullable=False),
        sa.Column("justifications", sa.Text(), nullable=False),
        sa.Column("refusal_reason", sa.Text(), server_default="", nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("updated_at", _UTC, nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", _UTC, nullable=True),
        sa.Column("disclosed_by_id", sa.Integer(), nullable=True),
        sa.Column("disclosed_at", _UTC, nullable=True),
        sa.Column("sent_via", _s(16), nullable=False),
        sa.Column("package_format", _s(8), nullable=False),
        sa.Column("package_sha256", _s(64), nullable=False),
        sa.Column("package_rows", sa.Integer(), nullable=False),
        sa.Column("package_fields", sa.Text(), nullable=False),
        sa.CheckConstraint("kind IN ('authority', 'third_party')", name="ck_disclosure_kind"),
        sa.CheckConstraint(
            "status IN ('received', 'under_review', 'approved', 'disclosed', 'refused')",
            name="ck_disclosure_status",
        ),
        sa.CheckConstraint(f"received_via IN ({_CHANNELS})", name="ck_disclosure_received_via"),
        sa.CheckConstraint(
            f"sent_via = '' OR sent_via IN ({_CHANNELS})", name="ck_disclosure_sent_via"
        ),
        sa.CheckConstraint(
            "package_format = '' OR package_format IN ('csv', 'xlsx', 'pdf')",
            name="ck_disclosure_package_format",
        ),
        sa.ForeignKeyConstraint(["created_by_id"], ["staff_user.id"]),
        sa.ForeignKeyConstraint(["decided_by_id"], ["staff_user.id"]),
        sa.ForeignKeyConstraint(["disclosed_by_id"], ["staff_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reference"),
    )
    with op.batch_alter_table("disclosure", schema=None) as batch_op:
        batch_op.create_index("ix_disclosure_request_date", ["request_date", "id"], unique=False)
        batch_op.create_index("ix_disclosure_status_date", ["status", "request_date"], unique=False)
        batch_op.create_index("ix_disclosure_kind_date", ["kind", "request_date"], unique=False)

    with op.batch_alter_table("consent", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("recipient", sa.String(length=300), server_default="", nullable=False)
        )

    op.create_table(
        "disclosure_subject",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("disclosure_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("consent_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["disclosure_id"], ["disclosure.id"]),
        sa.ForeignKeyConstraint(["subject_id"], ["data_subject.id"]),
        sa.ForeignKeyConstraint(["consent_id"], ["consent.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("disclosure_id", "subject_id", name="uq_disclosure_subject"),
    )
    with op.batch_alter_table("disclosure_subject", schema=None) as batch_op:
        batch_op.create_index("ix_disclosure_subject_subject", ["subject_id"], unique=False)

    op.create_table(
        "disclosure_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("disclosure_id", sa.Integer(), nullable=False),
        sa.Column("at", _UTC, nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("kind", _s(16), nullable=False),
        sa.Column("from_status", _s(16), nullable=False),
        sa.Column("to_status", _s(16), nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.CheckConstraint(
            "kind IN ('created', 'selection', 'submitted', 'returned', 'approved', 'refused', "
            "'disclosed')",
            name="ck_disclosure_event_kind",
        ),
        sa.ForeignKeyConstraint(["disclosure_id"], ["disclosure.id"]),
        sa.ForeignKeyConstraint(["actor_id"], ["staff_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("disclosure_event", schema=None) as batch_op:
        batch_op.create_index(
            "ix_disclosure_event_disclosure", ["disclosure_id", "at"], unique=False
        )

    purpose = sa.table(
        "purpose",
        sa.column("code", sa.String),
        sa.column("sort_order", sa.Integer),
        sa.column("identifiable", sa.Boolean),
        sa.column("asked_on_form", sa.Boolean),
        sa.column("required_on_form", sa.Boolean),
    )
    op.bulk_insert(
        purpose,
        [
            dict(
                code="transfer",
                sort_order=6,
                identifiable=True,
                asked_on_form=False,
                required_on_form=False,
            )
        ],
    )


def downgrade() -> None:
    conn = op.get_bind()
    conn.execute(sa.text("DELETE FROM consent WHERE purpose_code = 'transfer'"))
    conn.execute(sa.text("DELETE FROM purpose WHERE code = 'transfer'"))
    with op.batch_alter_table("disclosure_event", schema=None) as batch_op:
        batch_op.drop_index("ix_disclosure_event_disclosure")
    op.drop_table("disclosure_event")
    with op.batch_alter_table("disclosure_subject", schema=None) as batch_op:
        batch_op.drop_index("ix_disclosure_subject_subject")
    op.drop_table("disclosure_subject")
    with op.batch_alter_table("consent", schema=None) as batch_op:
        batch_op.drop_column("recipient")
    with op.batch_alter_table("disclosure", schema=None) as batch_op:
        batch_op.drop_index("ix_disclosure_kind_date")
        batch_op.drop_index("ix_disclosure_status_date")
        batch_op.drop_index("ix_disclosure_request_date")
    op.drop_table("disclosure")
