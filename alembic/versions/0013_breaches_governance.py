"""breach register and organisation profile (issue 17)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 00:00:00.000000

- ``organisation_profile``: the one row (id 1, created empty) that names the operator, its BIN,
  address, the e-mail for data-protection requests and withdrawals (policy clause 7.1), the
  person responsible for organising processing and the authorised body's contact.
- ``breach`` and ``breach_subject``: the personal-data breach register, the notification of the
  authorised body (due one working day after detection) and of the people affected.
- ``data_inventory``: approved editions of the list of personal data and processing register.
- ``disclosure.operator``: the operator block frozen when a package is disclosed (NULL for the
  packages sent before, which keep rebuilding without it).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import dpa_panel.models.types
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Frozen copies of the vocabularies at this revision.
STATUSES = ("open", "closed")
AUTHORITY_CHANNELS = ("e_government", "email", "post", "in_person", "other")
SUBJECT_CHANNELS = ("email", "letter")


def _in(column: str, values) -> str:
    return "{} IN ({})".format(column, ", ".join(f"'{v}'" for v in values))


def _s(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def _text(name: str) -> sa.Column:
    return sa.Column(name, sa.Text(), server_default="", nullable=False)


def upgrade() -> None:
    op.create_table(
        "organisation_profile",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name_kk", _s(300), nullable=False),
        sa.Column("name_ru", _s(300), nullable=False),
        sa.Column("name_en", _s(300), nullable=False),
        sa.Column("bin", _s(12), nullable=False),
        sa.Column("address", _s(500), nullable=False),
        sa.Column("dp_email", _s(254), nullable=False),
        sa.Column("responsible_user_id", sa.Integer(), nullable=True),
        sa.Column("responsible_contact", _s(300), nullable=False),
        sa.Column("authority_name", _s(300), nullable=False),
        sa.Column("authority_contact", _s(500), nullable=False),
        sa.Column("updated_at", dpa_panel.models.types.UTCDateTime(), nullable=True),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("id = 1", name="ck_organisation_profile_single"),
        sa.ForeignKeyConstraint(["responsible_user_id"], ["staff_user.id"]),
        sa.ForeignKeyConstraint(["updated_by_id"], ["staff_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(
        sa.table("organisation_profile", *(sa.column(c) for c in (
            "id", "name_kk", "name_ru", "name_en", "bin", "address", "dp_email",
            "responsible_contact", "authority_name", "authority_contact",
        ))),  # fmt: skip
        [{"id": 1, "name_kk": "", "name_ru": "", "name_en": "", "bin": "", "address": "",
          "dp_email": "", "responsible_contact": "", "authority_name": "",
          "authority_contact": ""}],
    )  # fmt: skip
    op.create_table(
        "breach",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", _s(20), nullable=False),
        sa.Column("detected_at", dpa_panel.models.types.UTCDateTime(), nullable=False),
        sa.Column("detected_by", _s(200), nullable=False),
        _text("description"),
        sa.Column("data_categories", _s(500), nullable=False),
        sa.Column("subjects_estimate", sa.Integer(), nullable=True),
        sa.Column("systems", _s(500), nullable=False),
        _text("cause"),
        _text("containment"),
        _text("risk_assessment"),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("status", _s(8), nullable=False),
        sa.Column("authority_notified_at", dpa_panel.models.types.UTCDateTime(), nullable=True),
        sa.Column("authority_channel", _s(16), nullable=False),
        sa.Column("authority_reference", _s(200), nullable=False),
        sa.Column("closed_at", dpa_panel.models.types.UTCDateTime(), nullable=True),
        _text("lessons_learned"),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", dpa_panel.models.types.UTCDateTime(), nullable=False),
        sa.CheckConstraint(_in("status", STATUSES), name="ck_breach_status"),
        sa.CheckConstraint(
            "authority_channel = '' OR " + _in("authority_channel", AUTHORITY_CHANNELS),
            name="ck_breach_authority_channel",
        ),
        sa.ForeignKeyConstraint(["created_by_id"], ["staff_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reference"),
    )
    op.create_index("ix_breach_status_due", "breach", ["status", "due_date"])
    op.create_table(
        "breach_subject",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("breach_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("added_at", dpa_panel.models.types.UTCDateTime(), nullable=False),
        sa.Column("notified_at", dpa_panel.models.types.UTCDateTime(), nullable=True),
        sa.Column("notified_channel", _s(8), nullable=False),
        sa.Column("notified_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "notified_channel = '' OR " + _in("notified_channel", SUBJECT_CHANNELS),
            name="ck_breach_subject_channel",
        ),
        sa.ForeignKeyConstraint(["breach_id"], ["breach.id"]),
        sa.ForeignKeyConstraint(["subject_id"], ["data_subject.id"]),
        sa.ForeignKeyConstraint(["notified_by_id"], ["staff_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("breach_id", "subject_id", name="uq_breach_subject"),
    )
    op.create_index("ix_breach_subject_subject", "breach_subject", ["subject_id"])
    op.create_table(
        "data_inventory",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("sha256", _s(64), nullable=False),
        sa.Column("approved_by_id", sa.Integer(), nullable=False),
        sa.Column("approved_at", dpa_panel.models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["approved_by_id"], ["staff_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("version"),
    )
    with op.batch_alter_table("disclosure") as batch_op:
        batch_op.add_column(sa.Column("operator", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("disclosure") as batch_op:
        batch_op.drop_column("operator")
    op.drop_table("data_inventory")
    op.drop_index("ix_breach_subject_subject", table_name="breach_subject")
    op.drop_table("breach_subject")
    op.drop_index("ix_breach_status_due", table_name="breach")
    op.drop_table("breach")
    op.drop_table("organisation_profile")
