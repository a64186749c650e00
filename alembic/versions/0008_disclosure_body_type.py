"""disclosure register: coded type of body and stored disclosure month (board chart)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-16 00:00:00.000000

The board chart "authority disclosures per quarter by type of body" (issue #9) needs the body
as a code, not as the free-text ``body_name``: ``disclosure.body_type`` (vocabulary
``DISCLOSURE_BODY_TYPES``; a transfer to a third party is exactly the kind whose type is
``third_party``). Existing authority requests become ``other_state`` (their type was never
recorded), transfers ``third_party``. Like 0007, the Almaty month of ``disclosed_at`` is stored
as ``disclosed_month`` (``YYYYMM``, ``models.types.almaty_month``), backfilled here, with a
covering index for the chart's ``GROUP BY``. Neither column is personal data.
"""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
import sqlmodel

from alembic import op
from dpa_panel.models.types import STATS_TZ, almaty_month

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Frozen copy of ``vocab.DISCLOSURE_BODY_TYPES`` at this revision.
BODY_TYPES = (
    "law_enforcement",
    "prosecutor",
    "court",
    "national_security",
    "tax",
    "financial_monitoring",
    "anti_corruption",
    "other_state",
    "third_party",
)
CHECK = "body_type IN ({}) AND ((kind = 'third_party') = (body_type = 'third_party'))".format(
    ", ".join(f"'{code}'" for code in BODY_TYPES)
)
#: table -> [(key column, source column, kind)], as in 0007; mirrored in the model.
MONTH_KEYS: dict[str, list[tuple[str, str, str]]] = {
    "disclosure": [("disclosed_month", "disclosed_at", "ts")],
}
INDEX = ("ix_stats_disclosure_disclosed", "disclosure",
         ["status", "kind", "disclosed_month", "body_type"])  # fmt: skip


def _sqlite_month_of_ts(value: str | None) -> int | None:
    # SQLite holds UTCDateTime as naive UTC text; almaty_month reads naive as UTC.
    return None if value is None else almaty_month(datetime.fromisoformat(value))


def _backfill(bind) -> None:
    """``disclosed_month`` of every row (the models' function on SQLite, SQL on PostgreSQL)."""
    if bind.dialect.name == "sqlite":
        raw = bind.connection.driver_connection
        raw.create_function("dpa_month_ts", 1, _sqlite_month_of_ts, deterministic=True)
        month = "dpa_month_ts(disclosed_at)"
    else:
        month = f"CAST(to_char((disclosed_at AT TIME ZONE '{STATS_TZ.key}'), 'YYYYMM') AS integer)"
    bind.execute(sa.text(f"UPDATE disclosure SET disclosed_month = {month}"))


def upgrade() -> None:
    with op.batch_alter_table("disclosure", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "body_type",
                sqlmodel.sql.sqltypes.AutoString(length=24),
                server_default="other_state",
                nullable=False,
            )
        )
        batch_op.add_column(sa.Column("disclosed_month", sa.Integer(), nullable=True))
    bind = op.get_bind()
    bind.execute(
        sa.text("UPDATE disclosure SET body_type = 'third_party' WHERE kind = 'third_party'")
    )
    _backfill(bind)
    with op.batch_alter_table("disclosure", schema=None) as batch_op:
        batch_op.create_check_constraint("ck_disclosure_body_type", sa.text(CHECK))
    name, table, columns = INDEX
    op.create_index(name, table, columns)


def downgrade() -> None:
    op.drop_index(INDEX[0], table_name=INDEX[1])
    with op.batch_alter_table("disclosure", schema=None) as batch_op:
        batch_op.drop_constraint("ck_disclosure_body_type", type_="check")
        batch_op.drop_column("disclosed_month")
        batch_op.drop_column("body_type")
