"""privacy centre: one-time codes, subject sessions, access packages (issue 20)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 00:00:00.000000

- ``subject_code``: 6-digit e-mail codes of /my (digests only), 10 minutes, 5 tries.
- ``subject_session``: the data subject's own session (ticket, then cookie digest).
- ``access_package``: the subject report of an online access request, released by the officer.
- ``ix_subject_email_lower``: /my finds a person by address case-insensitively (an index
  search instead of a scan of every subject).
- ``subject_request.channel`` gains ``online`` (made in the privacy centre);
  ``consent.withdrawal_channel`` gains ``online`` and ``link`` (the unsubscribe link).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import dpa_panel.models.types
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Frozen copies of the vocabularies at this revision.
OLD_REQUEST_CHANNELS = ("email", "paper", "in_person", "web_form")
REQUEST_CHANNELS = OLD_REQUEST_CHANNELS + ("online",)
CONSENT_CHANNELS = ("web_form", "paper", "email", "in_person")
WITHDRAWAL_CHANNELS = CONSENT_CHANNELS + ("online", "link")

UTC = dpa_panel.models.types.UTCDateTime(timezone=True)


def _in(column: str, values) -> str:
    return "{} IN ({})".format(column, ", ".join(f"'{v}'" for v in values))


def _string(length: int):
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def _set_channels(request_channels, withdrawal_channels) -> None:
    with op.batch_alter_table("subject_request", schema=None) as batch_op:
        batch_op.drop_constraint("ck_request_channel", type_="check")
        batch_op.create_check_constraint(
            "ck_request_channel", sa.text(_in("channel", request_channels))
        )
    with op.batch_alter_table("consent", schema=None) as batch_op:
        batch_op.drop_constraint("ck_consent_withdrawal_channel", type_="check")
        batch_op.create_check_constraint(
            "ck_consent_withdrawal_channel",
            sa.text("withdrawal_channel IS NULL OR "
                    + _in("withdrawal_channel", withdrawal_channels)),
        )  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "subject_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email_hash", _string(64), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("code_hash", _string(64), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("expires_at", UTC, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("used_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(["subject_id"], ["data_subject.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_subject_code_email", "subject_code", ["email_hash", "created_at"])
    op.create_table(
        "subject_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("ticket_hash", _string(64), nullable=True),
        sa.Column("ticket_expires_at", UTC, nullable=True),
        sa.Column("browser_hash", _string(64), nullable=False),
        sa.Column("token_hash", _string(64), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("last_seen_at", UTC, nullable=False),
        sa.Column("ended_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(["subject_id"], ["data_subject.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ticket_hash"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_subject_session_subject_id", "subject_session", ["subject_id"])
    op.create_table(
        "access_package",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("report", sa.Text(), nullable=False),
        sa.Column("prepared_at", UTC, nullable=False),
        sa.Column("released_at", UTC, nullable=True),
        sa.Column("released_by_id", sa.Integer(), nullable=True),
        sa.Column("expires_at", UTC, nullable=True),
        sa.Column("downloads", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["subject_request.id"]),
        sa.ForeignKeyConstraint(["subject_id"], ["data_subject.id"]),
        sa.ForeignKeyConstraint(["released_by_id"], ["staff_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_id"),
    )
    op.create_index("ix_access_package_subject_id", "access_package", ["subject_id"])
    _set_channels(REQUEST_CHANNELS, WITHDRAWAL_CHANNELS)
    op.create_index("ix_subject_email_lower", "data_subject", [sa.text("lower(email)")])


def downgrade() -> None:
    bind = op.get_bind()
    op.drop_index("ix_subject_email_lower", table_name="data_subject")
    # The older schema knows neither channel: an online request reads as a web-form one, a
    # withdrawal by link or in the privacy centre as one by e-mail.
    bind.execute(sa.text("UPDATE subject_request SET channel = 'web_form' "
                         "WHERE channel = 'online'"))  # fmt: skip
    bind.execute(sa.text("UPDATE consent SET withdrawal_channel = 'email' "
                         "WHERE withdrawal_channel IN ('online', 'link')"))  # fmt: skip
    _set_channels(OLD_REQUEST_CHANNELS, CONSENT_CHANNELS)
    op.drop_index("ix_access_package_subject_id", table_name="access_package")
    op.drop_table("access_package")
    op.drop_index("ix_subject_session_subject_id", table_name="subject_session")
    op.drop_table("subject_session")
    op.drop_index("ix_subject_code_email", table_name="subject_code")
    op.drop_table("subject_code")
