"""session-bound tickets and tab tokens (issue 15)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 00:00:00.000000

A login ticket is bound to the browser that logged in (``binding_hash``: the keyed hash of
that browser's ``dpa_browser`` cookie) and a download ticket to the login session that asked
for it (``login_session_id``); ``services.auth`` redeems a ticket only when the request
matches, so nobody else can redeem it or use it up.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("one_time_ticket", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("binding_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.add_column(sa.Column("login_session_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_one_time_ticket_login_session", "login_session", ["login_session_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("one_time_ticket", schema=None) as batch_op:
        batch_op.drop_constraint("fk_one_time_ticket_login_session", type_="foreignkey")
        batch_op.drop_column("login_session_id")
        batch_op.drop_column("binding_hash")
