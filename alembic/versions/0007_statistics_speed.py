"""stored Almaty month keys and covering indexes for the board statistics

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-09 00:00:00.000000

``services/statistics.py`` buckets timestamps into Asia/Almaty calendar months. Computing the
month of every row at query time (a time-zone conversion per row) dominated the dashboard, so
the month is stored next to each timestamp the charts bucket by, as an integer ``YYYYMM``
(``dpa_panel.models.types.almaty_month``), with ``decision_days`` (whole days from submission
to decision) for the median. The models keep the keys on every write (ORM listeners, Core
column defaults); this revision adds the columns, fills them for existing rows and creates
indexes that make each chart's ``GROUP BY`` an index-only scan. The keys are months and day
counts, not personal data.
"""

from collections.abc import Sequence
from datetime import date, datetime

import sqlalchemy as sa

from alembic import op
from dpa_panel.models.types import STATS_TZ, almaty_month, whole_days

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: table -> [(key column, source column, kind)]; kind: "ts" an aware timestamp (its Almaty
#: month), "date" a calendar date (its own month). Mirrored in the models.
MONTH_KEYS: dict[str, list[tuple[str, str, str]]] = {
    "data_subject": [
        ("created_month", "created_at", "ts"),
        ("destruction_due_month", "destruction_due_at", "ts"),
    ],
    "membership_application": [
        ("submitted_month", "submitted_at", "ts"),
        ("decided_month", "decided_at", "ts"),
    ],
    "member": [("since_month", "since", "date"), ("ended_month", "ended_at", "ts")],
    "consent": [
        ("granted_month", "granted_at", "ts"),
        ("withdrawn_month", "withdrawn_at", "ts"),
    ],
    "subject_request": [("received_month", "received_at", "ts")],
    "destruction_act": [("destroyed_month", "destroyed_at", "ts")],
}

#: (index name, table, columns) — mirrored in the models' ``__table_args__``.
INDEXES = [
    (
        "ix_stats_subject_category",
        "data_subject",
        ["workplace_category", "position_level", "education_level", "created_month", "id"],
    ),
    ("ix_stats_subject_destruction_due", "data_subject", ["destruction_due_month"]),
    ("ix_stats_application_submitted", "membership_application", ["submitted_month", "status"]),
    (
        "ix_stats_application_decided",
        "membership_application",
        ["decided_month", "decision_days", "decision"],
    ),
    ("ix_stats_member_subject", "member", ["subject_id", "since_month", "ended_month"]),
    ("ix_stats_member_since", "member", ["since_month"]),
    ("ix_stats_member_ended", "member", ["ended_month"]),
    (
        "ix_stats_consent_stock",
        "consent",
        ["purpose_code", "subject_id", "granted_month", "withdrawn_month"],
    ),
    ("ix_stats_consent_withdrawn", "consent", ["withdrawn_month", "purpose_code"]),
    ("ix_stats_request_received", "subject_request", ["received_month", "status"]),
    ("ix_stats_destruction_act_month", "destruction_act", ["destroyed_month"]),
]


def _sqlite_timestamp(value: str | None) -> datetime | None:
    # SQLite holds UTCDateTime as naive UTC text; almaty_month/whole_days read naive as UTC.
    return None if value is None else datetime.fromisoformat(value)


def _sqlite_month_of_ts(value: str | None) -> int | None:
    return almaty_month(_sqlite_timestamp(value))


def _sqlite_month_of_date(value: str | None) -> int | None:
    return None if value is None else almaty_month(date.fromisoformat(value[:10]))


def _sqlite_whole_days(start: str | None, end: str | None) -> int | None:
    return whole_days(_sqlite_timestamp(start), _sqlite_timestamp(end))


def _backfill(bind) -> None:
    if bind.dialect.name == "sqlite":
        # The very functions the models use, registered on this connection.
        raw = bind.connection.driver_connection
        raw.create_function("dpa_month_ts", 1, _sqlite_month_of_ts, deterministic=True)
        raw.create_function("dpa_month_date", 1, _sqlite_month_of_date, deterministic=True)
        raw.create_function("dpa_whole_days", 2, _sqlite_whole_days, deterministic=True)

        def month(col: str, kind: str) -> str:
            return f"dpa_month_{kind}({col})"

        days = "dpa_whole_days(submitted_at, decided_at)"
    else:
        tz = STATS_TZ.key

        def month(col: str, kind: str) -> str:
            local = col if kind == "date" else f"({col} AT TIME ZONE '{tz}')"
            return f"CAST(to_char({local}, 'YYYYMM') AS integer)"

        days = "CAST(floor(extract(epoch FROM decided_at - submitted_at) / 86400) AS integer)"
    for table, keys in MONTH_KEYS.items():
        sets = [f"{key} = {month(col, kind)}" for key, col, kind in keys]
        if table == "membership_application":
            sets.append(f"decision_days = {days}")
        bind.execute(sa.text(f"UPDATE {table} SET {', '.join(sets)}"))


def upgrade() -> None:
    for table, keys in MONTH_KEYS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for key, _col, _kind in keys:
                batch_op.add_column(sa.Column(key, sa.Integer(), nullable=True))
            if table == "membership_application":
                batch_op.add_column(sa.Column("decision_days", sa.Integer(), nullable=True))
    _backfill(op.get_bind())
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    for table, keys in MONTH_KEYS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            if table == "membership_application":
                batch_op.drop_column("decision_days")
            for key, _col, _kind in reversed(keys):
                batch_op.drop_column(key)
